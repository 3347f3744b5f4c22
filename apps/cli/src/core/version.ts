// The CLI's version: put in by the build (dist/), read from package.json when run from src/.
import { readFileSync } from 'node:fs';

declare const __RATEWIRE_CLI_VERSION__: string | undefined;

export const VERSION: string =
  typeof __RATEWIRE_CLI_VERSION__ === 'string'
    ? __RATEWIRE_CLI_VERSION__
    : (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
