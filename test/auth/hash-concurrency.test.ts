// Issue 11 item 11: a login storm must not run unboundedly many argon2id checks
// (64 MiB each) at once. A whole server (startServer) on ephemeral loopback ports;
// the storm is 500 real IMAP connections from 50 addresses in 127.0.0.0/8 sending
// wrong passwords and unknown users. What is asserted is counted, never timed: the
// limiter's high-water mark, the replies, the log events. Peak RSS is only reported.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as https from 'node:https';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { test } from 'node:test';
import { createAppPassword } from '../../src/auth/app-passwords.js';
import { credentialCache } from '../../src/auth/credential-cache.js';
import { passwordHashLimiter } from '../../src/auth/hash-limiter.js';
import { loginPacingFor } from '../../src/auth/pacing.js';
import { hashPassword } from '../../src/auth/password.js';
import { configSchema } from '../../src/config/schema.js';
import { createMemoryLogger } from '../../src/log.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { staticResolver } from '../../src/smtp/dns-resolver.js';
import { temporaryDirectory } from '../helpers/temporary-store.js';

const login = 'alice@example.com';
const password = 'correct horse battery staple';

interface Harness {
  server: RunningServer;
  log: ReturnType<typeof createMemoryLogger>;
  imapPort: number;
  smtpPort: number;
  adminPort: number;
  close(): Promise<void>;
}

async function startHarness(auth: Record<string, unknown>): Promise<Harness> {
  const dataDir = await temporaryDirectory('postkeep-hashes-');
  const config = configSchema.parse({
    dataDir,
    hostname: 'localhost',
    store: { scrubDays: 0 },
    // Plaintext on loopback keeps 500 clients cheap; the limiter sits behind every protocol alike.
    imap: { port: 0, tlsPort: 0, allowPlaintextOnLoopback: true },
    smtp: { mx: { enabled: false }, submission: { enabled: false }, submissions: { port: 0 } },
    admin: { port: 0 },
    auth,
  });
  const log = createMemoryLogger();
  const server = await startServer(config, log, { smtp: { resolver: staticResolver({}) } });
  await server.store.admin.addDomain('example.com');
  await server.store.admin.addAccount(login, await hashPassword(password));
  return {
    server,
    log,
    imapPort: server.imap!.port!,
    smtpPort: server.smtp.listeners.submissions!.port,
    adminPort: server.admin!.port,
    async close() {
      await server.stop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

function quote(text: string): string {
  return `"${text.replace(/["\\]/g, (character) => `\\${character}`)}"`;
}

/** A plaintext IMAP connection from `from` that has read its greeting; `send` returns the tagged reply line. */
async function imapClient(port: number, from: string): Promise<{ send(line: string): Promise<string>; close(): void }> {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress: from });
  let received = '';
  let waiter: { pattern: RegExp; resolve(line: string): void; reject(error: Error): void } | null = null;
  const check = () => {
    if (!waiter) return;
    const match = waiter.pattern.exec(received);
    if (!match) return;
    received = received.slice(match.index + match[0].length);
    const { resolve } = waiter;
    waiter = null;
    resolve(match[0]);
  };
  const waitFor = (pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      waiter = { pattern, resolve, reject };
      check();
    });
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
    check();
  });
  const fail = (error: Error) => waiter?.reject(error);
  socket.on('error', fail);
  socket.on('close', () => fail(new Error(`closed; received ${JSON.stringify(received)}`)));
  await waitFor(/^\* OK[^\r\n]*\r\n/m);
  return {
    send(line: string) {
      const tag = line.slice(0, line.indexOf(' '));
      const reply = waitFor(new RegExp(`^${tag} (OK|NO|BAD)[^\\r\\n]*`, 'm'));
      socket.write(`${line}\r\n`);
      return reply;
    },
    close: () => socket.destroy(),
  };
}

async function imapLogin(port: number, user: string, secret: string, from = '127.0.0.1'): Promise<string> {
  const client = await imapClient(port, from);
  try {
    return await client.send(`a1 LOGIN ${quote(user)} ${quote(secret)}`);
  } finally {
    client.close();
  }
}

