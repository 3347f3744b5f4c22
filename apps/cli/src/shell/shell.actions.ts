// `ratewire shell`: a prompt that runs each typed line as a `ratewire` command (a fresh program per
// line, through run()), with the original client's commands (task, cls, exit) on top. While logged
// in it keeps a WebSocket session on the user's own alerts and on each job submitted here, and
// prints their notifications above the prompt without disturbing the half-typed line.
//
// The readline interface exists only while the prompt is shown: it is closed before a command runs,
// so a command that asks (login's hidden password) owns the terminal alone, and the terminal is
// back in its ordinary mode, where Ctrl-C is a SIGINT this shell turns into that command's abort.
import { clearScreenDown, createInterface, cursorTo, moveCursor, type Interface } from 'node:readline';
import { PassThrough } from 'node:stream';

import { LiveSession } from '@ratewire/client/live-session';
import { userSchema } from '@ratewire/contracts/auth.schemas';
import type { WsEventFrame } from '@ratewire/contracts/ws.schemas';

import { candidates, childNamed, completionTree, walk, type CompletionTree } from '../completion/command-tree.ts';
import type { Action } from '../core/command.ts';
import { Ctx, type Target } from '../core/context.ts';
import { CliError, EXIT } from '../core/exit-codes.ts';
import type { Io } from '../core/io.ts';
import { ApiClient } from '../http/api-client.ts';
import { liveEnd } from '../live/live-errors.ts';
import { run } from '../main.ts';
import { printable } from '../output/table.ts';
import { buildProgram } from '../program.ts';
import { History } from './history.ts';
import { lineWords, splitLine, UnclosedQuote } from './line-words.ts';
import { noticeLine } from './notice.ts';

/** Words the shell itself answers, besides every command of the tree. */
const SHELL_WORDS = ['task', 'cls', 'exit', 'quit', 'help'];
const JOB_END = new Set(['jobs.exchange.completed', 'jobs.exchange.failed']);

export const shell: Action = (ctx) => new Shell(ctx).run();

interface Running {
  controller: AbortController;
  /** Jobs the running command submitted: it shows their progress itself. */
  jobs: Set<string>;
  interrupts: number;
  abandon: (() => void) | undefined;
}

interface Identity {
  key: string;
  target: Target;
  userId: string;
  alerts: LiveSession;
  stop: AbortController;
}

export class Shell {
  readonly #ctx: Ctx;
  readonly #io: Io;
  /** A person at a terminal: prompt, line editing, history. Otherwise: one command a line, plain output. */
  readonly #interactive: boolean;
  readonly #history: History;
  #tree: CompletionTree | undefined;
  #rl: Interface | undefined;
  #running: Running | undefined;
  #prompt = 'ratewire> ';
  #identityKey: string | undefined;
  #identity: Identity | undefined;
  #warned: string | undefined;
  readonly #jobSessions = new Map<string, LiveSession>();
  #last: number = EXIT.ok;
  #exit: number | undefined;

  constructor(ctx: Ctx) {
    this.#ctx = ctx;
    this.#io = ctx.io;
    this.#interactive = ctx.io.stdin.isTTY === true && ctx.io.stdout.isTTY === true;
    this.#history = new History(ctx.io.env);
  }

  async run(): Promise<number> {
    const takeover = this.#interactive && this.#io.stdin === process.stdin;
    // at a terminal, Ctrl-C while a command runs stops that command, never the shell
    const prior = takeover ? process.listeners('SIGINT') : [];
    const onSigint = () => this.#interrupt();
    if (takeover) {
      for (const l of prior) process.off('SIGINT', l);
      process.on('SIGINT', onSigint);
    }
    try {
      await this.#refreshIdentity();
      if (this.#interactive) {
        this.#say('ratewire shell: `help` lists what it takes; Ctrl-D or `exit` leaves.');
        await this.#interactiveLoop();
      } else await this.#pipedLoop();
    } finally {
      if (takeover) {
        process.off('SIGINT', onSigint);
        for (const l of prior) process.on('SIGINT', l as () => void);
      }
      this.#stopIdentity();
    }
    if (this.#io.signal.aborted && this.#exit === undefined) return EXIT.interrupted;
    return this.#exit ?? this.#last;
  }

  // ---- reading lines

  async #interactiveLoop(): Promise<void> {
    while (this.#exit === undefined && !this.#io.signal.aborted) {
      const line = await this.#readLine();
      if (line === null) break;
      await this.#execute(line);
    }
  }

