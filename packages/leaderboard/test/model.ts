import { seededRandom } from '@redis-patterns/testing';
import type {
  LeaderboardEntry,
  LeaderboardOrder,
  SubsetStanding,
  TieBreak,
  TieRule,
  UpdatePolicy,
} from '../src/index.ts';

export interface ModelOptions {
  order: LeaderboardOrder;
  updatePolicy: UpdatePolicy;
  ties: TieRule;
  tieBreak: TieBreak;
  keepTop?: number;
}

interface Held {
  score: number;
  /** Arrival order of the current score (earlier-first). */
  seq: number;
  data?: unknown;
}

/**
 * The reference model: a plain in-memory board written from the definitions in the README (not from
 * the scripts), applied in the same order as the commands reach Redis.
 */
export class BoardModel {
  readonly held = new Map<string, Held>();
  private seq = 0;
  /** Board order with data, recomputed after a write. */
  private cache: LeaderboardEntry[] | undefined;

  constructor(readonly options: ModelOptions) {}

  /** Negative when `a` comes first on the board. */
  private compare(a: [string, Held], b: [string, Held]): number {
    const sign = this.options.order === 'high-to-low' ? -1 : 1;
    if (a[1].score !== b[1].score) return sign * (a[1].score - b[1].score);
    if (this.options.tieBreak === 'earlier-first') return a[1].seq - b[1].seq;
    return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
  }

  private better(a: number, b: number): boolean {
    return this.options.order === 'high-to-low' ? a > b : a < b;
  }

  private put(member: string, score: number, data: unknown, hasData: boolean, accept: boolean): void {
    const old = this.held.get(member);
    if (!accept) return;
    const held: Held = old === undefined || old.score !== score ? { score, seq: ++this.seq } : { ...old };
    if (hasData) held.data = data;
    else if (old !== undefined && 'data' in old) held.data = old.data;
    this.held.set(member, held);
    this.cache = undefined;
  }

  submit(member: string, score: number, data?: unknown, hasData = data !== undefined): void {
    this.write(this.options.updatePolicy, member, score, data, hasData);
    this.trim();
  }

  increment(member: string, by: number, data?: unknown, hasData = data !== undefined): void {
    this.write('increment', member, by, data, hasData);
    this.trim();
  }

  submitMany(entries: Array<{ member: string; score: number; data?: unknown }>): void {
    for (const e of entries)
      this.write(this.options.updatePolicy, e.member, e.score, e.data, e.data !== undefined);
    this.trim();
  }

  remove(member: string): void {
    this.held.delete(member);
    this.cache = undefined;
  }

  private write(policy: UpdatePolicy, member: string, value: number, data: unknown, hasData: boolean): void {
    const old = this.held.get(member);
    if (policy === 'increment') this.put(member, (old?.score ?? 0) + value, data, hasData, true);
    else if (policy === 'best')
      this.put(member, value, data, hasData, old === undefined || this.better(value, old.score));
    else this.put(member, value, data, hasData, true);
  }

  private trim(): void {
    const keep = this.options.keepTop;
    if (keep === undefined) return;
    for (const [member] of this.sorted().slice(keep)) this.held.delete(member);
    this.cache = undefined;
  }

  sorted(): Array<[string, Held]> {
    return [...this.held.entries()].sort((a, b) => this.compare(a, b));
  }

  /** Every entry in board order, ranks by the definitions: ordinal position, dense, competition. */
  entries(withData = false): LeaderboardEntry[] {
    this.cache ??= this.compute();
    return withData ? this.cache.map((e) => ({ ...e })) : this.cache.map(({ data: _, ...e }) => e);
  }

  private compute(): LeaderboardEntry[] {
    return this.rankInOrder(
      this.sorted().map(([member, held]) => ({ member, score: held.score, data: held.data })),
    );
  }

  /** Ranks entries already in board order by the definitions: ordinal position, dense, competition. */
  private rankInOrder(list: Array<{ member: string; score: number; data?: unknown }>): LeaderboardEntry[] {
    const out: LeaderboardEntry[] = [];
    let distinctAbove = 0;
    let groupStart = 0;
    list.forEach(({ member, score, data }, i) => {
      const prev = list[i - 1];
      if (prev !== undefined && prev.score !== score) {
        distinctAbove++;
        groupStart = i; // everyone before the group has a strictly better score
      }
      const rank =
        this.options.ties === 'ordinal'
          ? i + 1
          : this.options.ties === 'competition'
            ? groupStart + 1
            : distinctAbove + 1;
      out.push({ member, score, rank, data });
    });
    return out;
  }

  /**
   * The board restricted to a set (and `member`): its entries in board order, ranked by the same
   * definitions among the set only; the best `top` and the window around `member`.
   */
  among(
    members: string[],
    options: { member?: string; radius?: number; fillBorders?: boolean; top?: number; withData?: boolean },
  ): SubsetStanding {
    const set = new Set(members);
    if (options.member !== undefined) set.add(options.member);
    const inSet = this.entries(true).filter((e) => set.has(e.member));
    const ranked = this.rankInOrder(inSet);
    const strip = (list: LeaderboardEntry[]) =>
      options.withData === true ? list : list.map(({ data: _, ...e }) => e);
    const window =
      options.member === undefined
        ? []
        : windowOf(ranked, options.member, options.radius ?? 0, options.fillBorders === true);
    return {
      count: ranked.length,
      top: strip(ranked.slice(0, options.top ?? 10)),
      entry: strip(window).find((e) => e.member === options.member) ?? null,
      around: strip(window),
    };
  }

  /** member -> the share of the board ranked strictly below it, in percent. */
  percentiles(): Map<string, number> {
    const all = this.entries();
    const result = new Map<string, number>();
    all.forEach((entry, i) => {
      let below = all.length - (i + 1);
      if (this.options.ties !== 'ordinal') {
        // Equal scores are not below: skip the rest of the member's group.
        let end = i;
        while (end + 1 < all.length && all[end + 1]?.score === entry.score) end++;
        below = all.length - (end + 1);
      }
      result.set(entry.member, (100 * below) / all.length);
    });
    return result;
  }

  around(member: string, radius: number, fillBorders: boolean, withData = false): LeaderboardEntry[] {
    return windowOf(this.entries(withData), member, radius, fillBorders);
  }

  atRank(rank: number): LeaderboardEntry | null {
    return this.entries().find((e) => e.rank === rank) ?? null;
  }

  scoreRange(min: number, max: number, limit?: number): LeaderboardEntry[] {
    const found = this.entries().filter((e) => e.score >= min && e.score <= max);
    return limit === undefined ? found : found.slice(0, limit);
  }
}

/** `member` and up to `radius` entries each side of it in `all`; with fillBorders, 2 * radius + 1 when `all` has them. */
function windowOf(
  all: LeaderboardEntry[],
  member: string,
  radius: number,
  fillBorders: boolean,
): LeaderboardEntry[] {
  const index = all.findIndex((e) => e.member === member);
  if (index === -1) return [];
  let lo = Math.max(0, index - radius);
  let hi = Math.min(all.length - 1, index + radius);
  if (fillBorders) {
    hi = lo + 2 * radius;
    if (hi > all.length - 1) {
      hi = all.length - 1;
      lo = Math.max(0, hi - 2 * radius);
    }
  }
  return all.slice(lo, hi + 1);
}

/** A small seeded PRNG so a failing combination can be replayed. */
export const random = seededRandom;
