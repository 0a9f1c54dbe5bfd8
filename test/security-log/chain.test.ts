// The security log's hash chain: entries link to each other and to the genesis
// value, secrets never reach it, events are batched, and two processes appending
// at the same moment still build one intact chain.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { createLogger, createMemoryLogger } from '../../src/log.js';
import { entryHash, genesisHash } from '../../src/security-log/entry-hash.js';
import { anchorFile, readAnchor } from '../../src/security-log/anchor.js';
import { SecurityLog } from '../../src/security-log/security-log.js';
import { teeSecurityEvents } from '../../src/security-log/security-log-tee.js';
import { verifySecurityLog } from '../../src/security-log/verify.js';
import { openStore } from '../../src/store/open-store.js';
import { createTemporaryStore } from '../helpers/temporary-store.js';

test('entries chain from the genesis hash, each hash covering the entry and the previous hash', async () => {
  const temporary = await createTemporaryStore();
  try {
    const securityLog = new SecurityLog({ dataDir: temporary.dataDir, log: temporary.log });
    securityLog.attach(temporary.store);
    securityLog.record('auth.succeeded', { login: 'Alice@Example.com', protocol: 'imap', address: '192.0.2.7', credential: 'password' });
    securityLog.record('auth.failed', { login: 'nobody@example.com', protocol: 'smtp', address: '192.0.2.8', reason: 'unknown-user' });
    securityLog.record('admin.account_create', { actor: 'token:ops', login: 'bob@example.com' });
    await securityLog.close();
    const entries = await temporary.store.admin.readSecurityLog({ limit: 100 });
    assert.deepEqual(
      entries.map((entry) => [entry.sequence, entry.event, entry.login]),
      [
        [1, 'auth.succeeded', 'alice@example.com'],
        [2, 'auth.failed', 'nobody@example.com'],
        [3, 'admin.account_create', 'bob@example.com'],
      ],
    );
    assert.equal(entries[0]!.previousHash, genesisHash);
    for (let index = 0; index < entries.length; index++) {
      const entry = entries[index]!;
      assert.equal(entry.hash, entryHash(entry));
      if (index > 0) assert.equal(entry.previousHash, entries[index - 1]!.hash);
    }
    // Fields are canonical JSON: sorted keys.
    assert.equal(entries[0]!.fields, '{"address":"192.0.2.7","credential":"password","login":"Alice@Example.com","protocol":"imap"}');
    assert.deepEqual(await readAnchor(anchorFile(temporary.dataDir)), { sequence: 3, hash: entries[2]!.hash });
    const report = await verifySecurityLog(temporary.store.admin, anchorFile(temporary.dataDir));
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.entries, 3);
  } finally {
    await temporary.dispose();
  }
});

test('secrets in fields never reach the log, at any depth', async () => {
  const temporary = await createTemporaryStore();
  try {
    const securityLog = new SecurityLog({ dataDir: temporary.dataDir, log: temporary.log });
    securityLog.attach(temporary.store);
    securityLog.record('auth.failed', {
      login: 'alice@example.com',
      password: 'hunter2-secret',
      passwordHash: '$argon2id$v=19$m=65536$secret',
      token: 'pkadm_secret',
      nested: { totpSecret: 'JBSWY3DPEHPK3PXP', codes: ['123456'], recoveryCode: 'abcd-efgh', fine: 'kept' },
      uri: 'otpauth://totp/x?secret=JBSWY3DPEHPK3PXP',
      appPasswordName: 'Phone',
      blobHash: 'ab'.repeat(32),
    });
    await securityLog.close();
    const [entry] = await temporary.store.admin.readSecurityLog({ limit: 1 });
    for (const secret of ['hunter2', 'argon2id', 'pkadm_secret', 'JBSWY3DPEHPK3PXP', '123456', 'abcd-efgh']) assert.ok(!entry!.fields.includes(secret), `${secret} leaked: ${entry!.fields}`);
    const fields = JSON.parse(entry!.fields);
    assert.equal(fields.password, '[redacted]');
    assert.equal(fields.nested.fine, 'kept');
    assert.equal(fields.appPasswordName, 'Phone', 'names that merely contain "password" are kept');
    assert.equal(fields.blobHash, 'ab'.repeat(32), 'a blob hash is not a secret');
  } finally {
    await temporary.dispose();
  }
});

