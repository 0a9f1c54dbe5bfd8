import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { createMemoryLogger } from '../../src/log.js';
import { openStore } from '../../src/store/open-store.js';
import { runCli } from '../helpers/run-cli.js';
import { temporaryDirectory } from '../helpers/temporary-store.js';

let dataDir: string;
let env: NodeJS.ProcessEnv;
before(async () => {
  dataDir = await temporaryDirectory('postkeep-cli-');
  env = { POSTKEEP_DATA: dataDir, POSTKEEP_CONFIG: '' };
  // Only init (or start) makes a store; the other commands refuse a folder without one.
  assert.equal((await runCli(['init'], { env })).code, 0);
});
after(() => fs.rm(dataDir, { recursive: true, force: true }));

test('domains, users and aliases through the command', async () => {
  let result = await runCli(['user', 'add', 'alice@example.com'], { env, input: 'correct horse battery\n' });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /example\.com is not a local domain: add it first with `postkeep domain add example\.com`/);

  result = await runCli(['domain', 'add', 'Example.COM'], { env });
  assert.equal(result.code, 0, result.stderr);
  assert.equal((await runCli(['domain', 'list'], { env })).stdout, 'example.com\n');
  assert.equal((await runCli(['domain', 'add', 'example.com'], { env })).code, 1);
  assert.match((await runCli(['domain', 'add', 'bad domain!'], { env })).stderr, /not a valid domain name/);

  result = await runCli(['user', 'add', 'alice@example.com', '--quota', '1G'], { env, input: 'correct horse battery\n' });
  assert.equal(result.code, 0, result.stderr);
  assert.match((await runCli(['user', 'add', 'bob@example.com'], { env, input: 'short\n' })).stderr, /at least 8 characters/);
  assert.match((await runCli(['user', 'add', 'alice@example.com'], { env, input: 'another password\n' })).stderr, /already in use/);
  assert.match((await runCli(['user', 'add', 'not-an-address'], { env, input: 'another password\n' })).stderr, /not an email address/);
  assert.match((await runCli(['user', 'add', 'carol@example.com', '--quota', 'lots'], { env, input: 'another password\n' })).stderr, /is not a size/);

  result = await runCli(['user', 'list'], { env });
  assert.match(result.stdout, /^alice@example\.com\taddresses: alice@example\.com\tstorage: 0 B of 1073741824 B\tmessages: 0\n$/);

  assert.equal((await runCli(['alias', 'add', 'postmaster@example.com', 'alice@example.com'], { env })).code, 0);
  assert.match((await runCli(['alias', 'add', 'x@elsewhere.org', 'alice@example.com'], { env })).stderr, /elsewhere\.org is not a local domain/);
  assert.match((await runCli(['alias', 'add', 'y@example.com', 'nobody@example.com'], { env })).stderr, /there is no account "nobody@example\.com"/);
  assert.equal((await runCli(['alias', 'list'], { env })).stdout, 'postmaster@example.com\talice@example.com\n');

  const store = await openStore({ dataDir, log: createMemoryLogger() });
  try {
    const hash = await store.admin.getPasswordHash('alice@example.com');
    assert.match(hash!, /^\$argon2id\$/, 'passwords are hashed with argon2id');
    assert.equal(await store.admin.resolveAddress('POSTMASTER@example.com'), 'alice@example.com');
  } finally {
    await store.close();
  }

  assert.equal((await runCli(['user', 'passwd', 'alice@example.com'], { env, input: 'a new long password\n' })).code, 0);
  assert.equal((await runCli(['alias', 'delete', 'postmaster@example.com'], { env })).code, 0);
  assert.match((await runCli(['alias', 'delete', 'postmaster@example.com'], { env })).stderr, /there is no alias/);
  assert.match((await runCli(['user', 'delete', 'alice@example.com'], { env })).stderr, /--yes/);
  assert.equal((await runCli(['user', 'delete', 'alice@example.com', '--yes'], { env })).code, 0);
  assert.equal((await runCli(['user', 'list'], { env })).stdout, '');
});

test('every command has --help, and a wrong command is refused', async () => {
  for (const command of [[], ['start'], ['user'], ['user', 'add'], ['user', 'list'], ['user', 'passwd'], ['user', 'quota'], ['user', 'delete'], ['domain', 'add'], ['domain', 'list'], ['alias', 'add'], ['alias', 'list'], ['alias', 'delete'], ['import'], ['export'], ['undelete']]) {
    const result = await runCli([...command, '--help'], { env });
    assert.equal(result.code, 0, command.join(' '));
    assert.match(result.stdout, /^Usage: postkeep/, command.join(' '));
  }
  const wrong = await runCli(['frobnicate'], { env });
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.stderr, /unknown command 'frobnicate'/);
  const missing = await runCli(['alias', 'add', 'only-one-argument'], { env });
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /missing required argument/);
});
