// The TLS policy (src/server/tls-policy.ts) on every listener of a running server:
// TLS 1.2/1.3 only, forward-secret AEAD suites in the server's order, no
// renegotiation. Each refusal is checked against a permissive control server, so a
// refusal that came from the client's own settings would fail the test.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { after, before, test } from 'node:test';
import { temporaryDirectory } from '../helpers/temporary-store.js';
import { generatePair, handshake, outcome, startFullServer, type FullServer } from './tls-harness.js';

let running: FullServer;
let control: tls.Server;
let controlPort: number;

before(async () => {
  running = await startFullServer();
  // The control: a server that accepts anything OpenSSL can still speak.
  const [ec, rsa] = [await generatePair(), await generatePair({ rsa: true })];
  control = tls.createServer({ cert: [ec.cert, rsa.cert], key: [ec.key, rsa.key], minVersion: 'TLSv1', ciphers: 'ALL:@SECLEVEL=0', honorCipherOrder: false, dhparam: 'auto' }, (socket) => socket.on('error', () => {}));
  control.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
  controlPort = (control.address() as import('node:net').AddressInfo).port;
});

after(async () => {
  await running.stop();
  await new Promise<void>((resolve) => control.close(() => resolve()));
});

const controlEndpoint = () => ({ name: 'control', kind: 'implicit' as const, port: controlPort });

const weakClients: { what: string; options: tls.ConnectionOptions }[] = [
  { what: 'TLS 1.0', options: { minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'ALL:@SECLEVEL=0' } },
  { what: 'TLS 1.1', options: { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'ALL:@SECLEVEL=0' } },
  { what: 'TLS 1.2 with a CBC suite', options: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384' } },
];

/** Only possible with an RSA certificate (the default one is ECDSA), so checked on a server configured with one. */
const weakRsaClients: { what: string; options: tls.ConnectionOptions }[] = [
  { what: 'TLS 1.2 with RSA key exchange (no forward secrecy)', options: { maxVersion: 'TLSv1.2', ciphers: 'AES128-GCM-SHA256:AES256-GCM-SHA384' } },
  { what: 'TLS 1.2 with finite-field DHE', options: { maxVersion: 'TLSv1.2', ciphers: 'DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384' } },
  { what: 'TLS 1.2 with an ECDHE-RSA CBC suite', options: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES128-SHA' } },
];

test('a modern client gets TLS 1.3 on every listener, and TLS 1.2 only with an ECDHE AEAD suite', async () => {
  for (const endpoint of running.endpoints) {
    assert.match(await outcome(endpoint), /^TLSv1\.3 TLS_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)$/, endpoint.name);
    assert.match(await outcome(endpoint, { maxVersion: 'TLSv1.2' }), /^TLSv1\.2 ECDHE-ECDSA-(AES128-GCM-SHA256|AES256-GCM-SHA384|CHACHA20-POLY1305)$/, endpoint.name);
  }
});

test('old protocols, CBC suites and suites without forward secrecy are refused on every listener', async () => {
  for (const client of weakClients) {
    // The control proves the client really offers it.
    assert.doesNotMatch(await outcome(controlEndpoint(), client.options), /^refused/, `control accepts ${client.what}`);
    for (const endpoint of running.endpoints) {
      assert.match(await outcome(endpoint, client.options), /^refused: /, `${endpoint.name} refuses ${client.what}`);
    }
  }
});

test('with a configured RSA certificate: ECDHE-RSA AEAD only, no RSA key exchange, no DHE', async () => {
  const pair = await generatePair({ rsa: true });
  const directory = await temporaryDirectory('postkeep-rsa-');
  const files = { certFile: path.join(directory, 'cert.pem'), keyFile: path.join(directory, 'key.pem') };
  await fs.writeFile(files.certFile, pair.cert);
  await fs.writeFile(files.keyFile, pair.key, { mode: 0o600 });
  const withRsa = await startFullServer({ tls: files });
  try {
    for (const endpoint of withRsa.endpoints) {
      assert.match(await outcome(endpoint, { maxVersion: 'TLSv1.2' }), /^TLSv1\.2 ECDHE-RSA-(AES128-GCM-SHA256|AES256-GCM-SHA384|CHACHA20-POLY1305)$/, endpoint.name);
      assert.match(await outcome(endpoint), /^TLSv1\.3 /, endpoint.name);
      for (const client of weakRsaClients) {
        assert.doesNotMatch(await outcome(controlEndpoint(), client.options), /^refused/, `control accepts ${client.what}`);
        assert.match(await outcome(endpoint, client.options), /^refused: /, `${endpoint.name} refuses ${client.what}`);
      }
    }
  } finally {
    await withRsa.stop();
    await fs.rm(directory, { recursive: true, force: true });
  }
});

test('the server picks the suite in its own order, not the client\'s', async () => {
  const clientOrder = 'ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256';
  assert.equal(await outcome(controlEndpoint(), { maxVersion: 'TLSv1.2', ciphers: clientOrder }), 'TLSv1.2 ECDHE-ECDSA-CHACHA20-POLY1305', 'the control follows the client');
  for (const endpoint of running.endpoints) {
    assert.equal(await outcome(endpoint, { maxVersion: 'TLSv1.2', ciphers: clientOrder }), 'TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256', endpoint.name);
  }
});

async function renegotiation(endpoint: { name: string; kind: 'implicit' | 'imap-starttls' | 'smtp-starttls'; port: number }): Promise<string> {
  const socket = await handshake(endpoint, { maxVersion: 'TLSv1.2' });
  return new Promise<string>((resolve) => {
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(`refused: ${error.code}`));
    const started = socket.renegotiate({}, (error) => {
      resolve(error ? `refused: ${(error as NodeJS.ErrnoException).code}` : 'renegotiated');
      socket.destroy();
    });
    if (!started) resolve('not started');
  });
}

test('TLS 1.2 renegotiation is refused on every listener', async () => {
  assert.equal(await renegotiation(controlEndpoint()), 'renegotiated', 'the control allows it');
  for (const endpoint of running.endpoints) {
    assert.equal(await renegotiation(endpoint), 'refused: ERR_SSL_NO_RENEGOTIATION', endpoint.name);
  }
});

test('key exchange uses X25519 first', async () => {
  for (const endpoint of running.endpoints) {
    const socket = await handshake(endpoint);
    assert.equal(socket.getEphemeralKeyInfo() && (socket.getEphemeralKeyInfo() as { name?: string }).name, 'X25519', endpoint.name);
    socket.destroy();
  }
});