test('the tee records security events whatever the log level, and nothing else', async () => {
  const temporary = await createTemporaryStore();
  try {
    const securityLog = new SecurityLog({ dataDir: temporary.dataDir, log: temporary.log });
    const seen: string[] = [];
    const quiet = createLogger({ level: 'error', sink: (_level, event) => seen.push(event) });
    const log = teeSecurityEvents(quiet, securityLog);
    // Recorded before the store is attached: kept until then.
    log.info('auth.succeeded', { login: 'alice@example.com' });
    securityLog.attach(temporary.store);
    for (const event of ['app_password.created', 'second_factor.enabled', 'recovery_code.used', 'admin.queue_retry', 'account.deleted', 'integrity.blob_mismatch']) log.info(event, { login: 'alice@example.com' });
    for (const event of ['imap.command', 'smtp.delivered', 'server.started', 'authentication', 'administrator.x']) log.error(event, {});
    await securityLog.close();
    const events = (await temporary.store.admin.readSecurityLog({ limit: 100 })).map((entry) => entry.event);
    assert.deepEqual(events, ['auth.succeeded', 'app_password.created', 'second_factor.enabled', 'recovery_code.used', 'admin.queue_retry', 'account.deleted', 'integrity.blob_mismatch']);
    assert.deepEqual(seen, ['imap.command', 'smtp.delivered', 'server.started', 'authentication', 'administrator.x'], 'the wrapped logger still gets what its level lets through');
  } finally {
    await temporary.dispose();
  }
});

test('a storm of failed logins is appended in batches, not one transaction per event', async () => {
  const temporary = await createTemporaryStore();
  try {
    const securityLog = new SecurityLog({ dataDir: temporary.dataDir, log: temporary.log });
    const batches: number[] = [];
    const append = temporary.store.admin.appendSecurityLog.bind(temporary.store.admin);
    temporary.store.admin.appendSecurityLog = async (drafts) => {
      batches.push(drafts.length);
      return append(drafts);
    };
    securityLog.attach(temporary.store);
    const events = 5000;
    for (let index = 0; index < events; index++) {
      securityLog.record('auth.failed', { login: 'alice@example.com', protocol: 'imap', address: `198.51.100.${index % 250}`, reason: 'wrong-password' });
      // Some events arrive while earlier batches are being written.
      if (index % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await securityLog.close();
    const total = batches.reduce((sum, size) => sum + size, 0);
    assert.equal(total, events);
    assert.ok(batches.length <= events / 50, `${batches.length} transactions for ${events} events`);
    assert.ok(batches.every((size) => size <= 256), 'no batch so big that it stalls the event loop');
    console.log(`# ${events} events appended in ${batches.length} transactions (sizes ${batches.join(', ')})`);
    const report = await verifySecurityLog(temporary.store.admin, anchorFile(temporary.dataDir));
    assert.equal(report.ok, true);
    assert.equal(report.entries, events);
  } finally {
    await temporary.dispose();
  }
});

function startChild(dataDir: string, count: number, tag: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./append-child.ts', import.meta.url)), dataDir, String(count), tag], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (data: Buffer) => {
      stdout += data.toString();
      if (stdout.includes('ready')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`child ${tag} exited with ${code} before it was ready: ${stderr}`)));
  });
  const done = new Promise<void>((resolve, reject) => {
    child.on('close', (code) => (code === 0 && stdout.includes('done') ? resolve() : reject(new Error(`child ${tag} exited with ${code}: ${stderr}`))));
  });
  return { child, ready, done };
}

test('two processes appending at the same time keep one intact chain', { timeout: 180_000 }, async () => {
  const temporary = await createTemporaryStore();
  await temporary.store.close();
  try {
    const count = 1500;
    const first = startChild(temporary.dataDir, count, 'one');
    const second = startChild(temporary.dataDir, count, 'two');
    await Promise.all([first.ready, second.ready]);
    first.child.stdin.end('go\n');
    second.child.stdin.end('go\n');
    await Promise.all([first.done, second.done]);
    const store = await openStore({ dataDir: temporary.dataDir, log: createMemoryLogger() });
    try {
      const report = await verifySecurityLog(store.admin, anchorFile(temporary.dataDir));
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      assert.equal(report.entries, 2 * count);
      assert.deepEqual(await readAnchor(anchorFile(temporary.dataDir)), report.head, 'the anchor holds the last entry');
      const entries = await store.admin.readSecurityLog({ limit: 2 * count });
      const logins = new Set(entries.map((entry) => entry.login));
      assert.deepEqual([...logins].sort(), ['one@example.com', 'two@example.com']);
      // Both processes' entries interleave: the chain really was shared.
      let switches = 0;
      for (let index = 1; index < entries.length; index++) if (entries[index]!.login !== entries[index - 1]!.login) switches++;
      assert.ok(switches >= 1);
      for (const tag of ['one', 'two']) {
        const numbers = entries.filter((entry) => entry.login === `${tag}@example.com`).map((entry) => JSON.parse(entry.fields).n as number);
        assert.deepEqual(numbers, Array.from({ length: count }, (_, index) => index), `${tag}'s entries are all there, in its order`);
      }
      console.log(`# ${2 * count} entries from two processes, ${switches} switches between them`);
    } finally {
      await store.close();
    }
  } finally {
    await temporary.dispose();
  }
});
