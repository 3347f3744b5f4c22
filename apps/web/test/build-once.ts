// vitest globalSetup: the browser tests drive the built console, so build it once per run when its
// inputs changed (the api serves apps/web/dist).
import { buildConsole } from '../build.ts';

export default async function setup(): Promise<void> {
  await buildConsole({ quiet: true });
}
