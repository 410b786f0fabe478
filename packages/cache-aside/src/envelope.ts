import { InvalidArgumentError } from '@redis-patterns/connection';
import { losslessJson, type NamedSerializer } from './serializer.js';

/**
 * One cache entry as stored in ONE Redis string, so a hit is a single GET:
 *
 *   `C1` <header JSON array> `\n` <payload bytes>
 *
 * header = [createdMs, freshMs, staleMs, staleIfErrorMs, codec, tags, metadata?] where codec names the
 * serializer (or `raw:B` / `raw:U` for Buffer / Uint8Array stored byte for byte), tags is
 * `[[tag, version], ...]` or 0, and metadata is the lossless-JSON text of the user's metadata. `C1` is
 * the format version: anything else (or a header that does not parse) is a corrupt entry, read as a miss.
 */
export interface Envelope {
  createdMs: number;
  /** Fresh for this long after createdMs. */
  freshMs: number;
  /** Served stale (while one caller refreshes) until createdMs + freshMs + staleMs. */
  staleMs: number;
  /** Served when the loader throws until createdMs + freshMs + staleIfErrorMs. */
  staleIfErrorMs: number;
  codec: string;
  /** Tag versions the entry was written with; any change makes it a miss. */
  tags: Array<[string, string]> | undefined;
  metadata: unknown;
  /** Text when read as text; a Buffer when read as bytes (see {@link isBinaryCodec}). */
  payload: string | Buffer;
  /** Size as stored (characters for text reads, close to bytes). */
  bytes: number;
}

/** Payloads of these codecs are bytes: read the entry as a Buffer, not as text. */
export function isBinaryCodec(codec: string): boolean {
  return codec.startsWith('raw:') || codec.endsWith('/bin');
}

const MAGIC_0 = 0x43; // 'C'
const MAGIC_1 = 0x31; // '1'
const NEWLINE = 0x0a;

/** A value turned into bytes, validated, before any Redis call. */
export interface SerializedValue {
  codec: string;
  body: Uint8Array;
  metadata: string | undefined;
}

/** Serializes the value and metadata; throws InvalidArgumentError for values that cannot be stored. */
export function serializeValue(
  value: unknown,
  metadata: unknown,
  serializer: NamedSerializer,
): SerializedValue {
  const meta = metadata === undefined ? undefined : String(losslessJson.serialize(metadata));
  if (value instanceof Uint8Array)
    return { codec: Buffer.isBuffer(value) ? 'raw:B' : 'raw:U', body: value, metadata: meta };
  const payload = serializer.serialize(value);
  if (typeof payload === 'string')
    return { codec: serializer.name, body: Buffer.from(payload, 'utf8'), metadata: meta };
  return { codec: `${serializer.name}/bin`, body: payload, metadata: meta };
}

/** Builds the stored bytes; refuses anything above `maxBytes` (InvalidArgumentError). */
export function frameEnvelope(
  value: SerializedValue,
  meta: Pick<Envelope, 'createdMs' | 'freshMs' | 'staleMs' | 'staleIfErrorMs' | 'tags'>,
  maxBytes: number,
): Buffer {
  const header: unknown[] = [
    meta.createdMs,
    meta.freshMs,
    meta.staleMs,
    meta.staleIfErrorMs,
    value.codec,
    meta.tags ?? 0,
  ];
  if (value.metadata !== undefined) header.push(value.metadata);
  const head = Buffer.from(`C1${JSON.stringify(header)}\n`, 'utf8');
  const bytes = head.byteLength + value.body.byteLength;
  if (bytes > maxBytes) {
    throw new InvalidArgumentError(
      'value',
      `is ${bytes} bytes serialized; the limit (maxValueBytes) is ${maxBytes}. Cache a smaller value or raise the limit.`,
    );
  }
  return Buffer.concat([head, value.body]);
}

/** Parses a stored entry (text or bytes), or returns undefined for anything not a well-formed v1 entry. */
export function decodeEnvelope(raw: string | Buffer): Envelope | undefined {
  let headerText: string;
  let payload: string | Buffer;
  if (typeof raw === 'string') {
    if (raw.length < 4 || raw.charCodeAt(0) !== MAGIC_0 || raw.charCodeAt(1) !== MAGIC_1) return undefined;
    const newline = raw.indexOf('\n', 2);
    if (newline === -1) return undefined;
    headerText = raw.slice(2, newline);
    payload = raw.slice(newline + 1);
  } else {
    if (raw.length < 4 || raw[0] !== MAGIC_0 || raw[1] !== MAGIC_1) return undefined;
    const newline = raw.indexOf(NEWLINE, 2);
    if (newline === -1) return undefined;
    headerText = raw.toString('utf8', 2, newline);
    payload = raw.subarray(newline + 1);
  }
  let header: unknown;
  try {
    header = JSON.parse(headerText);
  } catch {
    return undefined;
  }
  if (!Array.isArray(header) || header.length < 6) return undefined;
  const [createdMs, freshMs, staleMs, staleIfErrorMs, codec, tags, metadata] = header as unknown[];
  if (
    typeof createdMs !== 'number' ||
    typeof freshMs !== 'number' ||
    typeof staleMs !== 'number' ||
    typeof staleIfErrorMs !== 'number' ||
    typeof codec !== 'string' ||
    !(tags === 0 || Array.isArray(tags))
  ) {
    return undefined;
  }
  let decodedMetadata: unknown;
  if (typeof metadata === 'string') {
    try {
      decodedMetadata = losslessJson.deserialize(metadata);
    } catch {
      return undefined;
    }
  }
  return {
    createdMs,
    freshMs,
    staleMs,
    staleIfErrorMs,
    codec,
    tags: tags === 0 ? undefined : (tags as Array<[string, string]>),
    metadata: decodedMetadata,
    payload,
    bytes: raw.length,
  };
}

/** The entry's value; throws on a payload its codec cannot read (callers treat that as corrupt). */
export function decodeValue(envelope: Envelope, serializer: NamedSerializer): unknown {
  const { codec, payload } = envelope;
  if (isBinaryCodec(codec) && typeof payload === 'string') throw new Error('binary entry read as text');
  if (codec === 'raw:B') return Buffer.from(payload);
  if (codec === 'raw:U') return new Uint8Array(payload as Buffer);
  if (codec !== serializer.name && codec !== `${serializer.name}/bin`) {
    throw new Error(`entry written by serializer "${codec}"`);
  }
  return serializer.deserialize(payload);
}

/** Where an entry stands at `now`. */
export function stateOf(envelope: Envelope, now: number): 'fresh' | 'stale' | 'error-only' | 'expired' {
  const freshUntil = envelope.createdMs + envelope.freshMs;
  if (now < freshUntil) return 'fresh';
  if (now < freshUntil + envelope.staleMs) return 'stale';
  if (now < freshUntil + envelope.staleIfErrorMs) return 'error-only';
  return 'expired';
}
