import { isIP } from 'node:net';

/**
 * Allowlist entries are an IPv4/IPv6 address or a CIDR block. The CRD checks the same with CEL
 * `isIP()`/`isCIDR()`; zone suffixes ("%eth0") are refused by both.
 */
export function isIpOrCidr(entry: string): boolean {
  if (entry.includes('%')) return false;
  const slash = entry.indexOf('/');
  if (slash < 0) return isIP(entry) !== 0;
  const addr = entry.slice(0, slash);
  const prefix = entry.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(prefix)) return false;
  const family = isIP(addr);
  const bits = Number(prefix);
  if (family === 4) return bits <= 32;
  if (family === 6) return bits <= 128;
  return false;
}
