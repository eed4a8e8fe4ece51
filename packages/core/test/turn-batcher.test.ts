import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { TurnBatcher } from '../src/shared/turn-batcher.ts';

/** A `send` that records each call and answers when the test says so. */
function recorder() {
  const calls: Array<{ context: string; items: number[]; answer(): void; fail(err: Error): void }> = [];
  const send = (context: string, items: number[]) =>
    new Promise<number[]>((resolve, reject) => {
      calls.push({ context, items, answer: () => resolve(items.map((n) => n * 10)), fail: reject });
    });
  return { calls, send };
}

describe('TurnBatcher', () => {
  it('sends the calls of one turn together per key, in chunks of maxBatch, and answers each in order', async () => {
    const { calls, send } = recorder();
    const batcher = new TurnBatcher(send, { maxBatch: 2 });
    const answers = Promise.all([
      batcher.add('a', 'ctx-a', 1),
      batcher.add('b', 'ctx-b', 2),
      batcher.add('a', 'ignored', 3),
      batcher.add('a', 'ignored', 4),
    ]);
    expect(calls).toHaveLength(0);
    await nextTurn();
    expect(calls.map((c) => [c.context, c.items])).toEqual([
      ['ctx-a', [1, 3]],
      ['ctx-a', [4]],
      ['ctx-b', [2]],
    ]);
    for (const call of calls) call.answer();
    expect(await answers).toEqual([10, 20, 30, 40]);
  });

  it('sends batches of one key side by side by default', async () => {
    const { calls, send } = recorder();
    const batcher = new TurnBatcher(send, { maxBatch: 10 });
    const first = batcher.add('a', 'ctx', 1);
    await nextTurn();
    const second = batcher.add('a', 'ctx', 2);
    await nextTurn();
    expect(calls.map((c) => c.items)).toEqual([[1], [2]]);
    for (const call of calls) call.answer();
    expect(await Promise.all([first, second])).toEqual([10, 20]);
  });

  it('with oneInFlightPerKey, holds the calls of later turns until the key is free, then sends them together', async () => {
    const { calls, send } = recorder();
    const batcher = new TurnBatcher(send, { maxBatch: 3, oneInFlightPerKey: true });
    const results: Array<Promise<number>> = [batcher.add('a', 'ctx', 1)];
    await nextTurn();
    for (let turn = 0; turn < 3; turn++) {
      results.push(batcher.add('a', 'ctx', 10 + turn * 2), batcher.add('a', 'ctx', 11 + turn * 2));
      results.push(batcher.add('b', 'ctx-b', 100 + turn));
      await nextTurn();
    }
    // 'a' is in flight: nothing more for it; 'b' was free, so its first turn went and the rest waits.
    expect(calls.map((c) => c.items)).toEqual([[1], [100]]);
    calls[0]?.answer();
    await nextTurn();
    // Six calls of 'a' waited: the next call takes maxBatch of them, the rest waits for it in turn.
    expect(calls.map((c) => c.items)).toEqual([[1], [100], [10, 11, 12]]);
    calls[2]?.answer();
    calls[1]?.answer();
    await nextTurn();
    expect(calls.map((c) => c.items)).toEqual([[1], [100], [10, 11, 12], [13, 14, 15], [101, 102]]);
    calls[3]?.answer();
    calls[4]?.answer();
    expect(await Promise.all(results)).toEqual([10, 100, 110, 1000, 120, 130, 1010, 140, 150, 1020]);
  });

  it('rejects the calls of a failed or short batch, and a failure does not block the key', async () => {
    const { calls, send } = recorder();
    const batcher = new TurnBatcher(send, { maxBatch: 10, oneInFlightPerKey: true });
    const failed = Promise.allSettled([batcher.add('a', 'ctx', 1), batcher.add('a', 'ctx', 2)]);
    await nextTurn();
    const next = batcher.add('a', 'ctx', 3);
    await nextTurn();
    calls[0]?.fail(new Error('connection lost'));
    expect((await failed).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await nextTurn();
    expect(calls.map((c) => c.items)).toEqual([[1, 2], [3]]);
    calls[1]?.answer();
    expect(await next).toBe(30);

    const short = new TurnBatcher(async () => [1], { maxBatch: 10 });
    const answers = await Promise.allSettled([short.add('k', null, 1), short.add('k', null, 2)]);
    expect(answers.map((r) => (r.status === 'rejected' ? String(r.reason) : r.value))).toEqual([
      'Error: batch answered 1 of 2',
      'Error: batch answered 1 of 2',
    ]);
  });

  it('tells onSent how long each send took, once per batch, when it answers and when it fails', async () => {
    const { calls, send } = recorder();
    const sent: number[] = [];
    const batcher = new TurnBatcher(send, { maxBatch: 10, onSent: (seconds) => sent.push(seconds) });
    const first = Promise.all([batcher.add('a', 'ctx', 1), batcher.add('a', 'ctx', 2), batcher.add('a', 'ctx', 3)]);
    await nextTurn();
    expect(sent).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    calls[0]?.answer();
    expect(await first).toEqual([10, 20, 30]);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toBeGreaterThanOrEqual(0.015);
    const failed = batcher.add('a', 'ctx', 4);
    await nextTurn();
    calls[1]?.fail(new Error('connection lost'));
    await expect(failed).rejects.toThrow('connection lost');
    expect(sent).toHaveLength(2);
  });
});
