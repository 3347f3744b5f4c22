// Who holds a TCP port: the listening socket's inode from /proc/net/tcp{,6}, the process whose
// file descriptors include it, and whether that process is a Ratewire service of some checkout.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { connect } from 'node:net';

import { cmdline, cwdOf } from './procs.ts';
import { BootstrapError } from './system.ts';

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export function tcpOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.setTimeout(1000);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(false));
  });
}

/** Inodes of sockets listening on `port`, from the text of /proc/net/tcp or tcp6. */
export function listeningInodes(procNetTcp: string, port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const out: string[] = [];
  for (const line of procNetTcp.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
    if (f.length < 10 || f[3] !== '0A') continue;
    if (f[1]?.split(':')[1] === hexPort && f[9]) out.push(f[9]);
  }
  return out;
}

export interface PortHolder {
  pid: number;
  command: string;
  cwd: string;
  /** Set when the holder is a Ratewire service: which one, and the checkout it belongs to. */
  ratewire?: { service: string; checkout: string };
}

/** The Ratewire service a command line belongs to: its data lives in `<checkout>/.data/<service>`. */
export function ratewireService(command: string, cwd: string): PortHolder['ratewire'] {
  for (const text of [command, cwd]) {
    const m = /(\/\S*?)\/\.data\/(postgres|redis|nats)\b/.exec(text);
    if (m?.[1] && m[2]) return { service: m[2], checkout: m[1] };
    const ext = /\/var\/lib\/ratewire\/checkouts\/(\S+?)\/(postgres)\b/.exec(text);
    if (ext?.[1] && ext[2]) return { service: ext[2], checkout: readCheckoutOf(ext[1]) };
  }
  return undefined;
}

function readCheckoutOf(id: string): string {
  try {
    return readFileSync(`/var/lib/ratewire/checkouts/${id}/checkout`, 'utf8').trim();
  } catch {
    return `(data in /var/lib/ratewire/checkouts/${id})`;
  }
}

/** The process listening on `port`, when /proc lets us see it. */
export function portHolder(port: number): PortHolder | null {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      for (const i of listeningInodes(readFileSync(file, 'utf8'), port)) inodes.add(`socket:[${i}]`);
    } catch {
      // no such table
    }
  }
  if (inodes.size === 0) return null;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      if (!inodes.has(target)) continue;
      const pid = Number(entry);
      const command = cmdline(pid);
      const cwd = cwdOf(pid);
      const holder: PortHolder = { pid, command, cwd };
      const rw = ratewireService(command, cwd);
      if (rw) holder.ratewire = rw;
      return holder;
    }
  }
  return null;
}

/** The error for a busy port: the port, who holds it, and the setting that moves ours. */
export function portBusyError(what: string, port: number, setting: string, holder: PortHolder | null): BootstrapError {
  let who: string;
  if (!holder) who = 'a process this user cannot see';
  else if (holder.ratewire) {
    const gone = holder.cwd.endsWith('(deleted)') ? ' (that checkout no longer exists)' : '';
    who = `pid ${holder.pid}, the Ratewire ${holder.ratewire.service} of the checkout ${holder.ratewire.checkout}${gone}`;
  } else who = `pid ${holder.pid} (${holder.command.slice(0, 120) || 'unknown command'})`;
  const stop = holder ? `stop it (kill ${holder.pid})` : 'stop what holds it';
  return new BootstrapError(
    `${what}: port ${port} is taken by ${who}`,
    `${stop}, or move this checkout's ${what} to another port: ${setting}=<port> npm start`,
  );
}

/** Throws a portBusyError when something listens on `port`. */
export async function assertPortFree(what: string, port: number, setting: string): Promise<void> {
  if (await tcpOpen(port)) throw portBusyError(what, port, setting, portHolder(port));
}
