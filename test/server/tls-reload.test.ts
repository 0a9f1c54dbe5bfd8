// Certificate reload on a running server: a new pair on disk (or SIGHUP) reaches
// every listener's next handshake, open connections keep working on the old one,
// and a bad pair is refused with tls.reload_failed while the old one stays.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type * as tls from 'node:tls';
import { after, before, test } from 'node:test';
import { hashPassword } from '../../src/auth/password.js';
import { checkCertificatePair, CertificateRefused } from '../../src/server/tls-credentials.js';
import { temporaryDirectory } from '../helpers/temporary-store.js';
import { generatePair, handshake, replaceFile, servedFingerprint, startFullServer, waitForEvent, type Endpoint, type FullServer, type GeneratedPair } from './tls-harness.js';

let directory: string;
let files: { certFile: string; keyFile: string };
let running: FullServer;
let first: GeneratedPair;

before(async () => {
  directory = await temporaryDirectory('postkeep-reload-');
  files = { certFile: path.join(directory, 'fullchain.pem'), keyFile: path.join(directory, 'privkey.pem') };
  first = await generatePair();
  await fs.writeFile(files.certFile, first.cert);
  await fs.writeFile(files.keyFile, first.key, { mode: 0o600 });
  running = await startFullServer({ tls: files });
  await running.server.store.admin.addDomain('example.com');
  await running.server.store.admin.addAccount('alice@example.com', await hashPassword('reload test password'));
});

after(async () => {
  await running.stop();
  await fs.rm(directory, { recursive: true, force: true });
});

async function fingerprints(): Promise<string[]> {
  return Promise.all(running.endpoints.map((endpoint) => servedFingerprint(endpoint)));
}

