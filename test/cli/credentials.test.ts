// The credential commands run as real child processes: app-password add/list/revoke,
// user 2fa enable/disable (answering the code prompt on stdin, and with --code), and
// user import-passwd, whose imported hashes then log in over IMAP and get rehashed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { configureLoginPacing, defaultPacingSettings } from '../../src/auth/pacing.js';
import { totp } from '../../src/auth/totp.js';
import { startImapServer } from '../../src/imap/server.js';
import { createMemoryLogger } from '../../src/log.js';
import { ensureCertificate } from '../../src/server/certificate.js';
import { openStore } from '../../src/store/open-store.js';
import { imapLogin } from '../auth/auth-harness.js';
import { dovecotFixtures } from '../auth/dovecot-fixtures.js';
import { cliPath, runCli } from '../helpers/run-cli.js';
import { temporaryDirectory } from '../helpers/temporary-store.js';

const password = 'correct horse battery staple';
let dataDir: string;
let env: NodeJS.ProcessEnv;
before(async () => {
  dataDir = await temporaryDirectory('postkeep-cli-credentials-');
  env = { POSTKEEP_DATA: dataDir, POSTKEEP_CONFIG: '' };
  assert.equal((await runCli(['init'], { env })).code, 0);
  assert.equal((await runCli(['domain', 'add', 'example.com'], { env })).code, 0);
  assert.equal((await runCli(['user', 'add', 'alice@example.com'], { env, input: `${password}\n` })).code, 0);
});
after(() => fs.rm(dataDir, { recursive: true, force: true }));

async function withStore<T>(work: (store: Awaited<ReturnType<typeof openStore>>) => Promise<T>): Promise<T> {
  const store = await openStore({ dataDir, log: createMemoryLogger() });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

test('app-password add prints the password once; list shows it without the secret; revoke', async () => {
  let result = await runCli(['app-password', 'add', 'alice@example.com', '--name', 'Phone', '--scope', 'imap,smtp'], { env });
  assert.equal(result.code, 0, result.stderr);
  const secret = /^ {4}([a-z2-9]{4}(?:-[a-z2-9]{4}){3})$/m.exec(result.stdout)?.[1];
  assert.ok(secret, result.stdout);
  assert.match(result.stdout, /app password 1 "Phone" for alice@example\.com \(imap, smtp\)/);

  assert.match((await runCli(['app-password', 'add', 'alice@example.com', '--name', 'X', '--scope', 'pop3'], { env })).stderr, /unknown scope "pop3"/);
  assert.match((await runCli(['app-password', 'add', 'nobody@example.com', '--name', 'X'], { env })).stderr, /there is no account/);

  result = await runCli(['app-password', 'list', 'alice@example.com'], { env });
  assert.match(result.stdout, /^1\tPhone\tscopes: imap,smtp\tcreated \S+\tlast used never\tactive\n$/);
  assert.ok(!result.stdout.includes(secret));

  assert.match((await runCli(['app-password', 'revoke', 'alice@example.com', 'one'], { env })).stderr, /is a number/);
  assert.equal((await runCli(['app-password', 'revoke', 'alice@example.com', '1'], { env })).code, 0);
  assert.match((await runCli(['app-password', 'revoke', 'alice@example.com', '1'], { env })).stderr, /no active app password 1/);
  assert.match((await runCli(['app-password', 'list', 'alice@example.com'], { env })).stdout, /\trevoked \S+\n$/);
});

/** Runs `user 2fa enable`, reads the secret from its output, answers the prompt with a current code. */
function enableInteractively(user: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, 'user', '2fa', 'enable', user], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let answered = false;
    child.stdout.on('data', (data: Buffer) => {
      stdout += data.toString();
      const secret = /[?&]secret=([A-Z2-7]+)/.exec(stdout)?.[1];
      if (secret && !answered) {
        answered = true;
        child.stdin.end(`${totp(secret)}\n`);
      }
    });
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('user 2fa enable shows the URI and QR code, takes a code from stdin, prints 10 recovery codes once; disable', async () => {
  const result = await enableInteractively('alice@example.com');
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^otpauth:\/\/totp\/Postkeep%20localhost:alice%40example\.com\?secret=[A-Z2-7]{32}&issuer=Postkeep%20localhost&algorithm=SHA1&digits=6&period=30$/m);
  assert.match(result.stdout, /[█▀▄]{20}/, 'a QR code drawn with block characters');
  const codes = result.stdout.match(/^ {4}[a-z2-9]{4}(-[a-z2-9]{4}){3}$/gm) ?? [];
  assert.equal(codes.length, 10);
  await withStore(async (store) => {
    const state = await store.admin.getSecondFactor('alice@example.com');
    assert.ok(state?.enabledAt);
    assert.equal(state.unusedRecoveryCodes, 10);
  });
  assert.match((await runCli(['user', '2fa', 'enable', 'alice@example.com'], { env })).stderr, /already has two-factor authentication enabled/);
  assert.equal((await runCli(['user', '2fa', 'disable', 'alice@example.com'], { env })).code, 0);
  assert.match((await runCli(['user', '2fa', 'disable', 'alice@example.com'], { env })).stderr, /has no second factor/);
});

