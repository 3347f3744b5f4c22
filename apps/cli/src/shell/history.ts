// The shell's history: one line per command, oldest first, in $XDG_STATE_HOME/ratewire/history
// (default ~/.local/state/ratewire/history); the folder 0700 and the file 0600, as the commands typed
// may name accounts and URLs. Capped at HISTORY_MAX lines. A line typed with a leading blank is kept
// out of it (as bash's ignorespace).
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';

export const HISTORY_MAX = 1000;

export function historyPath(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const state = env['XDG_STATE_HOME'];
  if (state && isAbsolute(state)) return join(state, 'ratewire', 'history');
  const home = env['HOME'];
  return home ? join(home, '.local', 'state', 'ratewire', 'history') : undefined;
}

export class History {
  readonly path: string | undefined;
  /** Newest first, as readline keeps it. */
  lines: string[];

  constructor(env: Readonly<Record<string, string | undefined>>) {
    this.path = historyPath(env);
    this.lines = [];
    if (!this.path) return;
    try {
      const text = readFileSync(this.path, 'utf8');
      this.lines = text
        .split('\n')
        .filter((l) => l.trim() !== '')
        .reverse()
        .slice(0, HISTORY_MAX);
    } catch {
      // no history yet, or none readable: start empty
    }
  }

  /** Whether a typed line belongs in the history. */
  static keeps(line: string): boolean {
    return line.trim() !== '' && !/^\s/.test(line);
  }

  /** Saves readline's list (newest first). Failing to save is not worth stopping the shell for. */
  save(lines: readonly string[]): void {
    this.lines = lines.filter((l) => History.keeps(l)).slice(0, HISTORY_MAX);
    if (!this.path) return;
    try {
      const dir = dirname(this.path);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const tmp = `${this.path}.${process.pid}.tmp`;
      writeFileSync(tmp, `${[...this.lines].reverse().join('\n')}\n`, { mode: 0o600 });
      chmodSync(tmp, 0o600);
      renameSync(tmp, this.path);
    } catch {
      // a read-only home: the history lives as long as the shell
    }
  }
}
