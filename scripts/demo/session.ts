import { createSessionStore } from '@redis-patterns/session';
import { type DemoScenario, expectThat } from './scenario.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const sessionTour: DemoScenario = {
  name: 'session',
  title: 'Session: refreshed reads, a new id on login, and "log out everywhere"',
  async run({ redis, log }) {
    const sessions = createSessionStore<{ cart: string[]; device?: string }>({
      redis,
      prefix: `demo:${process.pid}:session:`,
      idleTtlMs: 60_000,
      absoluteTtlMs: 5 * 60_000,
      touchAfterMs: 300,
    });

    const visit = await sessions.create({ cart: ['book'] });
    log(`A visitor gets session ${visit.id.slice(0, 8)}… (256 random bits; Redis stores only its SHA-256).`);
    log(`It ends after ${sessions.idleTtlMs / 1000} s without a request, and at the latest after 5 min.`);

    await sleep(400);
    const read = await sessions.get(visit.id);
    expectThat(read !== null, 'the new session could not be read');
    log(
      `A read ${400} ms later returns the cart [${read.data.cart.join(', ')}] and, in the same round trip, ` +
        `moves the idle expiry on by ${read.expiresAt - visit.expiresAt} ms.`,
    );
    expectThat(read.expiresAt > visit.expiresAt, 'the read did not slide the idle expiry');

    const signedIn = await sessions.regenerate(visit.id, { userId: 'ann', restartLifetime: true });
    expectThat(signedIn !== null, 'regenerate lost the session');
    const stale = await sessions.get(visit.id);
    log(
      `Ann signs in: the session moves to ${signedIn.id.slice(0, 8)}… with the same cart; ` +
        `the pre-login id now finds ${stale === null ? 'nothing' : 'a session (wrong!)'}.`,
    );
    expectThat(stale === null, 'the pre-login id still works after regenerate');
    expectThat(signedIn.data.cart[0] === 'book', 'the cart did not survive the login');

    const phone = await sessions.create({ cart: [], device: 'phone' }, { userId: 'ann' });
    const tablet = await sessions.create({ cart: [], device: 'tablet' }, { userId: 'ann' });
    const listed = await sessions.listForUser('ann');
    log(`Ann also signs in on a phone and a tablet: listForUser('ann') shows ${listed.length} sessions.`);
    expectThat(listed.length === 3, `listForUser found ${listed.length} sessions, expected 3`);

    const ended = await sessions.destroyAllForUser('ann', { except: signedIn.id });
    const phoneAfter = await sessions.get(phone.id);
    const tabletAfter = await sessions.get(tablet.id);
    const hereAfter = await sessions.get(signedIn.id);
    log(
      `"Log out everywhere else" ends ${ended} sessions: phone ${phoneAfter ? 'still in' : 'out'}, ` +
        `tablet ${tabletAfter ? 'still in' : 'out'}, this browser ${hereAfter ? 'still in' : 'out'}.`,
    );
    expectThat(ended === 2 && !phoneAfter && !tabletAfter && hereAfter !== null, 'revocation went wrong');

    await sessions.destroyAllForUser('ann');
    expectThat((await sessions.listForUser('ann')).length === 0, 'sessions were left after the demo');
  },
};
