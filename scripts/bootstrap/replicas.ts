// `npm start -- --replicas api=3,worker=2,notifier=2`: how many of each app to run, and on which
// ports. Each api replica listens on a port of its own from RATEWIRE_API_REPLICA_PORT on (8101, 8102,
// …) behind nginx on the usual api port (PORT, 8000); workers and notifiers answer /readyz on health
// ports from RATEWIRE_WORKER_REPLICA_PORT (8201 …) and RATEWIRE_NOTIFIER_REPLICA_PORT (8301 …).
import { portSetting } from './services.ts';
import { BootstrapError } from './system.ts';

export const REPLICA_APPS = ['api', 'worker', 'notifier'] as const;
export type ReplicaApp = (typeof REPLICA_APPS)[number];
export type ReplicaCounts = Record<ReplicaApp, number>;
export const MAX_REPLICAS = 16;

const USAGE = 'npm start -- --replicas api=3,worker=2,notifier=2 (each app 1 to 16; an app left out runs once)';

/**
 * The replica counts `args` (the words after `npm start --`) ask for, or null without `--replicas`.
 * Accepts `--replicas <list>` and `--replicas=<list>`; anything else is refused with the usage.
 */
export function parseReplicas(args: string[]): ReplicaCounts | null {
  let list: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--replicas') {
      list = args[++i];
      if (list === undefined || list.startsWith('--')) {
        throw new BootstrapError('--replicas needs a list of app=count', `for example: ${USAGE}`);
      }
    } else if (arg.startsWith('--replicas=')) {
      list = arg.slice('--replicas='.length);
    } else {
      throw new BootstrapError(`npm start does not know the argument ${JSON.stringify(arg)}`, `usage: ${USAGE}`);
    }
  }
  if (list === undefined) return null;
  const counts: ReplicaCounts = { api: 1, worker: 1, notifier: 1 };
  const seen = new Set<string>();
  for (const item of list.split(',')) {
    const m = /^\s*([A-Za-z-]+)\s*=\s*(\S+)\s*$/.exec(item);
    if (!m) {
      throw new BootstrapError(`--replicas: ${JSON.stringify(item)} is not app=count`, `for example: ${USAGE}`);
    }
    const [, app, raw] = m as unknown as [string, string, string];
    if (!(REPLICA_APPS as readonly string[]).includes(app)) {
      throw new BootstrapError(
        `--replicas: unknown app ${JSON.stringify(app)}`,
        `the apps are ${REPLICA_APPS.join(', ')}; ${USAGE}`,
      );
    }
    if (seen.has(app)) throw new BootstrapError(`--replicas: ${app} is given twice`, `usage: ${USAGE}`);
    seen.add(app);
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < 1 || n > MAX_REPLICAS) {
      throw new BootstrapError(
        `--replicas: ${app}=${raw}: the count must be a whole number from 1 to ${MAX_REPLICAS}`,
        `usage: ${USAGE}`,
      );
    }
    counts[app as ReplicaApp] = n;
  }
  return counts;
}

export interface Replica {
  app: ReplicaApp;
  /** 1-based. */
  index: number;
  /** `api.1`, `worker.2`: the prefix of its log lines. */
  name: string;
  /** The api's PORT, the others' HEALTH_PORT. */
  port: number;
  /** The setting that moves this replica's port (the first of its app's range). */
  portSetting: string;
}

const FIRST_PORT: Record<ReplicaApp, { setting: string; port: number }> = {
  api: { setting: 'RATEWIRE_API_REPLICA_PORT', port: 8101 },
  worker: { setting: 'RATEWIRE_WORKER_REPLICA_PORT', port: 8201 },
  notifier: { setting: 'RATEWIRE_NOTIFIER_REPLICA_PORT', port: 8301 },
};

/**
 * Every replica `counts` asks for, with its port: consecutive from its app's first port. `reserved`
 * are the ports others use (nginx's PORT), which no replica may take.
 */
export function planReplicas(counts: ReplicaCounts, reserved: { name: string; port: number }[] = []): Replica[] {
  const out: Replica[] = [];
  for (const app of REPLICA_APPS) {
    const { setting, port } = portSetting(FIRST_PORT[app].setting, FIRST_PORT[app].port);
    if (port + counts[app] - 1 > 65535) {
      throw new BootstrapError(`${setting}=${port} leaves no room for ${counts[app]} ${app} replicas`);
    }
    for (let i = 1; i <= counts[app]; i++) {
      out.push({ app, index: i, name: `${app}.${i}`, port: port + i - 1, portSetting: setting });
    }
  }
  const byPort = new Map<number, string>(reserved.map((r) => [r.port, r.name]));
  for (const r of out) {
    const other = byPort.get(r.port);
    if (other) {
      throw new BootstrapError(
        `${r.name} and ${other} would both listen on port ${r.port}`,
        `move one range: ${Object.values(FIRST_PORT)
          .map((f) => f.setting)
          .join(', ')}`,
      );
    }
    byPort.set(r.port, r.name);
  }
  return out;
}
