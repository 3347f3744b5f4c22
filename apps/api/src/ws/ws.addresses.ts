// Open /ws sockets per client address (WS_MAX_CONNECTIONS_PER_IP): one address cannot hold every
// socket a replica can serve. The address is the one the HTTP side sees (req.ip): with TRUST_PROXY,
// the first X-Forwarded-For entry, otherwise the peer of the TCP connection.
import type { IncomingMessage } from 'node:http';

/** Close code for a socket past its address's limit: policy violation. */
export const CLOSE_TOO_MANY_FROM_ADDRESS = 1008;

/** The client address of an upgrade request, as Express's req.ip would give it. */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  const peer = req.socket.remoteAddress ?? '';
  if (!trustProxy) return peer;
  const header = req.headers['x-forwarded-for'];
  const first = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',')[0]?.trim();
  return first ? first.slice(0, 100) : peer;
}

/** Counts open sockets per address; an address with `max` open gets no more until one closes. */
export class AddressLimit {
  private readonly open = new Map<string, number>();
  private readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  /** Takes a place for `address`; false when it already holds `max` sockets. */
  acquire(address: string): boolean {
    const n = this.open.get(address) ?? 0;
    if (n >= this.max) return false;
    this.open.set(address, n + 1);
    return true;
  }

  release(address: string): void {
    const n = this.open.get(address) ?? 0;
    if (n <= 1) this.open.delete(address);
    else this.open.set(address, n - 1);
  }
}
