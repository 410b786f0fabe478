import { InvalidArgumentError } from './errors.js';
import type { ConnectionOptions } from './types.js';

/** One Redis address. */
export interface RedisAddress {
  /** Host name or IP address (IPv6 without brackets). */
  host: string;
  /** TCP port. */
  port: number;
}

/** Where and how to connect, after parsing a URL and merging explicit options. */
export interface ParsedRedisUrl {
  /** `cluster` with `?cluster=true`, `sentinel` with `?sentinelMaster=`, else `standalone`. */
  topology: 'standalone' | 'cluster' | 'sentinel';
  /** True for `rediss://`. */
  tls: boolean;
  /** The server, the Cluster seed nodes, or the sentinels. */
  hosts: RedisAddress[];
  /** ACL user name. */
  username?: string;
  /** Password (of the ACL user, or of the default user). */
  password?: string;
  /** Database number from the path. */
  database?: number;
  /** Sentinel master group name (`?sentinelMaster=mymaster`). */
  sentinelMaster?: string;
}

const DEFAULT_PORT = 6379;

/**
 * Parses `redis://` and `rediss://` URLs, with an ACL user and password, a database number, and
 * several comma-separated hosts for a Cluster (`?cluster=true`) or Sentinel
 * (`?sentinelMaster=name`, hosts are the sentinels).
 *
 * @example
 * ```ts
 * parseRedisUrl('rediss://app:s3cret@cache.internal:6380/2')
 * parseRedisUrl('redis://10.0.0.1:7000,10.0.0.2:7000?cluster=true')
 * ```
 */
export function parseRedisUrl(url: string): ParsedRedisUrl {
  if (typeof url !== 'string' || url.trim() === '') {
    throw new InvalidArgumentError('url', 'expected a non-empty redis:// or rediss:// URL.');
  }
  const match = /^(rediss?):\/\/(?:([^@/?#]*)@)?([^/?#]*)(?:\/([^?#]*))?(?:\?([^#]*))?$/.exec(url.trim());
  if (match === null) {
    throw new InvalidArgumentError('url', `"${redact(url)}" is not a redis:// or rediss:// URL.`);
  }
  const [, scheme, userinfo, hostlist = '', path = '', query = ''] = match;
  const parsed: ParsedRedisUrl = {
    topology: 'standalone',
    tls: scheme === 'rediss',
    hosts: hostlist === '' ? [{ host: '127.0.0.1', port: DEFAULT_PORT }] : hostlist.split(',').map(parseHost),
  };
  if (userinfo !== undefined && userinfo !== '') {
    const colon = userinfo.indexOf(':');
    const user = decodeUserinfo(colon === -1 ? userinfo : userinfo.slice(0, colon));
    if (colon === -1) parsed.password = user;
    else {
      if (user !== '') parsed.username = user;
      parsed.password = decodeUserinfo(userinfo.slice(colon + 1));
    }
  }
  if (path !== '') {
    if (!/^\d+$/.test(path))
      throw new InvalidArgumentError('url', `database "${path}" must be a whole number.`);
    parsed.database = Number(path);
  }
  const params = new URLSearchParams(query);
  const sentinelMaster = params.get('sentinelMaster');
  if (params.get('cluster') === 'true' || params.get('cluster') === '1') parsed.topology = 'cluster';
  else if (sentinelMaster !== null && sentinelMaster !== '') {
    parsed.topology = 'sentinel';
    parsed.sentinelMaster = sentinelMaster;
  }
  if (parsed.topology === 'standalone' && parsed.hosts.length > 1) {
    throw new InvalidArgumentError(
      'url',
      'several hosts need ?cluster=true (Cluster nodes) or ?sentinelMaster=NAME (sentinels).',
    );
  }
  return parsed;
}

function decodeUserinfo(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new InvalidArgumentError(
      'url',
      'the user or password has a malformed %-escape; percent-encode reserved characters.',
    );
  }
}

function parseHost(part: string): RedisAddress {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d+))?$/.exec(part);
  if (m === null || m[1] === undefined) {
    throw new InvalidArgumentError('url', `"${part}" is not a host or host:port.`);
  }
  const port = m[2] === undefined ? DEFAULT_PORT : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidArgumentError('url', `port ${m[2]} is outside 1-65535.`);
  }
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

/**
 * The URL with its whole userinfo replaced, for error messages and logs: `redis://pw@host` holds
 * a password without a colon, so no part of the userinfo is safe to show. Everything up to the
 * last `@` goes: a password a user did not percent-encode may hold `/`, `?`, `#`, `@` or spaces,
 * and hiding a host now and then is better than showing a password.
 */
