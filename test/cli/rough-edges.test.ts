// Small things a new admin trips over: commander's own errors read `postkeep: …`,
// `user passwd` names a missing account before asking for a password, admin token
// names are unique among active tokens, and `dkim generate` wants a local domain and
// prints a TXT record that DNS panels take (strings of at most 255 bytes).
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/run-cli.js';
import { temporaryDirectory } from '../helpers/temporary-store.js';

test('CLI rough edges: commander errors, passwd of a missing account, duplicate token names, dkim for other domains and long TXT strings', { timeout: 240_000 }, async () => {
  const root = await temporaryDirectory('postkeep-rough-');
  try {
    const env = { POSTKEEP_DATA: path.join(root, 'data'), POSTKEEP_CONFIG: '' };
    assert.equal((await runCli(['init'], { env })).code, 0);
    assert.equal((await runCli(['domain', 'add', 'example.com'], { env })).code, 0);

    const unknown = await runCli(['user', 'list', '--bogus'], { env });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^postkeep: unknown option '--bogus'/);
    assert.match((await runCli(['frobnicate'], { env })).stderr, /^postkeep: unknown command 'frobnicate'/);
    assert.match((await runCli(['alias', 'add', 'one'], { env })).stderr, /^postkeep: missing required argument/);

    // No password on stdin: the missing account is said first, not "no password".
    const passwd = await runCli(['user', 'passwd', 'nobody@example.com'], { env, input: '' });
    assert.equal(passwd.code, 1);
    assert.equal(passwd.stderr, 'postkeep: there is no account "nobody@example.com"\n');

    assert.equal((await runCli(['admin', 'token', 'create', '--name', 'monitoring'], { env })).code, 0);
    const twice = await runCli(['admin', 'token', 'create', '--name', 'monitoring'], { env });
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /^postkeep: an active admin token is already named "monitoring"/);
    assert.equal((await runCli(['admin', 'token', 'revoke', 'monitoring'], { env })).code, 0);
    assert.equal((await runCli(['admin', 'token', 'create', '--name', 'monitoring'], { env })).code, 0, 'the name is free again once revoked');
    assert.equal((await runCli(['admin', 'token', 'list'], { env })).stdout.split('\n').filter((line) => line.includes('\tactive')).length, 1);

    const elsewhere = await runCli(['dkim', 'generate', 'example.org'], { env });
    assert.equal(elsewhere.code, 1);
    assert.match(elsewhere.stderr, /^postkeep: example\.org is not a local domain: add it first with `postkeep domain add example\.org`/);
    assert.equal((await runCli(['dkim', 'list'], { env })).stdout, '', 'no key was stored for it');
    const local = await runCli(['dkim', 'generate', 'example.com', '--selector', 's1'], { env });
    assert.equal(local.code, 0, local.stderr);
    const record = /^s1\._domainkey\.example\.com\. IN TXT ((?:"[^"]*" ?)+)$/m.exec(local.stdout);
    assert.ok(record, local.stdout);
    const strings = [...record[1]!.matchAll(/"([^"]*)"/g)].map((item) => item[1]!);
    assert.ok(strings.length > 1 && strings.every((item) => Buffer.byteLength(item) <= 255), `${strings.map((item) => item.length)}`);
    assert.match(strings.join(''), /^v=DKIM1; k=rsa; p=[A-Za-z0-9+/]+=*$/);
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});
