import { afterEach, describe, expect, it } from 'vitest';

import { WakeLoop, type RoundContext, type WakeLoopOptions } from './wake-loop.ts';

const LONG = 60_000;
const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await tick(2);
  }
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

type Step = number | Error | (() => Promise<number>);

/** A loop whose rounds follow `steps` (sleep ms, a failure, or a function), then sleep LONG. */
function scripted(steps: Step[], options: Partial<WakeLoopOptions> = {}) {
  const rounds: RoundContext[] = [];
  const errors: number[] = [];
  const times: number[] = [];
  const loop = new WakeLoop({
    backoff: { firstMs: 5, maxMs: 20 },
    onError: (_err, retryMs) => errors.push(retryMs),
    round: async (context) => {
      rounds.push(context);
      times.push(Date.now());
      const step = steps.shift() ?? LONG;
      if (step instanceof Error) throw step;
      return typeof step === 'number' ? step : step();
    },
    ...options,
  });
  loops.push(loop);
  return { loop, rounds, errors, times };
}

const loops: WakeLoop[] = [];
afterEach(async () => {
  await Promise.all(loops.splice(0).map((l) => l.close()));
});

describe('WakeLoop', () => {
  it('runs the next round at once after 0 and after the sleep a round asks for', async () => {
    const { loop, rounds, times } = scripted([0, 0, 200]);
    loop.start();
    await until('four rounds', () => rounds.length === 4);
    expect(times[2]! - times[0]!).toBeLessThan(150);
    expect(times[3]! - times[2]!).toBeGreaterThanOrEqual(199);
  });

  it('ends a sleep on notify()', async () => {
    const { loop, rounds } = scripted([]);
    loop.start();
    await until('the first round', () => rounds.length === 1);
    await tick();
    expect(rounds).toHaveLength(1);
    loop.notify();
    await until('the woken round', () => rounds.length === 2);
  });

  it('does not sleep after a round during which notify() came', async () => {
    const gate = deferred();
    const { loop, rounds } = scripted([
      async () => {
        await gate.promise;
        return LONG;
      },
    ]);
    loop.start();
    await until('the first round', () => rounds.length === 1);
    loop.notify();
    gate.resolve();
    await until('the next round, without a sleep', () => rounds.length === 2);
  });

  it('backs off after failures, doubling to the maximum, and starts again from the first after a success', async () => {
    const fail = new Error('down');
    const { loop, rounds, errors } = scripted([fail, fail, fail, fail, 0, fail, LONG]);
    loop.start();
    await until('seven rounds', () => rounds.length === 7);
    expect(errors).toEqual([5, 10, 20, 20, 5]);
    expect(rounds.map((r) => r.retrying)).toEqual([false, true, true, true, true, false, true]);
  });

  it('does not cut a backoff short on notify(), only on close()', async () => {
    const { loop, rounds, errors } = scripted([new Error('down')], { backoff: { firstMs: LONG, maxMs: LONG } });
    loop.start();
    await until('the failure', () => errors.length === 1);
    loop.notify();
    await tick(50);
    expect(rounds).toHaveLength(1);
    const started = Date.now();
    await loop.close();
    expect(Date.now() - started).toBeLessThan(100);
    expect(rounds).toHaveLength(1);
  });

  it('cuts a backoff short on notify() when told to', async () => {
    const { loop, rounds } = scripted([new Error('down')], {
      backoff: { firstMs: LONG, maxMs: LONG },
      notifyEndsBackoff: true,
    });
    loop.start();
    await until('the failure', () => rounds.length === 1);
    loop.notify();
    await until('the retry', () => rounds.length === 2);
  });

  it('wake() ends every backoff and every sleep, and the next round still reports retrying', async () => {
    const { loop, rounds } = scripted([new Error('down'), new Error('down'), LONG], {
      loops: 3,
      backoff: { firstMs: LONG, maxMs: LONG },
    });
    loop.start();
    // two loops fail and back off for LONG, the third sleeps LONG after its round
    await until('three rounds', () => rounds.length === 3);
    loop.wake();
    await until('every loop ran again', () => rounds.length === 6);
    expect(rounds.slice(3).filter((r) => r.retrying)).toHaveLength(2);
  });

  it("wakes one sleeping loop per notify() by default, every one with notifyWakes: 'all'", async () => {
    for (const [notifyWakes, woken] of [
      ['one', 1],
      ['all', 3],
    ] as const) {
      const { loop, rounds } = scripted([], { loops: 3, notifyWakes });
      loop.start();
      await until('every loop asleep', () => rounds.length === 3);
      loop.notify();
      await tick(50);
      expect(rounds.length - 3, notifyWakes).toBe(woken);
    }
  });

  it('close() ends the sleeps, waits for the round running and starts no other', async () => {
    const gate = deferred();
    let finished = false;
    const { loop, rounds } = scripted(
      [
        async () => {
          await gate.promise;
          finished = true;
          return 0;
        },
      ],
      { loops: 2 },
    );
    loop.start();
    await until('both loops in a round', () => rounds.length === 2);
    let closed = false;
    const closing = loop.close().then(() => (closed = true));
    await tick();
    expect(closed).toBe(false);
    gate.resolve();
    await closing;
    expect(finished).toBe(true);
    expect(rounds).toHaveLength(2);
    loop.start();
    await tick();
    expect(rounds).toHaveLength(2);
  });

  it('start() twice runs the loops once', async () => {
    const { loop, rounds } = scripted([], { loops: 2 });
    loop.start();
    loop.start();
    await until('the loops', () => rounds.length === 2);
    await tick();
    expect(rounds).toHaveLength(2);
  });
});
