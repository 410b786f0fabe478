/**
 * Reference models of the four algorithms, written from their definitions and fed the server times
 * the real limiter reports, so a test can compare every decision. Times are microseconds since the
 * limiter's epoch (the same origin the script uses, so counter windows line up).
 */
export interface ModelDecision {
  allowed: boolean;
  remaining: number;
  resetMs: number;
  retryAfterMs: number;
}

export interface Model {
  decide(nowUs: number, cost: number): ModelDecision;
}

/** The log's model also says how many units are live at a time. */
export interface LogModel extends Model {
  live(nowUs: number): number;
}

const ms = (us: number) => Math.ceil(us / 1000);

/** At most `limit` units whose time is within the last `windowUs` (an entry at s counts while now < s + W). */
export function logModel(limit: number, windowUs: number): LogModel {
  const entries: number[] = [];
  return {
    live: (now) => entries.filter((s) => s > now - windowUs).length,
    decide(now, cost) {
      const live = entries.filter((s) => s > now - windowUs);
      if (live.length + cost <= limit) {
        for (let i = 0; i < cost; i++) entries.push(now);
        return {
          allowed: true,
          remaining: limit - live.length - cost,
          resetMs: ms(windowUs),
          retryAfterMs: 0,
        };
      }
      const mustLeave = live[live.length + cost - limit - 1] as number;
      return {
        allowed: false,
        remaining: limit - live.length,
        resetMs: ms((live.at(-1) as number) + windowUs - now),
        retryAfterMs: ms(mustLeave + windowUs - now),
      };
    },
  };
}

/** A window opens at the first admitted call after the previous one closed, and admits `limit` units. */
export function fixedModel(limit: number, windowUs: number): Model {
  let start = Number.NEGATIVE_INFINITY;
  let used = 0;
  return {
    decide(now, cost) {
      if (now >= start + windowUs) {
        start = now;
        used = 0;
      }
      const allowed = used + cost <= limit;
      if (allowed) used += cost;
      const left = start + windowUs - now;
      return {
        allowed,
        remaining: limit - used,
        resetMs: used > 0 ? ms(left) : 0,
        retryAfterMs: allowed ? 0 : ms(left),
      };
    },
  };
}

/** Counts per epoch-aligned window; the estimate weights the previous window by its share still in view. */
export function counterModel(limit: number, windowUs: number): Model {
  const counts = new Map<number, number>();
  return {
    decide(now, cost) {
      const index = Math.floor(now / windowUs);
      const elapsed = now - index * windowUs;
      let current = counts.get(index) ?? 0;
      const previous = counts.get(index - 1) ?? 0;
      let estimate = (previous * (windowUs - elapsed)) / windowUs + current;
      const allowed = estimate + cost <= limit;
      if (allowed) {
        current += cost;
        estimate += cost;
        counts.set(index, current);
      }
      const resetUs = current > 0 ? 2 * windowUs - elapsed : previous > 0 ? windowUs - elapsed : 0;
      let retryUs = 0;
      if (!allowed) {
        // Solve estimate(t) + cost <= limit for the earliest t, in this window or the next.
        retryUs =
          current + cost <= limit
            ? (1 - (limit - current - cost) / previous) * windowUs - elapsed
            : windowUs - elapsed + (current > limit - cost ? 1 - (limit - cost) / current : 0) * windowUs;
      }
      return {
        allowed,
        remaining: Math.max(0, Math.floor(limit - estimate)),
        resetMs: ms(resetUs),
        retryAfterMs: ms(retryUs),
      };
    },
  };
}

/** GCRA: a call is conforming if the theoretical arrival time after it is within burst × interval of now. */
export function gcraModel(burst: number, intervalUs: number): Model {
  let tat = Number.NEGATIVE_INFINITY;
  return {
    decide(now, cost) {
      const base = Math.max(tat, now);
      const after = base + cost * intervalUs;
      const capacity = burst * intervalUs;
      const allowed = after - now <= capacity + 0.5;
      if (allowed) tat = after;
      const held = Math.max(tat, now) - now;
      return {
        allowed,
        remaining: Math.floor((capacity - held + 0.5) / intervalUs),
        resetMs: ms(held),
        retryAfterMs: allowed ? 0 : ms(after - now - capacity),
      };
    },
  };
}
