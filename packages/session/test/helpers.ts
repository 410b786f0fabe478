import { setTimeout as sleep } from 'node:timers/promises';

import type { RedisConnection } from '@redis-patterns/connection';
import { escapeGlob } from '@redis-patterns/connection';
import type { SessionData as ExpressSessionData } from 'express-session';
import { handleOf } from '../src/index.ts';

/** The Redis key of a session id under `prefix` (the layout documented in src/codec.ts). */
export function keyOf(prefix: string, id: string): string {
  return `${prefix}{${handleOf(id)}}`;
}

/** Every key under `prefix`, on every master. */
export async function keysUnder(redis: RedisConnection, prefix: string): Promise<string[]> {
  const found: string[] = [];
  for await (const key of redis.scan(`${escapeGlob(prefix)}*`)) found.push(key);
  return found.sort();
}

/** The Redis server's clock in ms, read on the node that owns `key`. */
export async function serverNow(redis: RedisConnection, key: string): Promise<number> {
  const [seconds, micros] = await redis.send<[string, string]>(['TIME'], { key });
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

export async function pttl(redis: RedisConnection, key: string): Promise<number> {
  return redis.send<number>(['PTTL', key], { key });
}

export async function hash(redis: RedisConnection, key: string): Promise<Record<string, string>> {
  const reply = await redis.send<unknown>(['HGETALL', key], { key });
  return { ...(reply as Record<string, string>) };
}

/** True when `key` holds no session: absent, or only the tombstone a destroy leaves behind. */
export async function noSession(redis: RedisConnection, key: string): Promise<boolean> {
  const fields = await hash(redis, key);
  return Object.keys(fields).every((name) => name === 'x');
}

/** The stored data of a session: property → serialized value (the `d` field, see src/codec.ts). */
export async function storedData(redis: RedisConnection, key: string): Promise<Record<string, string>> {
  return JSON.parse((await hash(redis, key)).d ?? '{}');
}

/** A minimal browser: one cookie jar per instance, fetch against a loopback base URL. */
export class Browser {
  cookies = new Map<string, string>();

  constructor(readonly base: string) {}

  async request(method: string, path: string): Promise<{ status: number; body: any }> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(`${this.base}${path}`, { method, headers: cookie ? { cookie } : {} });
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const expired = attrs.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(eq + 1).trim());
    }
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  /** The session id inside a signed cookie (`s:<id>.<sig>` for express, `<id>.<sig>` for fastify). */
  sessionId(name: string): string | undefined {
    const raw = this.cookies.get(name);
    if (raw === undefined) return undefined;
    const value = decodeURIComponent(raw).replace(/^s:/, '');
    return value.slice(0, value.lastIndexOf('.'));
  }

  clone(): Browser {
    const copy = new Browser(this.base);
    copy.cookies = new Map(this.cookies);
    return copy;
  }
}

export { sleep };

/** A session whose cookie has a maxAge, as express-session stores it. */
export const withMaxAge = (maxAge: number, extra: object = {}) =>
  ({
    cookie: { originalMaxAge: maxAge, expires: new Date(Date.now() + maxAge).toISOString(), path: '/' },
    ...extra,
  }) as unknown as ExpressSessionData;

/** When Redis expires `key` (ms since 1970). */
export function expiryAt(redis: RedisConnection, key: string): Promise<number> {
  return redis.send<number>(['PEXPIRETIME', key], { key });
}
