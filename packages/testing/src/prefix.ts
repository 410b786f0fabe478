import { randomBytes } from 'node:crypto';

/** A key prefix like `t:label:1a2b3c4d:` so test files sharing a server never collide on keys. */
export function uniquePrefix(label: string): string {
  return `t:${label}:${randomBytes(4).toString('hex')}:`;
}
