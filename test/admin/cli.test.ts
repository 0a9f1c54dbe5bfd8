// The CLI side of the admin API, against a running server in the same data folder:
// `admin token create|list|revoke`, `user admin on|off`, and the security log that
// server and CLI append to at the same time staying one intact chain.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { test } from 'node:test';
import { hashPassword } from '../../src/auth/password.js';
import { configSchema } from '../../src/config/schema.js';
import { createMemoryLogger } from '../../src/log.js';
import { startServer } from '../../src/server/server.js';
import { runCli } from '../helpers/run-cli.js';
import { temporaryDirectory } from '../helpers/temporary-store.js';
import { adminRequest } from './admin-harness.js';

test('tokens and admin rights from the CLI take effect on a running server; the shared log stays intact', { timeout: 290_000 }, async () => {
  const dataDir = await temporaryDirectory('postkeep-admin-cli-');
  const env = { POSTKEEP_DATA: dataDir, POSTKEEP_CONFIG: '' };
  const config = configSchema.parse({
    dataDir,
    store: { scrubDays: 0 },
    imap: { enabled: false },
    smtp: { mx: { enabled: false }, submission: { enabled: false }, submissions: { enabled: false } },
    admin: { port: 0 },
  });
  const server = await startServer(config, createMemoryLogger());
  try {
    const password = 'correct horse battery staple';
    await server.store.admin.addDomain('example.com');
    await server.store.admin.addAccount('carol@example.com', await hashPassword(password));
    const ca = await fs.readFile(server.tls.certFile);
    const call = (method: string, path: string, options: { token?: string; body?: unknown } = {}) => adminRequest(server.admin!.port, ca, method, path, options);

    const created = await runCli(['admin', 'token', 'create', '--name', 'backup-script'], { env });
    assert.equal(created.code, 0, created.stderr);
    const token = /^(pkadm_[A-Za-z0-9_-]{43})$/m.exec(created.stdout)?.[1];
    assert.ok(token, created.stdout);
    assert.equal((await call('GET', '/accounts', { token })).status, 200);

    const listed = await runCli(['admin', 'token', 'list'], { env });
    assert.match(listed.stdout, /^1\tbackup-script\tcreated \S+\tlast used \S+\tactive$/m);
    assert.ok(!listed.stdout.includes(token), 'the list never shows a token');

    assert.equal((await call('POST', '/session', { body: { login: 'carol@example.com', password } })).status, 401, 'not an admin yet');
    const granted = await runCli(['user', 'admin', 'carol@example.com', 'on'], { env });
    assert.equal(granted.code, 0, granted.stderr);
    const session = await call('POST', '/session', { body: { login: 'carol@example.com', password } });
    assert.equal(session.status, 201);
    assert.equal((await call('GET', '/queue', { token: session.json.token })).status, 200);
    await runCli(['user', 'admin', 'carol@example.com', 'off'], { env });
    assert.equal((await call('GET', '/queue', { token: session.json.token })).status, 401, 'her open session ends with her rights');
    assert.equal((await call('POST', '/session', { body: { login: 'carol@example.com', password } })).status, 401, 'admin rights taken back');

    const revoked = await runCli(['admin', 'token', 'revoke', 'backup-script'], { env });
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal((await call('GET', '/accounts', { token })).status, 401);

    await server.securityLog.flush();
    const verified = await runCli(['log', 'verify'], { env });
    assert.equal(verified.code, 0, verified.stdout);
    assert.match(verified.stdout, /entries, chain intact/);
    const history = await runCli(['log', 'show', '--user', 'carol@example.com', '--all', '--json'], { env });
    assert.equal(history.code, 0, history.stderr);
    const events = (JSON.parse(history.stdout) as { event: string; fields: { actor?: string } }[]).map((item) => item.event);
    assert.ok(events.includes('admin.admin_grant') && events.includes('admin.admin_revoke'), events.join(' '));
    assert.ok(events.includes('auth.succeeded') && events.includes('auth.failed'), 'the admin API logins are in her history');
  } finally {
    await server.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
});
