import { createServer, type Server } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { listeningInodes, portBusyError, portHolder, ratewireService } from '../../scripts/bootstrap/ports.ts';

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:DD85 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 44123 1 0000000000000000 100 0 0 10 0
   1: 0100007F:DD85 0100007F:A1B2 01 00000000:00000000 00:00000000 00000000     0        0 55555 1 0000000000000000 20 4 30 10 -1
   2: 00000000:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77001 1 0000000000000000 100 0 0 10 0`;

describe('listeningInodes', () => {
  it('finds the listening socket of a port and ignores established connections on it', () => {
    expect(listeningInodes(TCP, 0xdd85)).toEqual(['44123']);
    expect(listeningInodes(TCP, 8000)).toEqual(['77001']);
    expect(listeningInodes(TCP, 1234)).toEqual([]);
  });
});

describe('ratewireService', () => {
  it('names the service and the checkout of a server whose data are in a checkout', () => {
    expect(ratewireService('/usr/sbin/nats-server -p 54222 -sd /home/a/rw/.data/nats/jetstream', '/')).toEqual({
      service: 'nats',
      checkout: '/home/a/rw',
    });
    // Redis rewrites its command line; its working directory still tells.
    expect(ratewireService('redis-server 127.0.0.1:56379', '/tmp/x y/.data/redis (deleted)')).toBeUndefined();
    expect(ratewireService('redis-server 127.0.0.1:56379', '/tmp/xy/.data/redis (deleted)')).toEqual({
      service: 'redis',
      checkout: '/tmp/xy',
    });
    expect(ratewireService('/usr/bin/python3 -m http.server', '/root')).toBeUndefined();
  });
});

describe('portHolder and portBusyError', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  it('finds this very process holding a port, and the error names port, pid and setting', async () => {
    server = createServer();
    const port = await new Promise<number>((r) =>
      server!.listen(0, '127.0.0.1', () => r((server!.address() as { port: number }).port)),
    );
    const holder = portHolder(port);
    expect(holder?.pid).toBe(process.pid);
    expect(holder?.ratewire).toBeUndefined();
    const err = portBusyError('redis', port, 'RATEWIRE_REDIS_PORT', holder);
    expect(err.message).toBe(`redis: port ${port} is taken by pid ${process.pid} (${holder!.command.slice(0, 120)})`);
    expect(err.hint).toContain(`kill ${process.pid}`);
    expect(err.hint).toContain('RATEWIRE_REDIS_PORT=<port> npm start');
  });

  it('says when the holder is the Ratewire service of another checkout that no longer exists', () => {
    const err = portBusyError('redis', 56379, 'RATEWIRE_REDIS_PORT', {
      pid: 42,
      command: 'redis-server 127.0.0.1:56379',
      cwd: '/tmp/old/.data/redis (deleted)',
      ratewire: { service: 'redis', checkout: '/tmp/old' },
    });
    expect(err.message).toBe(
      'redis: port 56379 is taken by pid 42, the Ratewire redis of the checkout /tmp/old (that checkout no longer exists)',
    );
  });
});
