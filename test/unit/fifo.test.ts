import { describe, expect, it } from 'vitest';
import { Fifo } from '../../src/fifo.js';

describe('Fifo', () => {
  it('hands items out oldest first, across the compaction of a long queue', () => {
    const q = new Fifo<number>();
    const out: number[] = [];
    // Interleaved pushes and shifts keep the queue non-empty, so the consumed front is cut off
    // while items remain; the order must survive it.
    let next = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 100; i++) q.push(next++);
      for (let i = 0; i < 60; i++) out.push(q.shift() as number);
    }
    expect(q.size).toBe(50 * 40);
    expect(q.peek()).toBe(out.length);
    out.push(...q.clear());
    expect(out).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect(q.size).toBe(0);
    expect(q.shift()).toBeUndefined();
    expect(q.peek()).toBeUndefined();
  });
});
