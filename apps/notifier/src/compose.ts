// The notifier's composition root: the bridge is built here once and registers its shutdown in its
// phases — stop taking messages ('accepting'), then emit the frames already accepted ('in-flight') —
// before main.ts's connections go (NATS → Redis). main.ts parses settings and connects; tests call
// this with their own.
import { Shutdown } from '@ratewire/runtime';

import { startBridge, type Bridge, type BridgeDeps } from './bridge.ts';

/** Everything the notifier needs from outside, built in main.ts (or by a test): what its bridge reads. */
export type NotifierDeps = BridgeDeps;

export interface NotifierApp {
  bridge: Bridge;
  /** Runs this notifier's shutdown steps; the connections in `deps` stay open: they belong to the caller. */
  close(): Promise<void>;
}

/** Resolves once the bridge is subscribed to NATS and Redis. */
export async function composeNotifier(
  deps: NotifierDeps,
  shutdown: Shutdown = new Shutdown(deps.log),
): Promise<NotifierApp> {
  const bridge = await startBridge(deps);
  shutdown.add('accepting', 'bridge', () => bridge.stop());
  shutdown.add('in-flight', 'frames', () => bridge.drain());
  return { bridge, close: () => shutdown.run('close') };
}