export function redact(url: string): string {
  return url.replace(/\/\/.*@/s, '//***@');
}

/** Throws unless `value` is a finite number in range; `name` is the option at fault. */
export function checkDuration(
  name: string,
  value: number | undefined,
  { allowZero = false }: { allowZero?: boolean } = {},
): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new InvalidArgumentError(
      name,
      `expected a finite number of milliseconds ${allowZero ? '>= 0' : '> 0'}, got ${String(value)}.`,
    );
  }
}

/** Throws unless `value` is a whole number >= `min`. */
export function checkInteger(name: string, value: number | undefined, min: number): void {
  if (value === undefined) return;
  // Safe integers only: String(1e21) is "1e+21", which Redis refuses as an integer mid-script.
  if (!Number.isSafeInteger(value) || value < min) {
    throw new InvalidArgumentError(name, `expected a whole number >= ${min}, got ${String(value)}.`);
  }
}

/**
 * The rule for every options argument of every package: `undefined` means "all defaults", and so
 * does a field left out or `undefined`; `null`, an array or any other non-object, and a field that
 * is `null`, are refused with {@link InvalidArgumentError} before anything is sent (a `null` field
 * would otherwise fall back to its default without a word). Returns the options, or an empty object
 * for `undefined`. `name` is the argument (`options`, or a nested one such as `retry`); fields are
 * named bare under `options` and as `retry.timeoutMs` under a nested one.
 *
 * @example
 * ```ts
 * const opts = checkOptions('options', given, '{ ttlMs?, tags? }');
 * ```
 */
export function checkOptions<T extends object>(name: string, value: T | undefined, expected: string): T {
  if (value === undefined) return {} as T;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidArgumentError(name, `expected ${expected} or nothing, got ${describeValue(value)}.`);
  }
  for (const field in value) {
    if ((value as Record<string, unknown>)[field] === null) {
      const path = name === 'options' ? field : `${name}.${field}`;
      throw new InvalidArgumentError(path, 'is null; leave it out (or undefined) for the default.');
    }
  }
  return value;
}

/** Throws unless `value` is undefined or a boolean; `name` is the option at fault. */
export function checkBoolean(name: string, value: unknown): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new InvalidArgumentError(name, `expected true or false, got ${describeValue(value)}.`);
  }
  return value;
}

/** How a refused value is named in an error message. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `the string "${value.slice(0, 40)}"` : typeof value;
}

/** The options of send() and runScript(), checked on every command: the few checks they need, no loop. */
export function checkCommandOptions(opts: {
  key?: unknown;
  keys?: unknown;
  readonly?: unknown;
  timeoutMs?: number;
}): void {
  if (
    opts === null ||
    typeof opts !== 'object' ||
    opts.key === null ||
    opts.keys === null ||
    opts.readonly === null
  )
    checkOptions('options', opts, '{ key?, keys?, readonly?, timeoutMs? }');
  checkDuration('timeoutMs', opts.timeoutMs, { allowZero: true });
}

/** Checks every option of `connect()` before anything is opened. */
export function checkConnectionOptions(options: ConnectionOptions): void {
  checkOptions('reconnect', options.reconnect, '{ baseDelayMs?, maxDelayMs? }');
  checkOptions('tls', options.tls, 'TLS options');
  if (options.onError !== undefined && typeof options.onError !== 'function')
    throw new InvalidArgumentError('onError', 'expected a function.');
  checkDuration('connectTimeoutMs', options.connectTimeoutMs);
  checkDuration('commandTimeoutMs', options.commandTimeoutMs, { allowZero: true });
  checkDuration('reconnect.baseDelayMs', options.reconnect?.baseDelayMs);
  checkDuration('reconnect.maxDelayMs', options.reconnect?.maxDelayMs);
  checkInteger('sockets', options.sockets, 1);
  checkInteger('isolationPoolSize', options.isolationPoolSize, 1);
  checkInteger('blockingPoolSize', options.blockingPoolSize, 1);
  checkInteger('database', options.database, 0);
}

/**
 * Refuses an option under a name it no longer has, naming the new one (a renamed option would
 * otherwise be silently ignored, and its default used).
 */
export function checkRenamed(options: object | undefined, renamed: Record<string, string>, where = ''): void {
  if (options === undefined || options === null) return;
  for (const [old, now] of Object.entries(renamed)) {
    if (old in options) {
      throw new InvalidArgumentError(`${where}${old}`, `was renamed \`${where}${now}\`: pass that instead.`);
    }
  }
}
