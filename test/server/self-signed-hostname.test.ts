// The self-signed certificate follows `hostname`: after a change, `postkeep start`
// makes a new pair for the new name and says so, instead of keeping the old one.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { test } from 'node:test';
import { startServerProcess, writeEphemeralConfig } from '../helpers/server-process.js';
import { temporaryDirectory } from '../helpers/temporary-store.js';

test('a changed hostname gets a new self-signed certificate, logged; an unchanged one keeps it', { timeout: 240_000 }, async () => {
  const root = await temporaryDirectory('postkeep-cert-host-');
  try {
    const dataDir = path.join(root, 'data');
    const certFile = path.join(dataDir, 'tls', 'cert.pem');
    const run = async (hostname: string) => {
      const server = await startServerProcess(await writeEphemeralConfig(root, dataDir, `hostname = ${JSON.stringify(hostname)}\n`));
      assert.equal(await server.stop(), 0);
      return { stderr: server.stderr(), certificate: new X509Certificate(await fs.readFile(certFile)) };
    };
    const first = await run('mail.example.com');
    assert.equal(first.certificate.checkHost('mail.example.com'), 'mail.example.com');
    const same = await run('mail.example.com');
    assert.equal(same.certificate.fingerprint256, first.certificate.fingerprint256, 'kept while the name is the same');
    assert.doesNotMatch(same.stderr, /tls\.self_signed_hostname_changed/);
    const renamed = await run('mx.example.org');
    assert.notEqual(renamed.certificate.fingerprint256, first.certificate.fingerprint256);
    assert.equal(renamed.certificate.checkHost('mx.example.org'), 'mx.example.org');
    assert.match(renamed.stderr, /"event":"tls\.self_signed_hostname_changed".*"hostname":"mx\.example\.org"/);
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});
