// The live commands: `watch` (WebSocket channels), `tail` (NATS subjects, for operators) and
// `callbacks listen` (a local receiver for signed callbacks).
import type { Command } from 'commander';

import type { Runtime } from '../core/command.ts';
import { registerCallbacks } from './callbacks.command.ts';
import { registerTail } from './tail.command.ts';
import { registerWatch } from './watch.command.ts';

export function registerLive(program: Command, rt: Runtime): void {
  registerWatch(program, rt);
  registerTail(program, rt);
  registerCallbacks(program, rt);
}