/** Sends one line and resolves with the reply once `pattern` matched it. */
function exchange(socket: tls.TLSSocket, line: string, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no ${pattern} for ${line}; got ${JSON.stringify(text)}`)), 20_000);
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (pattern.test(text)) {
        clearTimeout(timer);
        socket.off('data', onData);
        resolve(text);
      }
    };
    socket.on('data', onData);
    socket.write(line + '\r\n');
  });
}

/** An open, working session on each mail listener: IMAP logged in, SMTP after EHLO. */
interface OpenSession {
  endpoint: Endpoint;
  socket: tls.TLSSocket;
  /** Read right after the handshake: OpenSSL forgets it on the client once a TLS 1.3 session ticket arrives. */
  fingerprint: string;
}

async function openSessions(): Promise<OpenSession[]> {
  const sessions = [];
  for (const endpoint of running.endpoints.filter((candidate) => /^(imap|smtp)/.test(candidate.name))) {
    const socket = await handshake(endpoint);
    const fingerprint = socket.getPeerX509Certificate()!.fingerprint256;
    if (endpoint.name.startsWith('imap')) {
      if (endpoint.kind === 'implicit') await exchange(socket, 'g0 NOOP', /g0 OK/);
      await exchange(socket, 'l1 LOGIN alice@example.com "reload test password"', /l1 OK/);
    } else {
      if (endpoint.kind === 'implicit') await exchange(socket, 'NOOP', /^250 /m);
      await exchange(socket, 'EHLO client.example.org', /^250 /m);
    }
    sessions.push({ endpoint, socket, fingerprint });
  }
  return sessions;
}

async function stillWorking(sessions: OpenSession[], expectedFingerprint: string): Promise<void> {
  for (const { endpoint, socket, fingerprint } of sessions) {
    assert.ok(!socket.destroyed, `${endpoint.name}: still open`);
    assert.equal(fingerprint, expectedFingerprint, `${endpoint.name}: the open connection was made with this certificate`);
    if (endpoint.name.startsWith('imap')) assert.match(await exchange(socket, 'n1 SELECT INBOX', /n1 (OK|NO|BAD)/), /n1 OK/, endpoint.name);
    else assert.match(await exchange(socket, 'NOOP', /^\d{3} /m), /^250 /m, endpoint.name);
  }
}

test('a new pair written to disk reaches every listener; open sessions keep working; bad pairs are refused', async () => {
  assert.deepEqual(await fingerprints(), running.endpoints.map(() => first.fingerprint256), 'every listener serves the configured pair');
  const sessions = await openSessions();

  // A renewal: key then certificate, each renamed into place (the brief mismatch in between is debounced away).
  const second = await generatePair();
  let mark = running.log.events.length;
  await replaceFile(files.keyFile, second.key);
  await replaceFile(files.certFile, second.cert);
  const reloaded = await waitForEvent(running.log, 'tls.reloaded', mark, { fingerprint: second.fingerprint256 });
  assert.equal(reloaded.fields.trigger, 'file-change');
  assert.equal(reloaded.fields.previousFingerprint, first.fingerprint256);
  assert.deepEqual(await fingerprints(), running.endpoints.map(() => second.fingerprint256), 'new connections see the new certificate');
  await stillWorking(sessions, first.fingerprint256);

  // Bad pairs: each refused with its reason, the second pair stays in service.
  const third = await generatePair();
  const expired = await generatePair({ notBefore: new Date(Date.now() - 20 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) });
  const bad: { reason: string; cert: string; key: string }[] = [
    { reason: 'key-mismatch', cert: third.cert, key: second.key },
    { reason: 'expired', cert: expired.cert, key: expired.key },
    { reason: 'bad-certificate', cert: '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n', key: second.key },
    { reason: 'bad-key', cert: second.cert, key: 'not a key\n' },
  ];
  for (const pair of bad) {
    mark = running.log.events.length;
    await replaceFile(files.keyFile, pair.key);
    await replaceFile(files.certFile, pair.cert);
    const failed = await waitForEvent(running.log, 'tls.reload_failed', mark, { reason: pair.reason });
    assert.match(String(failed.fields.message), /\w/);
    assert.equal(failed.fields.keptFingerprint, second.fingerprint256);
    assert.equal(failed.level, 'error');
    assert.deepEqual(await fingerprints(), running.endpoints.map(() => second.fingerprint256), `after a ${pair.reason} pair the old certificate stays`);
  }
  await stillWorking(sessions, first.fingerprint256);

  // SIGHUP reloads at once (no waiting for the file watcher's debounce).
  const fourth = await generatePair();
  await replaceFile(files.keyFile, fourth.key);
  await replaceFile(files.certFile, fourth.cert);
  mark = running.log.events.length;
  process.kill(process.pid, 'SIGHUP');
  await waitForEvent(running.log, 'tls.reloaded', mark, { trigger: 'signal' });
  assert.ok(!running.log.events.slice(mark).some((entry) => entry.event === 'tls.reload_failed'));
  assert.deepEqual(await fingerprints(), running.endpoints.map(() => fourth.fingerprint256));
  await stillWorking(sessions, first.fingerprint256);
  for (const { socket } of sessions) socket.destroy();
});

test('checkCertificatePair names what is wrong', async () => {
  const good = await generatePair();
  const other = await generatePair();
  const future = await generatePair({ notBefore: new Date(Date.now() + 86_400_000), notAfter: new Date(Date.now() + 10 * 86_400_000) });
  assert.equal(checkCertificatePair({ cert: Buffer.from(good.cert), key: Buffer.from(good.key) }).info.fingerprint256, good.fingerprint256);
  const reasonOf = (cert: string, key: string) => {
    try {
      checkCertificatePair({ cert: Buffer.from(cert), key: Buffer.from(key) });
      return 'accepted';
    } catch (error) {
      assert.ok(error instanceof CertificateRefused);
      return error.reason;
    }
  };
  assert.equal(reasonOf(good.cert, other.key), 'key-mismatch');
  assert.equal(reasonOf(future.cert, future.key), 'not-yet-valid');
  assert.equal(reasonOf('', good.key), 'bad-certificate');
  assert.equal(reasonOf(good.cert, ''), 'bad-key');
  assert.equal(reasonOf(good.key, good.key), 'bad-certificate');
});

test('a certificate close to its end is served with a tls.certificate_expiring warning', async () => {
  const dir = await temporaryDirectory('postkeep-expiring-');
  const pair = await generatePair({ notAfter: new Date(Date.now() + 3 * 86_400_000) });
  const tlsFiles = { certFile: path.join(dir, 'cert.pem'), keyFile: path.join(dir, 'key.pem') };
  await fs.writeFile(tlsFiles.certFile, pair.cert);
  await fs.writeFile(tlsFiles.keyFile, pair.key, { mode: 0o600 });
  const expiring = await startFullServer({ tls: tlsFiles });
  try {
    const warning = expiring.log.events.find((entry) => entry.event === 'tls.certificate_expiring');
    assert.ok(warning, 'warned');
    assert.equal(warning.level, 'warn');
    assert.ok((warning.fields.daysLeft as number) <= 3);
    assert.equal(await servedFingerprint(expiring.endpoints[0]!), pair.fingerprint256);
  } finally {
    await expiring.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a configured pair whose key does not match refuses to start, with the reason', async () => {
  const dir = await temporaryDirectory('postkeep-mismatch-');
  const [a, b] = [await generatePair(), await generatePair()];
  const tlsFiles = { certFile: path.join(dir, 'cert.pem'), keyFile: path.join(dir, 'key.pem') };
  await fs.writeFile(tlsFiles.certFile, a.cert);
  await fs.writeFile(tlsFiles.keyFile, b.key, { mode: 0o600 });
  await assert.rejects(startFullServer({ tls: tlsFiles }), (error: Error) => error instanceof CertificateRefused && error.reason === 'key-mismatch' && /does not belong/.test(error.message));
  await fs.rm(dir, { recursive: true, force: true });
});
