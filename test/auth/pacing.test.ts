import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultPacingSettings, LoginPacing, sourceKey } from '../../src/auth/pacing.js';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (milliseconds: number) => (now += milliseconds) };
}

test('delays grow 0, 1, 2, 4 … steps per pair and per source, up to the cap', () => {
  const time = clock();
  const pacing = new LoginPacing({ ...defaultPacingSettings, lockThreshold: 100 }, time.now);
  const delays = Array.from({ length: 9 }, () => pacing.recordFailure('alice@example.com', '192.0.2.1', { known: false }).delayMilliseconds);
  assert.deepEqual(delays, [0, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  // The same source trying another account is already slowed down.
  assert.equal(pacing.recordFailure('bob@example.com', '192.0.2.1', { known: false }).delayMilliseconds, 30000);
  // Another source, another account: starts at zero.
  assert.equal(pacing.recordFailure('bob@example.com', '192.0.2.2', { known: false }).delayMilliseconds, 0);
  // Failures older than the window are forgotten.
  time.advance(61 * 60_000);
  assert.equal(pacing.recordFailure('alice@example.com', '192.0.2.1', { known: false }).delayMilliseconds, 0);
});

test('the pair locks at the threshold; a success clears it; the lock runs out', async () => {
  const time = clock();
  const pacing = new LoginPacing({ ...defaultPacingSettings, delayStepSeconds: 0, lockThreshold: 3, lockMinutes: 10 }, time.now);
  assert.equal(pacing.recordFailure('alice', '192.0.2.1', { known: true }).lockedUntil, null);
  assert.equal(pacing.recordFailure('alice', '192.0.2.1', { known: true }).lockedUntil, null);
  assert.equal(pacing.recordFailure('alice', '192.0.2.1', { known: true }).lockedUntil, time.now() + 600_000);
  assert.deepEqual(await pacing.admit('alice', '192.0.2.1', true), { locked: true, until: time.now() + 600_000 });
  assert.deepEqual(await pacing.admit('alice', '192.0.2.2', false), { locked: false }, 'another address is not locked');
  time.advance(600_001);
  assert.deepEqual(await pacing.admit('alice', '192.0.2.1', true), { locked: false });
  pacing.recordFailure('alice', '192.0.2.3', { known: false });
  pacing.recordSuccess('alice', '192.0.2.3');
  assert.equal(pacing.recordFailure('alice', '192.0.2.3', { known: false }).lockedUntil, null);
});

test('many addresses hammering one account lock out unknown addresses, never a known one', async () => {
  const time = clock();
  const pacing = new LoginPacing({ ...defaultPacingSettings, delayStepSeconds: 0, lockThreshold: 100, accountLockThreshold: 20 }, time.now);
  let lockedUntil: number | null = null;
  for (let i = 0; i < 20; i++) lockedUntil = pacing.recordFailure('alice', `198.51.100.${i}`, { known: false }).lockedUntil ?? lockedUntil;
  assert.ok(lockedUntil);
  assert.equal((await pacing.admit('alice', '203.0.113.9', false)).locked, true, 'a new address');
  assert.equal((await pacing.admit('alice', '203.0.113.10', true)).locked, false, 'the owner, from an address that succeeded before');
  assert.equal((await pacing.admit('bob', '203.0.113.9', false)).locked, false, 'other accounts');
});

test('an attempt waits (on a timer) while an earlier failure from its source is paced', async () => {
  const pacing = new LoginPacing({ ...defaultPacingSettings, delayStepSeconds: 0.2 });
  pacing.recordFailure('alice', '192.0.2.1', { known: false });
  pacing.recordFailure('alice', '192.0.2.1', { known: false });
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 10);
  const started = Date.now();
  await pacing.admit('carol', '192.0.2.1', false);
  clearInterval(ticker);
  // Lower bounds only: a timer never fires early by more than rounding, but a busy machine can make it late.
  assert.ok(Date.now() - started >= 150, 'waited for the source');
  assert.ok(ticks >= 2, 'the event loop ran meanwhile');
});

test('the tables stay bounded, and pacing off tracks nothing', () => {
  const pacing = new LoginPacing({ ...defaultPacingSettings, maxTrackedEntries: 100 });
  for (let i = 0; i < 5000; i++) pacing.recordFailure(`user${i}`, `10.0.${i >> 8}.${i & 255}`, { known: false });
  assert.ok(pacing.trackedEntries <= 300, `${pacing.trackedEntries} entries`);
  const off = new LoginPacing({ ...defaultPacingSettings, pacing: false });
  for (let i = 0; i < 50; i++) assert.equal(off.recordFailure('alice', '192.0.2.1', { known: false }).delayMilliseconds, 0);
  assert.equal(off.trackedEntries, 0);
});

test('IPv6 sources are paced by their /64, IPv4-mapped ones as IPv4', () => {
  assert.equal(sourceKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
  assert.equal(sourceKey('2001:db8:1:2::7'), '2001:db8:1:2::/64');
  assert.equal(sourceKey('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(sourceKey('::1'), '0:0:0:0::/64');
  assert.equal(sourceKey('::ffff:192.0.2.1'), '192.0.2.1');
  assert.equal(sourceKey('192.0.2.1'), '192.0.2.1');
});
