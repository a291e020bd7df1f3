// Refuses webhook targets inside the house: loopback, private, link-local and metadata addresses.
import { lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP } from 'node:net';

// node:net's BlockList checks IPv4-mapped IPv6 (::ffff:a.b.c.d) against the IPv4 rules too.
const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata (169.254.169.254)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) BLOCKED.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['::', 96], // IPv4-compatible (deprecated), e.g. ::127.0.0.1
  ['64:ff9b::', 96], // NAT64: an IPv4 address inside
  ['64:ff9b:1::', 48],
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local, includes fd00:ec2::254 (AWS metadata)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) BLOCKED.addSubnet(net, prefix, 'ipv6');

// Names that are internal whatever DNS says: refused before any lookup.
const BLOCKED_NAMES = new Set(['localhost', 'metadata.google.internal', 'metadata', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal']);

/** Whether an IP address (v4 or v6, as node:net writes them) is one a webhook may not reach. */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true; // not an address at all: refuse rather than guess
  return BLOCKED.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Why a webhook URL may not be registered, or null. Checks what is knowable without DNS: the
 * scheme, literal addresses (the URL parser has already turned decimal, hex and octal forms
 * such as 2130706433, 0x7f000001 and 0177.0.0.1 into dotted IPv4) and internal names.
 * Names that resolve to internal addresses are refused at delivery, after resolution.
 */
export function webhookTargetProblem(url: string, allowPrivate: boolean): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be a valid URL';
  }
  const allowed = allowPrivate ? ['https:', 'http:'] : ['https:'];
  if (!allowed.includes(parsed.protocol)) return `must be an ${allowed.join(' or ')} URL`;
  if (parsed.username || parsed.password) return 'must not carry credentials';
  if (allowPrivate) return null;
  const host = hostOf(parsed);
  if (isIP(host) !== 0) return isBlockedAddress(host) ? 'must not point to a loopback, private, link-local or metadata address' : null;
  const name = host.toLowerCase().replace(/\.$/, '');
  if (BLOCKED_NAMES.has(name) || name.endsWith('.localhost') || name.endsWith('.internal') || name.endsWith('.local')) {
    return 'must not point to an internal host name';
  }
  if (!name.includes('.')) return 'must be a fully qualified host name';
  return null;
}

/** The URL's host without IPv6 brackets. */
export function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/** A refusal to connect to an internal address; not worth retrying soon, but retried like any failure. */
export class BlockedTargetError extends Error {
  readonly code = 'EBLOCKEDTARGET';
  constructor(host: string, address: string) {
    super(`refused: ${host} resolves to ${address}, a loopback, private, link-local or metadata address`);
    this.name = 'BlockedTargetError';
  }
}

export interface LookupAddress {
  address: string;
  family: number;
}
type LookupAll = (hostname: string, cb: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;
const lookupAll: LookupAll = (hostname, cb) => dnsLookup(hostname, { all: true, verbatim: true }, cb);

/** The callback shape http.request's `lookup` option calls (single or all addresses). */
type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request that resolves every address of the name, refuses the whole
 * name if any is internal (a name with one public and one private address is a rebinding
 * trick), and hands the socket exactly the address it checked: there is no second lookup
 * for an attacker's DNS to answer differently.
 */
export function guardedLookup(allowPrivate: boolean, resolve: LookupAll = lookupAll) {
  return (hostname: string, options: { all?: boolean }, cb: LookupCallback): void => {
    resolve(hostname, (err, addresses) => {
      if (err) return cb(err, '', 0);
      if (addresses.length === 0) return cb(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
      if (!allowPrivate) {
        const bad = addresses.find((a) => isBlockedAddress(a.address));
        if (bad) return cb(new BlockedTargetError(hostname, bad.address), '', 0);
      }
      if (options.all) return cb(null, addresses);
      const first = addresses[0]!;
      cb(null, first.address, first.family);
    });
  };
}
