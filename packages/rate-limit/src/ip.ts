import { isIPv4, isIPv6 } from 'node:net';
import { InvalidArgumentError } from '@redis-patterns/connection';

/**
 * The rate-limit key of a client address: IPv4 as is, IPv4-mapped IPv6 (`::ffff:1.2.3.4`) as its
 * IPv4, and IPv6 reduced to its `/ipv6Subnet` network, because one subscriber usually controls a
 * whole /56 or /64 and could otherwise rotate through addresses to dodge a per-address limit.
 * Anything that is not an IP address is returned unchanged.
 *
 * @example
 * ```ts
 * ipKey('::ffff:10.0.0.7')              // '10.0.0.7'
 * ipKey('2001:db8:aa:bb01::1')          // '2001:db8:aa:bb00::/56'
 * ipKey('2001:db8:aa:bb01::1', false)   // '2001:db8:aa:bb01::1'
 * ```
 */
export function ipKey(address: string, ipv6Subnet: number | false = 56): string {
  if (typeof address !== 'string')
    throw new InvalidArgumentError('address', 'expected an IP address string.');
  if (ipv6Subnet !== false) checkSubnet(ipv6Subnet);
  const bare = address.split('%')[0] ?? address;
  if (isIPv4(bare) || !isIPv6(bare)) return bare;
  const hextets = expand(bare);
  if (hextets.slice(0, 5).every((h) => h === 0) && hextets[5] === 0xffff) {
    const [a, b] = [hextets[6] ?? 0, hextets[7] ?? 0];
    return `${a >> 8}.${a & 0xff}.${b >> 8}.${b & 0xff}`;
  }
  if (ipv6Subnet === false || ipv6Subnet >= 128) return bare;
  const masked = hextets.map((h, i) => {
    const bits = Math.min(16, Math.max(0, ipv6Subnet - i * 16));
    return bits === 0 ? 0 : h & ((0xffff << (16 - bits)) & 0xffff);
  });
  return `${compress(masked)}/${ipv6Subnet}`;
}

/** The eight 16-bit groups of a valid IPv6 address (with `::` and a dotted IPv4 tail expanded). */
function expand(address: string): number[] {
  let text = address.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted !== null) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((h) => parseInt(h, 16));
}

/** Canonical text (RFC 5952): the longest run of two or more zero groups becomes `::`. */
function compress(hextets: number[]): string {
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && hextets[j] === 0) j++;
    if (j - i > bestLength) {
      best = i;
      bestLength = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const hex = hextets.map((h) => h.toString(16));
  if (best === -1) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLength).join(':')}`;
}

/** Throws unless `subnet` is false or a whole number of bits from 1 to 128. */
export function checkSubnet(subnet: unknown): asserts subnet is number | false {
  if (
    subnet !== false &&
    !(Number.isInteger(subnet) && (subnet as number) >= 1 && (subnet as number) <= 128)
  ) {
    throw new InvalidArgumentError(
      'ipv6Subnet',
      `expected false or a prefix length from 1 to 128, got ${String(subnet)}.`,
    );
  }
}
