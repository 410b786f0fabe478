import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from './api.js';

/** Headers on every answer: no framing, no referrer, scripts and styles only from here. */
export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};
/** Largest request body read (a login or one write). */
const MAX_BODY_BYTES = 64 * 1024;

/** Writes a JSON answer, never cached. */
export function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(JSON.stringify(body));
}

/**
 * The JSON object of a POST: only `application/json` (a cross-site form cannot send that without
 * a preflight this handler never answers), at most MAX_BODY_BYTES. A body an app already parsed
 * (Express's `express.json()`) is taken as it is.
 */
export async function bodyOf(req: IncomingMessage): Promise<Record<string, unknown>> {
  const mediaType = (req.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    throw new HttpError(415, 'send the body as application/json.');
  }
  const parsed = (req as { body?: unknown }).body;
  if (parsed !== null && typeof parsed === 'object') return parsed as Record<string, unknown>;
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'request body too large.');
    chunks.push(chunk as Buffer);
  }
  try {
    const value = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value;
  } catch {
    // answered below
  }
  throw new HttpError(400, 'the body must be a JSON object.');
}
