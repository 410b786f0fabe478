import { InvalidArgumentError, type RedisConnection } from '@redis-patterns/connection';
import { scanKeys } from './commands/inspect.js';

/** A key found by the SCAN, and whether it is a read/write lock's readers key. */
export interface Candidate {
  key: string;
  viaReaders: boolean;
}

/**
 * The SCAN phases, after the base pattern `<prefix>{*}`: phase 0 finds held mutexes (their owner
 * key) and semaphores (their holders key), phase 1 the `:readers` and `:writer` keys of read/write
 * locks and nothing else of the layout (not `:fence`, `:waiters`, `:queue`, `:marks`, `:intents`),
 * so every key listed is one that exists only while a grant does.
 */
const phases = (base: string) => [base, `${base}:[rw][er][ai][dt]er*`];

/** Where `list()` goes on: the phase, and the connection's SCAN page cursor within it. */
interface ListCursor {
  phase: number;
  inner: string | undefined;
}

/**
 * Up to `count` keys of held names from where `cursor` left off, and the cursor after them
 * (undefined once every phase has been scanned on every master). Throws InvalidArgumentError for a
 * cursor `list()` did not return.
 */
export async function scanCandidates(
  conn: RedisConnection,
  base: string,
  cursor: string | undefined,
  count: number,
): Promise<{ candidates: Candidate[]; cursor: string | undefined }> {
  const patterns = phases(base);
  let { phase, inner } = cursor === undefined ? { phase: 0, inner: undefined } : decodeCursor(cursor);
  const candidates: Candidate[] = [];
  while (phase < patterns.length && candidates.length < count) {
    const page = await scanKeys(conn, patterns[phase] as string, {
      cursor: inner,
      count: count - candidates.length,
    });
    for (const key of page.keys)
      candidates.push({ key, viaReaders: phase === 1 && key.endsWith(':readers') });
    inner = page.cursor;
    if (inner === undefined) phase++;
    // A short page with a cursor used up its SCAN calls: the next page goes on from there.
    else if (candidates.length < count) break;
  }
  return { candidates, cursor: phase < patterns.length ? encodeCursor({ phase, inner }) : undefined };
}

const badCursor = () =>
  new InvalidArgumentError(
    'cursor',
    'expected the cursor of an earlier list() page; leave it out to start from the beginning.',
  );

function encodeCursor(cursor: ListCursor): string {
  return Buffer.from(JSON.stringify([cursor.phase, cursor.inner ?? null])).toString('base64url');
}

/** The cursor's state, or {@link InvalidArgumentError} if it is not one `list()` returned. */
export function decodeCursor(cursor: unknown): ListCursor {
  if (typeof cursor !== 'string' || cursor.length === 0) throw badCursor();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor();
  }
  const [phase, inner] = Array.isArray(parsed) ? parsed : [];
  if ((phase !== 0 && phase !== 1) || (inner !== null && typeof inner !== 'string')) throw badCursor();
  return { phase, inner: inner ?? undefined };
}