test('user 2fa enable without an answer leaves the enrolment pending; --code confirms it', async () => {
  let result = await runCli(['user', '2fa', 'enable', 'alice@example.com'], { env, input: '' });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /is waiting: confirm with `postkeep user 2fa enable alice@example\.com --code <code>`/);
  const secret = /[?&]secret=([A-Z2-7]+)/.exec(result.stdout)![1]!;
  assert.match((await runCli(['user', '2fa', 'enable', 'alice@example.com', '--code', '12345'], { env })).stderr, /does not match/);
  result = await runCli(['user', '2fa', 'enable', 'alice@example.com', '--code', totp(secret)], { env });
  assert.equal(result.code, 0, result.stderr);
  assert.equal((result.stdout.match(/^ {4}[a-z2-9-]{19}$/gm) ?? []).length, 10);
  assert.equal((await runCli(['user', '2fa', 'disable', 'alice@example.com'], { env })).code, 0);
});

test('user import-passwd creates and updates accounts, reports every line, never prints a hash; each scheme then logs in over IMAP and is rehashed', async () => {
  const users = Object.keys(dovecotFixtures).map((_, index) => `imported${index}@example.com`);
  const lines = [
    '# a Dovecot passwd-file',
    ...Object.values(dovecotFixtures).map((field, index) => `${users[index]}:${field}:1000:1000::/home/u${index}::userdb_quota_rule=*:storage=1G`),
    `alice@example.com:${dovecotFixtures['SHA512-CRYPT']}`,
    'carol@example.com:{PLAIN}secret:1000:1000::::',
    'dave@elsewhere.org:{SSHA512}WsP6j9dHxLyR7X1Bicv0VC29reKy1FtQoXMHsQucXAA8Zx/NWTh4/onf5XncZQahU7Ola2bnbErX7rncl7T4pFnUS+k=',
    'no-colon-here',
    'bare-user:{SHA512-CRYPT}$6$abc$def',
    '',
  ];
  const file = path.join(dataDir, 'passwd');
  await fs.writeFile(file, lines.join('\n'));
  const result = await runCli(['user', 'import-passwd', file], { env });
  assert.equal(result.code, 1, 'something was skipped');
  const expected = [
    ...users.map((user, index) => `line ${index + 2}: ${user} imported, new account (${Object.keys(dovecotFixtures)[index]!.split(' ')[0]})`),
    `line ${users.length + 2}: alice@example.com updated (SHA512-CRYPT)`,
    `line ${users.length + 3}: "carol@example.com" skipped: unknown scheme PLAIN`,
    `line ${users.length + 4}: "dave@elsewhere.org" skipped: elsewhere.org is not a local domain: add it first with \`postkeep domain add elsewhere.org\``,
    `line ${users.length + 5}: skipped: malformed line (expected user:{SCHEME}hash:…)`,
    `line ${users.length + 6}: "bare-user" skipped: not a full address (user@domain)`,
    `${users.length} created, 1 updated, 4 skipped`,
  ];
  assert.deepEqual(result.stdout.trimEnd().split('\n'), expected);
  for (const field of Object.values(dovecotFixtures)) {
    const hashPart = field.slice(field.indexOf('}') + 1);
    assert.ok(!result.stdout.includes(hashPart.slice(-20)) && !result.stderr.includes(hashPart.slice(-20)), 'no hash is printed');
  }

  // Log in over IMAP with each imported hash; each is then rehashed to argon2id.
  const log = createMemoryLogger();
  const store = await openStore({ dataDir, log });
  configureLoginPacing(store, { ...defaultPacingSettings, pacing: false });
  const files = await ensureCertificate({ dataDir, hostname: 'localhost', certFile: '', keyFile: '', log });
  const imap = await startImapServer({ store, log, host: '127.0.0.1', port: null, tlsPort: 0, tls: files });
  try {
    const harness = { imapPort: imap.tlsPort! } as Parameters<typeof imapLogin>[0];
    for (const user of [...users, 'alice@example.com']) {
      assert.match((await store.admin.getPasswordHash(user))!, /^(\{|\$argon2id\$v=19\$m=65536,t=3,p=1\$)/, `${user} holds the imported hash`);
      assert.match(await imapLogin(harness, user, 'not the password'), /^a1 NO \[AUTHENTICATIONFAILED\]/, user);
      assert.match(await imapLogin(harness, user, password), /^a1 OK/, user);
      assert.match((await store.admin.getPasswordHash(user))!, /^\$argon2id\$v=19\$m=65536,p=4,t=3\$/, `${user} rehashed`);
      assert.match(await imapLogin(harness, user, password), /^a1 OK/, `${user} after the rehash`);
    }
    assert.equal(log.events.filter((event) => event.event === 'auth.rehashed').length, users.length + 1);
  } finally {
    await imap.stop();
    await store.close();
  }
});