/** SMTP AUTH PLAIN over implicit TLS; the reply line to AUTH. */
async function smtpAuth(port: number, user: string, secret: string): Promise<string> {
  const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
  let received = '';
  const lastLine = (code: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const match = code.exec(received);
        if (!match) return;
        received = received.slice(match.index + match[0].length);
        socket.off('data', onData);
        resolve(match[0].trim());
      };
      const onData = (chunk: Buffer) => {
        received += chunk.toString('latin1');
        check();
      };
      socket.on('data', onData);
      socket.once('error', reject);
      check();
    });
  try {
    await lastLine(/^220 [^\r\n]*\r\n/m);
    socket.write('EHLO client.example\r\n');
    await lastLine(/^250 [^\r\n]*\r\n/m);
    socket.write(`AUTH PLAIN ${Buffer.from(`\0${user}\0${secret}`).toString('base64')}\r\n`);
    return await lastLine(/^\d{3} [^\r\n]*\r\n/m);
  } finally {
    socket.destroy();
  }
}

function adminSession(port: number, user: string, secret: string): Promise<{ status: number; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ login: user, password: secret });
    const request = https.request(
      { host: '127.0.0.1', port, method: 'POST', path: '/session', rejectUnauthorized: false, agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode!, retryAfter: response.headers['retry-after'] as string | undefined }));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

const refused = /^a1 NO \[UNAVAILABLE\]/;
const failed = /^a1 NO \[AUTHENTICATIONFAILED\] invalid credentials$/;

test('500 connections sending wrong passwords: at most maxConcurrentHashes checks at once, the excess refused NO [UNAVAILABLE], the owner still gets in', async (t) => {
  const maxConcurrentHashes = 2;
  const hashQueueLimit = 20;
  // Pacing on, with short steps so the storm's paced answers come back soon.
  const harness = await startHarness({ maxConcurrentHashes, hashQueueLimit, delayStepSeconds: 0.01, maxDelaySeconds: 0.05, lockThreshold: 1000 });
  try {
    // The owner has logged in from 127.0.0.1 before: a known source, not locked out by the storm.
    assert.match(await imapLogin(harness.imapPort, login, password), /^a1 OK/);
    credentialCache.clear();
    passwordHashLimiter.resetStatistics();
    const eventsBefore = harness.log.events.length;

    // 500 connections from 50 addresses (10 each, under imap.maxConnectionsPerIp), all greeted
    // before any sends its LOGIN, so the LOGINs arrive together.
    const clients = await Promise.all(Array.from({ length: 500 }, (_, index) => imapClient(harness.imapPort, `127.0.1.${(index % 50) + 1}`)));
    let peakRss = process.memoryUsage().rss;
    const rssBefore = peakRss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
    const replies = await Promise.all(
      clients.map((client, index) => client.send(index % 2 === 0 ? `a1 LOGIN ${quote(login)} "guess ${index}"` : `a1 LOGIN "nobody${index}@example.com" "guess ${index}"`)),
    );
    clearInterval(sampler);
    for (const client of clients) client.close();

    const statistics = passwordHashLimiter.statistics();
    const busy = replies.filter((reply) => refused.test(reply)).length;
    const wrong = replies.filter((reply) => failed.test(reply)).length;
    t.diagnostic(`limiter ${JSON.stringify(statistics)}; replies: ${wrong} AUTHENTICATIONFAILED, ${busy} UNAVAILABLE`);
    t.diagnostic(`test process RSS (server and 500 clients): ${(rssBefore / 2 ** 20).toFixed(0)} MB before, ${(peakRss / 2 ** 20).toFixed(0)} MB peak`);

    assert.equal(busy + wrong, 500, `every reply is a failure or a temporary refusal: ${[...new Set(replies.filter((reply) => !refused.test(reply) && !failed.test(reply)))].join(' | ')}`);
    assert.ok(statistics.highWater >= 1 && statistics.highWater <= maxConcurrentHashes, `high-water mark ${statistics.highWater}`);
    assert.ok(busy >= 1, 'the queue filled and its excess was refused');
    assert.equal(statistics.refused, busy);
    assert.equal(statistics.completed, wrong, 'each answered failure paid one full check');
    assert.deepEqual({ running: statistics.running, waiting: statistics.waiting }, { running: 0, waiting: 0 });

    // Failures are logged and paced as before; a refusal is auth.busy and not a failure.
    const events = harness.log.events.slice(eventsBefore);
    assert.equal(events.filter((event) => event.event === 'auth.failed').length, wrong);
    assert.equal(events.filter((event) => event.event === 'auth.busy').length, busy);
    assert.equal(events.filter((event) => event.event === 'auth.failed' && event.fields.reason === 'unknown-user').length + events.filter((event) => event.event === 'auth.failed' && event.fields.reason === 'wrong-password').length, wrong);

    // After the storm the owner's right password is checked (nothing cached) and accepted.
    assert.match(await imapLogin(harness.imapPort, login, password), /^a1 OK/);
    assert.equal(passwordHashLimiter.statistics().completed, wrong + 1);
  } finally {
    await harness.close();
  }
});

