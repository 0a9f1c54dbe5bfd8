// A DATA that never ends, or many at once, cannot fill the disk: nothing is kept
// past smtp.maxMessageSize (552 5.3.4 at the final dot), and all connections
// together hold at most smtp.spoolLimit (452 4.3.1 at DATA when it is full, or at
// the dot for a message that would push past it). The spool folder is sampled
// while the bytes stream in.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { RawSmtpClient } from './raw-smtp-client.js';
import { startHarness, type Harness } from './smtp-harness.js';

const maxMessageSize = 3_000_000;
const spoolLimit = 4_000_000;
let harness: Harness;

before(async () => {
  harness = await startHarness({ smtp: { maxMessageSize, spoolLimit } });
});

after(async () => harness.close());

async function spoolBytes(): Promise<number> {
  const directory = path.join(harness.dataDir, 'tmp', 'smtp');
  let total = 0;
  for (const name of await fs.readdir(directory).catch(() => [] as string[])) {
    total += await fs.stat(path.join(directory, name)).then((entry) => entry.size, () => 0);
  }
  return total;
}

/** Samples the spool folder's size until stopped; `largest` is the most it ever held. */
function sampleSpool(): { stop(): Promise<number> } {
  let running = true;
  let largest = 0;
  const loop = (async () => {
    while (running) {
      largest = Math.max(largest, await spoolBytes());
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return Math.max(largest, await spoolBytes());
    },
  };
}

/** Waits (by condition, not by time) until the spool folder holds at least `bytes`. */
async function spoolReaches(bytes: number): Promise<void> {
  while ((await spoolBytes()) < bytes) await new Promise((resolve) => setTimeout(resolve, 10));
}

async function inboxCount(): Promise<number> {
  return (await harness.account.getMailbox('INBOX')).messages;
}

/** A connection in DATA (after 354) for alice. */
async function inData(): Promise<RawSmtpClient> {
  const { client } = await RawSmtpClient.connect(harness.mxPort);
  assert.match(await client.command('EHLO client.example.org\r\n'), /^250-/);
  assert.match(await client.command('MAIL FROM:<carol@example.org>\r\n'), /^250 /);
  assert.match(await client.command('RCPT TO:<alice@example.com>\r\n'), /^250 /);
  assert.match(await client.command('DATA\r\n'), /^354 /);
  return client;
}

/** `bytes` of message lines (78 characters and CRLF each, the first a header). */
async function stream(client: RawSmtpClient, bytes: number): Promise<void> {
  const line = 'x'.repeat(78) + '\r\n';
  const block = Buffer.from(line.repeat(Math.floor(65_536 / line.length)));
  let sent = 0;
  if (bytes > 0) {
    await client.write('Subject: big\r\n');
    sent += 14;
  }
  while (sent + block.length <= bytes) {
    await client.write(block);
    sent += block.length;
  }
  if (sent < bytes) await client.write(Buffer.alloc(bytes - sent, 'y'));
}

test('a DATA of 40 MB against a 3 MB limit: the spool never holds more than the limit, 552 5.3.4 at the dot, and the session goes on', async (t) => {
  const before = await inboxCount();
  const client = await inData();
  const sampler = sampleSpool();
  await stream(client, 40_000_000);
  assert.match(await client.command('\r\n.\r\n'), /^552 5\.3\.4 /);
  const largest = await sampler.stop();
  t.diagnostic(`spool peak ${largest} bytes while 40000000 streamed (limit ${maxMessageSize})`);
  assert.ok(largest <= maxMessageSize, `the spool held ${largest} bytes`);
  assert.equal(await spoolBytes(), 0);
  assert.match(await client.command('RSET\r\n'), /^250 /);
  assert.match(await client.command('MAIL FROM:<carol@example.org>\r\n'), /^250 /);
  assert.match(await client.command('RCPT TO:<alice@example.com>\r\n'), /^250 /);
  assert.match(await client.command('DATA\r\n'), /^354 /);
  assert.match(await client.command('Subject: small\r\n\r\nafter the big one\r\n.\r\n'), /^250 2\.6\.0 /);
  assert.equal(await inboxCount(), before + 1);
  client.close();
});

test('three senders share smtp.spoolLimit: DATA gets 452 4.3.1 while it is full, the one that overflows gets 452 at its dot, the rest are delivered', async (t) => {
  const before = await inboxCount();
  const sampler = sampleSpool();
  const first = await inData();
  await stream(first, 2_000_000);
  await spoolReaches(2_000_000 - 8);
  const second = await inData();
  await stream(second, 1_960_000);
  await spoolReaches(3_960_000 - 16);

  // Under 64 KiB left: a third DATA is deferred before any upload, and its transaction stays.
  const { client: third } = await RawSmtpClient.connect(harness.mxPort);
  assert.match(await third.command('EHLO client.example.org\r\n'), /^250-/);
  assert.match(await third.command('MAIL FROM:<carol@example.org>\r\n'), /^250 /);
  assert.match(await third.command('RCPT TO:<alice@example.com>\r\n'), /^250 /);
  assert.match(await third.command('DATA\r\n'), /^452 4\.3\.1 /);

  // The second message grows past the limit: none of it is kept, 452 at its dot.
  await stream(second, 100_000);
  assert.match(await second.command('\r\n.\r\n'), /^452 4\.3\.1 /);

  // Room again: the third sender's retry and the first message both arrive.
  assert.match(await third.command('DATA\r\n'), /^354 /);
  assert.match(await third.command('Subject: third\r\n\r\nretried\r\n.\r\n'), /^250 2\.6\.0 /);
  assert.match(await first.command('\r\n.\r\n'), /^250 2\.6\.0 /);
  const largest = await sampler.stop();
  t.diagnostic(`spool peak ${largest} bytes over three senders (limit ${spoolLimit})`);
  assert.ok(largest <= spoolLimit, `the spool held ${largest} bytes`);
  assert.equal(await inboxCount(), before + 2);

  // The refused sender's session is still usable.
  assert.match(await second.command('RSET\r\n'), /^250 /);
  assert.match(await second.command('MAIL FROM:<carol@example.org>\r\n'), /^250 /);
  assert.match(await second.command('RCPT TO:<alice@example.com>\r\n'), /^250 /);
  assert.match(await second.command('DATA\r\n'), /^354 /);
  assert.match(await second.command('Subject: second\r\n\r\nsmaller\r\n.\r\n'), /^250 2\.6\.0 /);
  assert.equal(await inboxCount(), before + 3);
  assert.equal(await spoolBytes(), 0);
  for (const client of [first, second, third]) client.close();
});

test('a declared SIZE larger than the free spool is deferred at DATA (RFC 1870)', async () => {
  const first = await inData();
  await stream(first, 2_000_000);
  await spoolReaches(2_000_000 - 8);
  const { client } = await RawSmtpClient.connect(harness.mxPort);
  assert.match(await client.command('EHLO client.example.org\r\n'), /^250-/);
  assert.match(await client.command('MAIL FROM:<carol@example.org> SIZE=2500000\r\n'), /^250 /);
  assert.match(await client.command('RCPT TO:<alice@example.com>\r\n'), /^250 /);
  assert.match(await client.command('DATA\r\n'), /^452 4\.3\.1 /);
  assert.match(await first.command('\r\n.\r\n'), /^250 2\.6\.0 /);
  assert.match(await client.command('DATA\r\n'), /^354 /);
  assert.match(await client.command('Subject: declared\r\n\r\nfits now\r\n.\r\n'), /^250 2\.6\.0 /);
  for (const each of [first, client]) each.close();
});
