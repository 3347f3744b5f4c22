import { describe, expect, it } from 'vitest';

import { percent, redraw, renderBar, statusLine } from './progress.ts';

describe('percent', () => {
  it('rounds and clamps the fraction; nothing said is 0', () => {
    expect(percent(0.374)).toBe(37);
    expect(percent(0.375)).toBe(38);
    expect(percent(1.5)).toBe(100);
    expect(percent(-1)).toBe(0);
    expect(percent(undefined)).toBe(0);
    expect(percent(Number.NaN)).toBe(0);
  });
});

describe('renderBar', () => {
  const state = { progress: 0.5, status: 'running', label: 'job 1f2e3d4c' };

  it('fills the bar in proportion, at most 40 cells on a wide terminal', () => {
    expect(renderBar(state, 200)).toBe(`[${'█'.repeat(20)}${'░'.repeat(20)}]   50%  running  job 1f2e3d4c`);
    expect(renderBar({ ...state, progress: 0 }, 200)).toBe(`[${'░'.repeat(40)}]    0%  running  job 1f2e3d4c`);
    expect(renderBar({ ...state, progress: 1, status: 'done' }, 200)).toBe(
      `[${'█'.repeat(40)}]  100%  done  job 1f2e3d4c`,
    );
  });

  it('shrinks to the terminal width, never reaching its last column', () => {
    for (const columns of [80, 60, 45, 40, 30]) {
      const line = renderBar(state, columns);
      expect(line.length, `${columns} columns`).toBeLessThan(columns);
    }
    expect(renderBar(state, 50)).toBe(`[${'█'.repeat(9)}${'░'.repeat(9)}]   50%  running  job 1f2e3d4c`);
  });

  it('cuts the label before the bar goes under 10 cells, then drops it', () => {
    expect(renderBar(state, 35)).toBe(`[${'█'.repeat(5)}${'░'.repeat(5)}]   50%  running  job …`);
    expect(renderBar(state, 28)).toBe(`[${'█'.repeat(5)}${'░'.repeat(5)}]   50%  running`);
  });

  it('takes 80 columns when the width is unknown', () => {
    expect(renderBar(state, undefined)).toBe(renderBar(state, 80));
    expect(renderBar(state, 0)).toBe(renderBar(state, 80));
  });
});

describe('plain and in-place lines', () => {
  it('a status line has no escape codes; a redraw returns to the line start and erases its end', () => {
    expect(statusLine({ progress: undefined, status: 'queued', label: 'job x' })).toBe('job x: queued');
    expect(statusLine({ progress: 0.25, status: 'running', label: 'job x' })).toBe('job x: running 25%');
    expect(redraw('abc')).toBe('\rabc\x1b[K');
  });
});
