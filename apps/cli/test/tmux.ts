// A real terminal for end-to-end tests: a private tmux server (its own socket, no config), one
// session running bash with the given environment, driven by send-keys and read by capture-pane.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface TerminalOptions {
  env: Record<string, string>;
  cwd: string;
  width?: number;
  height?: number;
}

export class Terminal {
  readonly socket: string;
  #closed = false;
  #socketPath: string | undefined;

  private constructor(socket: string) {
    this.socket = socket;
  }

  /** A new tmux server with one window running bash (prompt `$ `, no rc files but its own). */
  static async start(options: TerminalOptions): Promise<Terminal> {
    const term = new Terminal(`rw-test-${process.pid}-${randomUUID().slice(0, 8)}`);
    const rc = join(options.cwd, '.terminal-bashrc');
    writeFileSync(rc, "PS1='$ '\nHISTFILE=/dev/null\n");
    // the server is started by this command, so the session's environment is exactly `env`
    await exec(
      'tmux',
      [
        ...term.#base(),
        'new-session',
        '-d',
        '-s',
        'main',
        '-x',
        String(options.width ?? 120),
        '-y',
        String(options.height ?? 40),
        '-c',
        options.cwd,
        `bash --noprofile --rcfile '${rc}'`,
      ],
      { env: options.env },
    );
    try {
      term.#socketPath = (
        await exec('tmux', [...term.#base(), 'display-message', '-p', '#{socket_path}'])
      ).stdout.trim();
      await exec('tmux', [...term.#base(), 'set-option', '-g', 'history-limit', '5000']);
      await term.waitFor(/^\$ $/m);
    } catch (err) {
      await term.close();
      throw err;
    }
    return term;
  }

  #base(): string[] {
    return ['-L', this.socket, '-f', '/dev/null'];
  }

  /** Keys by tmux name (`Enter`, `C-c`, `C-d`, `Tab`, `Up`). */
  async keys(...keys: string[]): Promise<void> {
    await exec('tmux', [...this.#base(), 'send-keys', '-t', 'main', ...keys]);
  }

  /** Text typed as it is. */
  async type(text: string): Promise<void> {
    await exec('tmux', [...this.#base(), 'send-keys', '-t', 'main', '-l', text]);
  }

  /** Types a line and presses Enter. */
  async line(text: string): Promise<void> {
    await this.type(text);
    await this.keys('Enter');
  }

  /** The visible screen and the scrollback, as text; with `escapes`, with the attribute codes. */
  async screen(options: { escapes?: boolean } = {}): Promise<string> {
    const { stdout } = await exec('tmux', [
      ...this.#base(),
      'capture-pane',
      '-p',
      '-J',
      '-S',
      '-',
      '-t',
      'main',
      ...(options.escapes ? ['-e'] : []),
    ]);
    return stdout;
  }

  /** Only what the window shows now, no scrollback. */
  async visible(): Promise<string> {
    const { stdout } = await exec('tmux', [...this.#base(), 'capture-pane', '-p', '-J', '-t', 'main']);
    return stdout;
  }

  /** The screen's lines without the blank ones below the last text. */
  async lines(): Promise<string[]> {
    const lines = (await this.screen()).split('\n');
    while (lines.length > 0 && lines.at(-1)?.trim() === '') lines.pop();
    return lines;
  }

  /** The line the cursor is on, as shown. */
  async cursorLine(): Promise<{ text: string; x: number }> {
    const { stdout } = await exec('tmux', [
      ...this.#base(),
      'display-message',
      '-p',
      '-t',
      'main',
      '#{cursor_x} #{cursor_y}',
    ]);
    const [x = 0, y = 0] = stdout.trim().split(' ').map(Number);
    const visible = await exec('tmux', [...this.#base(), 'capture-pane', '-p', '-t', 'main']);
    return { text: visible.stdout.split('\n')[y] ?? '', x };
  }

  /**
   * Polls the screen until `test` holds (a pattern found, or a predicate true); answers the screen.
   * Fails after `timeoutMs` showing the last screen.
   */
  async waitFor(test: RegExp | ((screen: string) => boolean), timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let screen = '';
    for (;;) {
      screen = await this.screen();
      if (typeof test === 'function' ? test(screen) : test.test(screen)) return screen;
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`the terminal never showed ${String(test)}; it shows:\n${screen}`);
  }

  /** Clears the screen and the scrollback, so the next waits see only what follows. */
  async clear(): Promise<void> {
    await this.keys('-R');
    await exec('tmux', [...this.#base(), 'clear-history', '-t', 'main']);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await exec('tmux', [...this.#base(), 'kill-server']).catch(() => undefined);
    // the server leaves its socket file behind
    if (this.#socketPath) rmSync(this.#socketPath, { force: true });
  }
}
