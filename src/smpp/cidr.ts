import { isIPv4, isIPv6 } from 'node:net';

/** One allowlist entry as 128-bit (IPv6 or IPv4-mapped) network + prefix. */
interface Net {
  bits: bigint;
  prefix: number; // out of 128
}

function ipv4ToBig(ip: string): bigint {
  let n = 0n;
  for (const part of ip.split('.')) n = (n << 8n) | BigInt(Number(part));
  return n;
}

function ipv6ToBig(ip: string): bigint {
  let text = ip;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  // A dotted IPv4 tail (::ffff:1.2.3.4) becomes two hextets.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = ipv4ToBig(tail);
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const h = head === '' ? [] : head.split(':');
  const r = rest === undefined ? [] : rest === '' ? [] : rest.split(':');
  const missing = 8 - h.length - r.length;
  const groups = rest === undefined ? h : [...h, ...Array<string>(missing).fill('0'), ...r];
  let n = 0n;
  for (const g of groups) n = (n << 16n) | BigInt(parseInt(g, 16));
  return n;
}

const V4_MAPPED = 0xffffn << 32n;

/** Parses an address to its 128-bit form; IPv4 becomes ::ffff:a.b.c.d so both families compare alike. */
function addressBits(ip: string): bigint | null {
  if (isIPv4(ip)) return V4_MAPPED | ipv4ToBig(ip);
  const bare = ip.includes('%') ? ip.slice(0, ip.indexOf('%')) : ip;
  if (isIPv6(bare)) return ipv6ToBig(bare);
  return null;
}

/** "::ffff:10.0.0.1" -> "10.0.0.1"; other addresses unchanged. For logs and session info. */
export function normalizeAddress(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m?.[1] ?? ip;
}

export class CidrError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CidrError';
  }
}

function parseEntry(entry: string): Net {
  const text = entry.trim();
  const slash = text.indexOf('/');
  const addr = slash >= 0 ? text.slice(0, slash) : text;
  const bits = addressBits(addr);
  if (bits === null) throw new CidrError(`not an IP address or CIDR: "${entry}"`);
  const v4 = isIPv4(addr);
  const max = v4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) throw new CidrError(`bad prefix length in "${entry}"`);
    prefix = Number(p);
  }
  const prefix128 = v4 ? prefix + 96 : prefix;
  return { bits: mask(bits, prefix128), prefix: prefix128 };
}

function mask(bits: bigint, prefix: number): bigint {
  if (prefix === 0) return 0n;
  const m = ((1n << BigInt(prefix)) - 1n) << BigInt(128 - prefix);
  return bits & m;
}

/** An IPv4/IPv6 allowlist. Bare addresses are /32 or /128; an empty list allows everyone. */
export class CidrAllowlist {
  private readonly nets: Net[];
  constructor(entries: readonly string[]) {
    this.nets = entries.map(parseEntry);
  }
  allows(ip: string): boolean {
    if (this.nets.length === 0) return true;
    const bits = addressBits(ip);
    if (bits === null) return false;
    for (const n of this.nets) if (mask(bits, n.prefix) === n.bits) return true;
    return false;
  }
}
