// The hash limiter on its own: slots, the order of the queue, the queue's bound, and
// a slot given back whatever the work did. Work is held by promises the test
// releases, so nothing here depends on time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HashLimiter } from '../../src/auth/hash-limiter.js';
import { PasswordCheckBusy } from '../../src/errors.js';

function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

test('at most maxConcurrent run, the next queueLimit wait in order, one more is refused at once', async () => {
  const limiter = new HashLimiter({ maxConcurrent: 2, queueLimit: 3 });
  const gates = Array.from({ length: 5 }, gate);
  const started: number[] = [];
  const runs = gates.map((held, index) =>
    limiter.run(async () => {
      started.push(index);
      await held.promise;
      return index;
    }),
  );
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(started, [0, 1]);
  assert.deepEqual(limiter.statistics(), { running: 2, waiting: 3, highWater: 2, refused: 0, completed: 0 });
  await assert.rejects(limiter.run(async () => 'never'), PasswordCheckBusy);
  assert.equal(limiter.statistics().refused, 1);

  gates[1]!.open();
  assert.equal(await runs[1], 1);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(started, [0, 1, 2], 'the first in the queue takes the freed slot');
  for (const held of gates) held.open();
  assert.deepEqual(await Promise.all(runs), [0, 1, 2, 3, 4]);
  assert.deepEqual(started, [0, 1, 2, 3, 4]);
  assert.deepEqual(limiter.statistics(), { running: 0, waiting: 0, highWater: 2, refused: 1, completed: 5 });
});

test('work that throws gives its slot back; raising the limit starts waiting work at once', async () => {
  const limiter = new HashLimiter({ maxConcurrent: 1, queueLimit: 10 });
  await assert.rejects(limiter.run(async () => Promise.reject(new Error('boom'))), /boom/);
  assert.equal(limiter.statistics().running, 0);

  const held = gate();
  const first = limiter.run(() => held.promise);
  let secondStarted = false;
  const second = limiter.run(async () => {
    secondStarted = true;
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(secondStarted, false);
  limiter.configure({ maxConcurrent: 2, queueLimit: 10 });
  await second;
  assert.equal(secondStarted, true);
  assert.equal(limiter.statistics().highWater, 2);
  held.open();
  await first;
  assert.deepEqual({ ...limiter.statistics(), highWater: 0 }, { running: 0, waiting: 0, highWater: 0, refused: 0, completed: 3 });
});

test('a queue limit of 0 refuses whatever finds every slot taken', async () => {
  const limiter = new HashLimiter({ maxConcurrent: 1, queueLimit: 0 });
  const held = gate();
  const first = limiter.run(() => held.promise);
  await assert.rejects(limiter.run(async () => undefined), PasswordCheckBusy);
  held.open();
  await first;
  await limiter.run(async () => undefined);
  assert.equal(limiter.statistics().refused, 1);
});
