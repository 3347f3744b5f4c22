// Poller leadership: the replica holding a session-level Postgres advisory lock, on a dedicated
// connection (never from the pool), is the leader. Followers retry every few seconds; a killed
// leader's connection closes and frees the lock, so another replica takes over within one retry.
// A leader whose lock connection fails or stops answering stops at once.
// Once the process is shutting down (`stopping`), the elector takes no lock any more — an attempt
// already under way lets go of what it got — and a leader gives the lock up at its next check, if
// stop() has not come first; so a replica on its way out never starts leading.
import { connectDedicated, ping, tryAdvisoryLock, type DedicatedClient } from '@ratewire/db';
import { errorMessage, type Logger } from '@ratewire/runtime';

/** The advisory lock key the feed pollers' leader holds (per database). */
export const FEED_LEADER_LOCK = 727_200;

export interface LeaderElectorOptions {
  databaseUrl: string;
  log: Logger;
  key?: number;
  /** Between acquisition attempts while following (default 3 s). */
  retryMs?: number;
  /** Between liveness checks of the lock connection while leading (default 2 s). */
  checkMs?: number;
  name?: string;
  /** True once the process is shutting down (Shutdown.stopping): no lock is taken from then on. */
  stopping?: () => boolean;
}

export type LeadershipListener = (leader: boolean) => void;

export class LeaderElector {
  private readonly opts: LeaderElectorOptions;
  private readonly listeners = new Set<LeadershipListener>();
  private client: DedicatedClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private leader = false;
  private stopped = true;
  private busy = false;

  constructor(opts: LeaderElectorOptions) {
    this.opts = opts;
  }

  get isLeader(): boolean {
    return this.leader;
  }

  onChange(listener: LeadershipListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (!this.stopped || this.shuttingDown) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Gives up leadership (ending the lock connection frees the lock) and stops trying. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.setLeader(false);
    await this.dropClient();
  }

  private get shuttingDown(): boolean {
    return this.opts.stopping?.() === true;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.step(), ms);
  }

  private async step(): Promise<void> {
    if (this.stopped || this.busy) return;
    if (this.shuttingDown) return this.stop();
    this.busy = true;
    try {
      if (this.leader) await this.check();
      else await this.tryAcquire();
    } finally {
      this.busy = false;
    }
    this.schedule(this.leader ? (this.opts.checkMs ?? 2000) : (this.opts.retryMs ?? 3000));
  }

  private async tryAcquire(): Promise<void> {
    try {
      if (!this.client) {
        const client = await connectDedicated(this.opts.databaseUrl, this.opts.name ?? 'ratewire-worker-leader');
        if (this.stopped || this.shuttingDown) {
          await client.end().catch(() => undefined);
          return;
        }
        client.on('error', (err) => this.lost(`lock connection error: ${err.message}`, client));
        client.on('end', () => this.lost('lock connection ended', client));
        this.client = client;
      }
      const locked = await tryAdvisoryLock(this.client, this.opts.key ?? FEED_LEADER_LOCK);
      // stopped or shutting down while asking: ending the session frees a lock just granted
      if (this.stopped || this.shuttingDown) return await this.dropClient();
      if (locked) {
        this.opts.log.info({ lock: this.opts.key ?? FEED_LEADER_LOCK }, 'became feed leader');
        this.setLeader(true);
      }
    } catch (err) {
      if (!this.stopped) this.opts.log.warn({ err: errorMessage(err) }, 'leader lock attempt failed');
      await this.dropClient();
    }
  }

  private async check(): Promise<void> {
    const client = this.client;
    if (!client) return this.lost('lock connection missing', undefined);
    try {
      await ping(client);
    } catch (err) {
      this.lost(`lock connection check failed: ${errorMessage(err)}`, client);
    }
  }

  private lost(reason: string, client: DedicatedClient | undefined): void {
    if (client && client !== this.client) return;
    if (this.leader) this.opts.log.warn({ reason }, 'feed leadership lost; polling stopped');
    this.setLeader(false);
    void this.dropClient();
    this.schedule(this.opts.retryMs ?? 3000);
  }

  private async dropClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    client.removeAllListeners('end');
    client.on('error', () => {});
    await client.end().catch(() => undefined);
  }

  private setLeader(leader: boolean): void {
    if (this.leader === leader) return;
    this.leader = leader;
    for (const listener of this.listeners) {
      try {
        listener(leader);
      } catch (err) {
        this.opts.log.warn({ err: errorMessage(err) }, 'leadership listener failed');
      }
    }
  }
}
