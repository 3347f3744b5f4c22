// The shutdown order: phases run in their fixed order, `draining` first, each step within its time.
import { describe, expect, it } from 'vitest';

import { createLogger } from '../src/logger.ts';
import { Shutdown } from '../src/shutdown.ts';

const log = createLogger('shutdown-test', 'silent');
const wait = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('Shutdown', () => {
  it('runs draining before accepting and the rest, and says stopping from the start', async () => {
    const shutdown = new Shutdown(log);
    const order: string[] = [];
    const note = (name: string) => () => void order.push(`${name}${shutdown.stopping ? '' : ' (not stopping)'}`);
    shutdown.add('postgres', 'pool', note('postgres'));
    shutdown.add('nats', 'drain', note('nats'));
    shutdown.add('accepting', 'http', note('accepting'));
    shutdown.add('draining', 'http', note('draining'));
    shutdown.add('redis', 'client', note('redis'));
    shutdown.add('in-flight', 'relay', note('in-flight'));
    expect(shutdown.stopping).toBe(false);
    await shutdown.run('test');
    expect(order).toEqual(['draining', 'accepting', 'in-flight', 'nats', 'redis', 'postgres']);
  });

  it('gives a step its own time when it names one, and gives up a step past the shutdown’s timeout', async () => {
    const shutdown = new Shutdown(log, 100);
    const done: string[] = [];
    shutdown.add(
      'draining',
      'long drain',
      async () => {
        await wait(300);
        done.push('drain');
      },
      { timeoutMs: 1000 },
    );
    shutdown.add('accepting', 'hung', async () => {
      await wait(300);
      done.push('hung');
    });
    shutdown.add('in-flight', 'after', () => void done.push('after'));
    await shutdown.run('test');
    // the hung step was given up after 100 ms: the next phase ran before it finished
    expect(done).toEqual(['drain', 'after']);
    await wait(300);
    expect(done).toEqual(['drain', 'after', 'hung']);
  });
});
