// SSRF guard for per-job callback URLs. The check runs inside the DNS lookup the HTTP client uses
// to connect, so the address refused or allowed is the address actually connected to (no window
// between a check and a second resolution). IP literals never reach a lookup and are checked first.
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this" network
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, incl. cloud metadata 169.254.169.254
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['64:ff9b::', 96], // NAT64 of any v4 address
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
  ['fd00:ec2::', 32], // AWS metadata (inside fc00::/7 already; named for the record)
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/** An IPv4 address embedded in an IPv4-mapped or -compatible IPv6 address, else null. */
function embeddedV4(address: string): string | null {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|::ffff:0:|::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1]!;
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex) {
    const hi = Number.parseInt(hex[1]!, 16);
    const lo = Number.parseInt(hex[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return null;
}

/** True for loopback, private, link-local, metadata, CGNAT, unique-local and other non-public addresses. */
export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family === 6) {
    const v4 = embeddedV4(address);
    if (v4) return blocked.check(v4, 'ipv4');
    return blocked.check(address, 'ipv6');
  }
  return true; // not an address at all: refuse
}

export class SsrfRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SsrfRefused';
  }
}

/** URL host without IPv6 brackets, lower-cased. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

/**
 * Refuses a per-job callback URL before any connection when it cannot be valid: not http(s), or an
 * IP literal in a forbidden range (literals skip DNS, so the lookup guard never sees them).
 */
export function checkCallbackUrl(raw: string, allowedHosts: readonly string[]): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SsrfRefused('not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new SsrfRefused(`scheme ${url.protocol} refused`);
  const host = hostOf(url);
  if (allowedHosts.includes(host)) return url;
  if (isIP(host) && isForbiddenAddress(host)) throw new SsrfRefused(`address ${host} is not public`);
  return url;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `dns.lookup` replacement for the HTTP client: resolves every address of the host and fails
 * when any of them is forbidden (a host mixing public and private answers is refused whole), unless
 * the host is allowed.
 */
export function guardedLookup(allowedHosts: readonly string[]) {
  return function lookup(hostname: string, options: LookupOptions | LookupCallback, callback?: LookupCallback): void {
    const cb = (typeof options === 'function' ? options : callback)!;
    const opts: LookupOptions = typeof options === 'function' ? {} : options;
    const allOpts: LookupAllOptions = { ...opts, all: true };
    dnsLookup(hostname, allOpts, (err, addresses) => {
      if (err) return cb(err, []);
      const host = hostname.toLowerCase();
      if (!allowedHosts.includes(host)) {
        const bad = addresses.find((a) => isForbiddenAddress(a.address));
        if (bad) {
          const refused = new SsrfRefused(`${hostname} resolves to ${bad.address}, which is not public`);
          return cb(Object.assign(refused, { code: 'ERR_SSRF_REFUSED' }), []);
        }
      }
      if (!addresses.length)
        return cb(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
      if (opts.all) return cb(null, addresses);
      const first = addresses[0]!;
      cb(null, first.address, first.family);
    });
  };
}