  async #pipedLoop(): Promise<void> {
    const rl = createInterface({ input: this.#io.stdin, terminal: false, crlfDelay: Infinity });
    const stop = () => rl.close();
    this.#io.signal.addEventListener('abort', stop, { once: true });
    try {
      for await (const line of rl) {
        await this.#execute(line);
        if (this.#exit !== undefined || this.#io.signal.aborted) break;
      }
    } finally {
      this.#io.signal.removeEventListener('abort', stop);
      rl.close();
    }
  }

  /** One line from the prompt; null on Ctrl-D (or when the shell is stopped). Ctrl-C answers ''. */
  #readLine(): Promise<string | null> {
    return new Promise((resolve) => {
      const rl = createInterface({
        input: this.#io.stdin,
        output: this.#io.stdout,
        terminal: true,
        prompt: this.#prompt,
        history: [...this.#history.lines],
        historySize: 1000,
        removeHistoryDuplicates: true,
        completer: (line: string) => this.complete(line),
        tabSize: 4,
      });
      this.#rl = rl;
      let settled = false;
      const settle = (value: string | null) => {
        if (settled) return;
        settled = true;
        this.#rl = undefined;
        this.#io.signal.removeEventListener('abort', onAbort);
        rl.close();
        resolve(value);
      };
      const onAbort = () => settle(null);
      this.#io.signal.addEventListener('abort', onAbort, { once: true });
      rl.on('history', (lines: string[]) => this.#history.save(lines));
      rl.on('line', (line) => settle(line));
      rl.on('SIGINT', () => {
        // the typed text is dropped, not run: a fresh prompt on the next line
        rl.write(null, { ctrl: true, name: 'e' });
        this.#io.stdout.write('^C\n');
        settle('');
      });
      rl.on('close', () => {
        if (!settled) this.#io.stdout.write('\n');
        settle(null);
      });
      rl.prompt();
    });
  }

  // ---- running a line

  async #execute(line: string): Promise<void> {
    let words: string[];
    try {
      words = lineWords(line);
    } catch (err) {
      if (!(err instanceof UnclosedQuote)) throw err;
      this.#error(`${err.message} quote`);
      this.#last = EXIT.usage;
      return;
    }
    if (words[0] === 'ratewire') words = words.slice(1);
    const [head, ...rest] = words;
    if (head === undefined) return;
    switch (head) {
      case 'exit':
      case 'quit': {
        const code = rest[0] === undefined ? this.#last : Number(rest[0]);
        if (!Number.isInteger(code) || code < 0 || code > 255) {
          this.#error(`exit: ${JSON.stringify(rest[0])} is not an exit code (0-255)`);
          this.#last = EXIT.usage;
          return;
        }
        this.#exit = code;
        return;
      }
      case 'cls':
        this.#clearScreen();
        this.#last = EXIT.ok;
        return;
      case 'help':
        if (rest.length === 0) {
          this.#help();
          this.#last = EXIT.ok;
          return;
        }
        this.#last = await this.#runCommand([...(rest[0] === 'task' ? ['jobs', 'submit'] : rest), '--help']);
        return;
      case 'task':
        this.#last = await this.#runCommand(['jobs', 'submit', ...rest]);
        break;
      case 'shell':
        this.#error('already in the shell');
        this.#last = EXIT.usage;
        return;
      default:
        this.#last = await this.#runCommand(words);
    }
    // a login, logout or profile change moves the prompt and the notifications to the new account
    await this.#refreshIdentity();
  }

  /** The global options the shell was started with, for every command it runs. */
  #globalArgs(): string[] {
    const g = this.#ctx.globals;
    const env = this.#io.env;
    const args: string[] = [];
    if (g.url && g.url !== env['RATEWIRE_URL']) args.push('--url', g.url);
    if (g.profile && g.profile !== env['RATEWIRE_PROFILE']) args.push('--profile', g.profile);
    if (g.json) args.push('--json');
    if (g.color === false) args.push('--no-color');
    if (g.input === false) args.push('--no-input');
    return args;
  }

  async #runCommand(words: string[]): Promise<number> {
    const running: Running = { controller: new AbortController(), jobs: new Set(), interrupts: 0, abandon: undefined };
    this.#running = running;
    // off a terminal the shell's own input is the script: commands get an empty stdin
    const stdin = this.#interactive ? this.#io.stdin : new PassThrough().end();
    const io: Io = {
      stdout: this.#io.stdout,
      stderr: this.#io.stderr,
      stdin,
      env: this.#io.env,
      signal: AbortSignal.any([running.controller.signal, this.#io.signal]),
      onJob: (id) => {
        running.jobs.add(id);
        this.#followJob(id);
      },
    };
    const abandoned = new Promise<number>((resolve) => {
      running.abandon = () => resolve(EXIT.interrupted);
    });
    try {
      return await Promise.race([run([...this.#globalArgs(), ...words], io), abandoned]);
    } finally {
      this.#running = undefined;
      // the terminal echoed ^C where the command's output stopped: keep it out of the prompt's way
      if (running.interrupts > 0 && this.#interactive) this.#io.stdout.write('\n');
    }
  }

  /** Ctrl-C while a command runs: stop it; a second one stops waiting for it. */
  #interrupt(): void {
    const running = this.#running;
    if (!running) {
      // no command and no prompt reading keys (a SIGINT from elsewhere): drop the typed line
      this.#rl?.emit('SIGINT');
      return;
    }
    running.interrupts++;
    if (running.interrupts === 1) running.controller.abort();
    else {
      this.#error('the command did not stop; left behind');
      running.abandon?.();
    }
  }

  // ---- the shell's own commands

  #clearScreen(): void {
    if (!this.#interactive) return;
    cursorTo(this.#io.stdout, 0, 0);
    clearScreenDown(this.#io.stdout);
  }

  #help(): void {
    const tree = this.#completionTree();
    const commands = tree.root.commands.filter((c) => c.name !== 'help' && c.name !== 'shell');
    const width = Math.max(...commands.map((c) => c.name.length));
    this.#io.stdout.write(
      `Type any ratewire command without the \`ratewire\`, e.g. \`rates binance BTCUSDT\`.

Shell commands:
  login, register, registr   log in, or create an account (the password is never echoed)
  task …                     submit an exchange job: the same as \`jobs submit …\` (help task)
  cls                        clear the screen (also Ctrl-L)
  help [command]             this list, or a command's help
  exit [code], quit          leave (also Ctrl-D on an empty line)

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.description.split('\n')[0] ?? ''}`).join('\n')}

Keys: Tab completes; Up/Down walk the history; Ctrl-C cancels the line or stops the running command.
Notifications of your alerts and of the jobs submitted here print above the prompt.
`,
    );
  }

  #completionTree(): CompletionTree {
    return (this.#tree ??= completionTree(buildProgram({ io: this.#io, exit: EXIT.ok })));
  }

  /** readline's completer: the words that may finish the last one typed. */
  complete(line: string): [string[], string] {
    const split = splitLine(line);
    if (split.openQuote) return [[], split.current];
    const done = split.endsWithBlank ? split.words : split.words.slice(0, -1);
    const current = split.endsWithBlank ? '' : split.current;
    const tree = this.#completionTree();
    let hits: string[];
    const first = done[0] === 'ratewire' ? done.slice(1) : done;
    if (first[0] === 'task') {
      const submit = childNamed(tree.root, 'jobs');
      const start = submit && childNamed(submit, 'submit');
      hits = start ? candidates(tree, walk(tree, first.slice(1), start), current) : [];
    } else {
      hits = candidates(tree, walk(tree, first), current);
      if (first.length === 0 && !current.startsWith('-'))
        hits = [
          ...new Set([...hits.filter((h) => h !== 'shell'), ...SHELL_WORDS.filter((w) => w.startsWith(current))]),
        ];
    }
    hits.sort();
    return [hits.length === 1 ? [`${hits[0]} `] : hits, current];
  }

  // ---- who is logged in, and their notifications

  async #refreshIdentity(): Promise<void> {
    let target: Target;
    try {
      target = new Ctx(this.#io, this.#ctx.globals).target();
    } catch {
      return; // a broken config or URL: the next command says what is wrong
    }
    const key = `${target.url}\n${target.credential?.token ?? ''}`;
    if (key === this.#identityKey) return;
    this.#stopIdentity();
    this.#prompt = 'ratewire> ';
    if (!target.credential) {
      this.#identityKey = key;
      return;
    }
    try {
      const api = new ApiClient(target.url, target.credential, this.#io.signal);
      const me = await api.json(userSchema, 'GET', '/api/v1/auth/me', { auth: 'required', timeoutMs: 5_000 });
      this.#identityKey = key;
      this.#prompt = `${me.email.split('@')[0] ?? me.email}@${new URL(target.url).host}> `;
      this.#startAlerts(target, me.id, key);
    } catch (err) {
      // not known yet who this is: no notifications; tried again after the next command
      if (this.#warned !== key)
        this.#say(`(no notifications: ${err instanceof Error ? printable(err.message) : String(err)})`);
      this.#warned = key;
    }
  }

  #session(target: Target, channel: string, since: string | undefined, stop: AbortController): LiveSession {
    let away = false;
    const session = new LiveSession({
      baseUrl: target.url,
      token: target.credential?.token,
      channels: [channel],
      ...(since ? { since: new Map([[channel, since]]) } : {}),
      signal: AbortSignal.any([stop.signal, this.#io.signal]),
      handlers: {
        event: (frame) => this.#onFrame(frame, session),
        state: (state, detail) => {
          if (state === 'reconnecting' && !away) {
            away = true;
            this.notify(`(notifications on ${channel} interrupted: ${detail})`);
          } else if (state === 'live' && away) {
            away = false;
            this.notify(`(notifications on ${channel} back)`);
          }
        },
        reset: (ch) => this.notify(`(some notifications on ${ch} were lost)`),
      },
    });
    liveEnd(session).catch((err: unknown) => {
      if (!stop.signal.aborted && !this.#io.signal.aborted)
        this.notify(`(notifications on ${channel} stopped: ${err instanceof CliError ? err.message : String(err)})`);
    });
    return session;
  }

  #startAlerts(target: Target, userId: string, key: string): void {
    const stop = new AbortController();
    const alerts = this.#session(target, `alerts:${userId}`, undefined, stop);
    this.#identity = { key, target, userId, alerts, stop };
  }

  #stopIdentity(): void {
    this.#identity?.stop.abort();
    this.#identity = undefined;
    this.#identityKey = undefined;
    for (const s of this.#jobSessions.values()) s.close();
    this.#jobSessions.clear();
  }

  /**
   * A job submitted here: its channel is followed from its first frame (`since` the start of its
   * history, which holds only this job's frames) until it completes or fails.
   */
  #followJob(jobId: string): void {
    const identity = this.#identity;
    if (!identity || this.#jobSessions.has(jobId)) return;
    this.#jobSessions.set(jobId, this.#session(identity.target, `jobs:${jobId}`, '0-0', identity.stop));
  }

  #onFrame(frame: WsEventFrame, session: LiveSession): void {
    const jobId = frame.channel.startsWith('jobs:') ? frame.channel.slice('jobs:'.length) : undefined;
    if (jobId && JOB_END.has(frame.event)) {
      session.close();
      this.#jobSessions.delete(jobId);
    }
    // the command that submitted the job is showing its progress itself
    if (jobId && this.#running?.jobs.has(jobId)) return;
    this.notify(noticeLine(frame));
  }

  // ---- output

  /**
   * A line above the prompt: the prompt and the half-typed line are wiped, the message printed, and
   * both drawn again with the cursor where it was. During a command, or off a terminal, a plain line.
   */
  notify(text: string): void {
    const out = this.#io.stdout;
    const rl = this.#rl;
    if (!this.#interactive) {
      out.write(`${text}\n`);
      return;
    }
    if (!rl) {
      // over whatever the running command left on the line (a progress bar redraws itself)
      out.write(`\r\x1b[K${text}\n`);
      return;
    }
    const { rows } = rl.getCursorPos();
    if (rows > 0) moveCursor(out, 0, -rows);
    cursorTo(out, 0);
    clearScreenDown(out);
    // readline redraws from `rows` lines above where it believes the cursor is: leave it that room
    out.write(`${text}\n${'\n'.repeat(rows)}`);
    rl.prompt(true);
  }

  #say(text: string): void {
    if (this.#rl) this.notify(text);
    else this.#io.stderr.write(`${text}\n`);
  }

  #error(text: string): void {
    this.#io.stderr.write(`error: ${printable(text)}\n`);
  }
}
