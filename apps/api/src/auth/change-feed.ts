// One dedicated LISTEN connection per api process for the changes its caches depend on: accounts
// (`ratewire_users`), sessions (`ratewire_sessions`) and API keys (`ratewire_api_keys`). Triggers on
// those tables NOTIFY when a change commits, whoever makes it, so every replica hears every change.
//
// A cache that subscribes drops an entry when its payload arrives ('*': every entry), and drops
// everything whenever notifications may have been missed: when the connection is lost and when it
// listens again. While the feed is not listening (`isListening` false) caches must read uncached.
import { connectDedicated, type DedicatedClient } from '@ratewire/db';
import { errorMessage, type Logger } from '@ratewire/runtime';

const RECONNECT_MAX_MS = 10_000;

export interface ChangeHandlers {
  /** One notification on the channel; `payload` is the changed row's key, or '*' for all rows. */
  onChange(payload: string): void;
  /** Notifications may have been missed: forget everything cached. */
  onReset(): void;
}

export interface ChangeFeedDeps {
  /** Where the LISTEN connection goes (the api's database). */
  databaseUrl: string;
  log: Logger;
}

export class ChangeFeed {
  private readonly deps: ChangeFeedDeps;
  private readonly channels = new Map<string, ChangeHandlers[]>();
  private client: DedicatedClient | null = null;
  private listening = false;
  private started = false;
  private closed = false;
  private failures = 0;
  private retry: NodeJS.Timeout | undefined;

  constructor(deps: ChangeFeedDeps) {
    this.deps = deps;
  }

  /** True while notifications arrive (and so caches may serve what they hold). */
  get isListening(): boolean {
    return this.listening;
  }

  /** Follows `channel`; subscribe before start(). */
  subscribe(channel: string, handlers: ChangeHandlers): void {
    if (this.started) throw new Error(`subscribe to ${channel} before the change feed starts`);
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`not a channel name: ${channel}`);
    const list = this.channels.get(channel) ?? [];
    list.push(handlers);
    this.channels.set(channel, list);
  }

  /** Starts listening (reconnecting until closed). */
  start(): void {
    if (this.started) return;
    this.started = true;
    void this.listen();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    this.listening = false;
    this.reset();
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }

  private reset(): void {
    for (const list of this.channels.values()) for (const h of list) h.onReset();
  }

  private notified(channel: string, payload: string | undefined): void {
    for (const h of this.channels.get(channel) ?? []) {
      if (!payload || payload === '*') h.onReset();
      else h.onChange(payload);
    }
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    let client: DedicatedClient | undefined;
    try {
      client = await connectDedicated(this.deps.databaseUrl, 'ratewire-api-changes');
      const own = client;
      own.on('notification', (msg) => this.notified(msg.channel, msg.payload));
      own.on('error', (err) => this.lost(own, err));
      own.on('end', () => this.lost(own));
      for (const channel of this.channels.keys()) await own.query(`listen ${channel}`);
      if (this.closed) {
        await own.end().catch(() => {});
        return;
      }
      // changes made while nobody listened are unknown: start from empty caches
      this.reset();
      this.client = own;
      this.listening = true;
      this.failures = 0;
    } catch (err) {
      await client?.end().catch(() => {});
      this.reconnectLater(err);
    }
  }

  private lost(client: DedicatedClient, err?: Error): void {
    if (this.client !== client) return;
    this.client = null;
    this.listening = false;
    this.reset();
    client.end().catch(() => {});
    this.reconnectLater(err);
  }

  private reconnectLater(err: unknown): void {
    if (this.closed) return;
    this.failures++;
    const delay = Math.min(RECONNECT_MAX_MS, 500 * 2 ** Math.min(this.failures - 1, 5));
    this.deps.log.warn(
      { err: err === undefined ? 'connection ended' : errorMessage(err), delay },
      'account, session and API key changes are not being received; reading them uncached until they are',
    );
    this.retry = setTimeout(() => void this.listen(), delay);
    this.retry.unref();
  }
}
