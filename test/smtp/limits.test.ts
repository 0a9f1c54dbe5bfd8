// Per-IP limits (421 at connect, 450 at MAIL FROM) and the greeting latency:
// the banner comes at once, so it does not cap how fast connections are taken.
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, test } from 'node:test';
import { MessageRateLimit } from '../../src/smtp/rate-limit.js';
import { startHarness, swaks, type Harness } from './smtp-harness.js';

let harness: Harness;

before(async () => {
  harness = await startHarness({ smtp: { maxConnectionsPerIp: 2, maxMessagesPerIpPerMinute: 3 } });
});

after(async () => harness.close());

/** Opens a connection and resolves with the first reply line and the socket. */
function greeting(port: number): Promise<{ line: string; socket: net.Socket; milliseconds: number }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (data) => {
      text += data.toString();
      if (text.includes('\r\n')) resolve({ line: text.split('\r\n')[0]!, socket, milliseconds: Number(process.hrtime.bigint() - started) / 1e6 });
    });
    socket.on('error', reject);
  });
}

test('a third concurrent connection from one address gets 421 4.7.0; a slot frees when one closes', async () => {
  const first = await greeting(harness.mxPort);
  const second = await greeting(harness.mxPort);
  const third = await greeting(harness.mxPort);
  assert.match(first.line, /^220 /);
  assert.match(second.line, /^220 /);
  assert.equal(third.line, '421 4.7.0 Too many connections from your address, try again later');
  third.socket.destroy();
  first.socket.end();
  await new Promise((resolve) => first.socket.on('close', resolve));
  await new Promise((resolve) => setTimeout(resolve, 50));
  const fourth = await greeting(harness.mxPort);
  assert.match(fourth.line, /^220 /);
  second.socket.destroy();
  fourth.socket.destroy();
});

test('the fourth message in a minute from one address gets 450 4.7.1 at MAIL FROM', async () => {
  await new Promise((resolve) => setTimeout(resolve, 100));
  for (let index = 0; index < 3; index++) {
    const result = await swaks(harness.mxPort, ['--from', 'carol@example.org', '--to', 'alice@example.com']);
    assert.match(result.stdout, /^<\S* +250 2\.6\.0/m, result.stdout);
  }
  const limited = await swaks(harness.mxPort, ['--from', 'carol@example.org', '--to', 'alice@example.com']);
  assert.match(limited.stdout, /^<\S* +450 4\.7\.1 Too many messages from your address/m);
});

async function medianGreeting(port: number): Promise<number> {
  const times: number[] = [];
  for (let index = 0; index < 15; index++) {
    const { line, socket, milliseconds } = await greeting(port);
    assert.match(line, /^220 mx\.example\.com ESMTP Postkeep/);
    times.push(milliseconds);
    socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return times.sort((a, b) => a - b)[7]!;
}

test('the banner waits greetingDelayMilliseconds: 100 ms on the MX (early-talker check), none on submission', async () => {
  const submission = await medianGreeting(harness.submissionPort);
  const mx = await medianGreeting(harness.mxPort);
  assert.ok(mx >= 95, `median MX greeting latency ${mx} ms`);
  // Relative, so a loaded machine slowing both does not fail it: the submission banner skips the 100 ms.
  assert.ok(submission < mx - 50, `median submission greeting latency ${submission} ms against the MX's ${mx} ms`);
});

test('a client that talks before the MX banner is refused with 421', async () => {
  const reply = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(harness.mxPort, '127.0.0.1', () => socket.write('EHLO spammer.example\r\n'));
    let text = '';
    socket.on('data', (data) => (text += data.toString()));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
    setTimeout(() => socket.end(), 500);
  });
  assert.match(reply, /^421 /m);
});

// Connections per address: the gate's own tests (test/server/connection-gate.test.ts).
test('the message rate limiter: counts per address, refills over time', () => {
  let now = 0;
  const rate = new MessageRateLimit(60, () => now);
  for (let index = 0; index < 60; index++) assert.ok(rate.tryTake('192.0.2.1'));
  assert.ok(!rate.tryTake('192.0.2.1'));
  assert.ok(rate.tryTake('192.0.2.9'));
  now += 1000;
  assert.ok(rate.tryTake('192.0.2.1'), 'one token back after a second at 60 per minute');
  assert.ok(!rate.tryTake('192.0.2.1'));
});
