import { createServer, type IncomingMessage, type Server } from 'node:http';
import {
  createLeaderboard,
  createPeriodicLeaderboard,
  InvalidArgumentError,
  type RedisConnection,
} from '@redis-patterns/leaderboard';

/** A game's leaderboards: best score per player, ties share a rank, earlier achiever first. */
export function createGameApi(redis: RedisConnection, game = 'arcade'): Server {
  const options = {
    redis,
    name: game,
    updatePolicy: 'best',
    ties: 'competition',
    tieBreak: 'earlier-first',
  } as const;
  const allTime = createLeaderboard<{ nick: string }>(options);
  const weekly = createPeriodicLeaderboard<{ nick: string }>({ ...options, cycle: 'weekly', keepCycles: 4 });

  return createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    try {
      // POST /scores { player, nick, score }: a finished run, kept if it is the player's best.
      if (req.method === 'POST' && url.pathname === '/scores') {
        const { player, nick, score } = (await readJson(req)) as {
          player: string;
          nick: string;
          score: number;
        };
        await Promise.all([
          allTime.submit(player, score, { data: { nick } }),
          weekly.submit(player, score, { data: { nick } }),
        ]);
        return send(201, await allTime.entry(player));
      }
      // GET /top?board=weekly: the top 10 with names.
      if (req.method === 'GET' && url.pathname === '/top') {
        const board = url.searchParams.get('board') === 'weekly' ? weekly.current() : allTime;
        return send(200, await board.top(10, { withData: true }));
      }
      // GET /players/:id: my rank, and 3 neighbours each side in one round trip.
      const player = /^\/players\/([^/]+)$/.exec(url.pathname)?.[1];
      if (req.method === 'GET' && player !== undefined) {
        const id = decodeURIComponent(player);
        const me = await allTime.entry(id);
        if (me === null) return send(404, { error: `no score for ${id}` });
        return send(200, { me, around: await allTime.around(id, 3, { fillBorders: true, withData: true }) });
      }
      return send(404, { error: 'not found' });
    } catch (err) {
      // Bad input is refused before anything is written, with the argument at fault named.
      if (err instanceof InvalidArgumentError) return send(400, { error: err.message });
      return send(503, { error: 'leaderboard unavailable' });
    }
  });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let body = '';
  for await (const chunk of req) body += chunk;
  try {
    return JSON.parse(body);
  } catch {
    throw new InvalidArgumentError('body', 'expected JSON like {"player":"u1","nick":"ada","score":100}.');
  }
}