test('with every slot and the queue taken: IMAP, SMTP and the admin API answer a temporary failure, uncounted; cached and app passwords still get in', async () => {
  const harness = await startHarness({ maxConcurrentHashes: 1, hashQueueLimit: 1, delayStepSeconds: 0.01, maxDelaySeconds: 0.05 });
  try {
    assert.match(await imapLogin(harness.imapPort, login, password), /^a1 OK/, 'a success, remembered by the credential cache');
    const phone = await createAppPassword(harness.server.store, login, { name: 'Phone', scopes: 'imap,smtp' }, harness.log);
    const pacing = loginPacingFor(harness.server.store);
    const trackedBefore = pacing.trackedEntries;
    const eventsBefore = harness.log.events.length;

    // The test takes the one slot and the one queue place itself.
    let open!: () => void;
    const held = new Promise<void>((resolve) => (open = resolve));
    const holders = [passwordHashLimiter.run(() => held), passwordHashLimiter.run(() => held)];
    try {
      assert.match(await imapLogin(harness.imapPort, login, 'a wrong password'), refused);
      assert.match(await imapLogin(harness.imapPort, 'nobody@example.com', 'whatever'), refused, 'an unknown user gets the same answer');
      const client = await imapClient(harness.imapPort, '127.0.0.1');
      try {
        assert.match(await client.send(`a1 AUTHENTICATE PLAIN ${Buffer.from(`\0${login}\0wrong`).toString('base64')}`), refused);
      } finally {
        client.close();
      }
      assert.match(await smtpAuth(harness.smtpPort, login, 'a wrong password'), /^454 4\.7\.0 /);
      assert.deepEqual(await adminSession(harness.adminPort, login, 'a wrong password'), { status: 503, retryAfter: '1' });

      // No hash needed: the cached success and an app password (a SHA-256) are served.
      assert.match(await imapLogin(harness.imapPort, login, password), /^a1 OK/);
      assert.match(await imapLogin(harness.imapPort, login, phone.password), /^a1 OK/);
      assert.match(await smtpAuth(harness.smtpPort, login, phone.password), /^235 /);
    } finally {
      open();
      await Promise.all(holders);
    }
    const events = harness.log.events.slice(eventsBefore);
    assert.equal(events.filter((event) => event.event === 'auth.busy').length, 5);
    assert.equal(events.filter((event) => event.event === 'auth.failed').length, 0, 'a refusal is not a failed login');
    assert.equal(events.filter((event) => event.event === 'smtp.internal_error' || event.event === 'imap.command_failed' || event.event === 'admin_api.failed').length, 0);
    assert.equal(pacing.trackedEntries, trackedBefore, 'pacing counted nothing');

    // The slot is free again: a wrong password is a failure, the right one (uncached) a success.
    credentialCache.clear();
    assert.match(await imapLogin(harness.imapPort, login, 'a wrong password'), failed);
    assert.match(await imapLogin(harness.imapPort, login, password), /^a1 OK/);
  } finally {
    await harness.close();
  }
});
