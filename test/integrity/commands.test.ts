// The integrity commands as an admin runs them: real child processes on a real data folder.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/run-cli.js';
import { temporaryDirectory } from '../helpers/temporary-store.js';

test('audit, backup, backup verify, restore and compare through the command', { timeout: 120_000 }, async () => {
  const root = await temporaryDirectory('postkeep-cli-integrity-');
  const dataDir = path.join(root, 'data');
  const env = { POSTKEEP_DATA: dataDir, POSTKEEP_CONFIG: '' };
  await runCli(['domain', 'add', 'example.com'], { env });
  await runCli(['user', 'add', 'alice@example.com'], { env, input: 'correct horse battery\n' });
  const mbox = path.join(root, 'in.mbox');
  await fs.writeFile(mbox, 'From a@example.org Mon Jan  5 10:00:00 2026\nSubject: one\n\nFirst\n\nFrom b@example.org Mon Jan  5 11:00:00 2026\nSubject: two\n\nSecond\n');
  assert.equal((await runCli(['import', 'alice@example.com', mbox], { env })).code, 0);

  let result = await runCli(['audit'], { env });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /^audit of all accounts: 1 account\(s\), 6 mailbox\(es\), 2 record\(s\), 2 blob\(s\) .*0 error\(s\), 0 notice\(s\) — OK\n$/);

  const backup = path.join(root, 'backup');
  result = await runCli(['backup', backup], { env });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /6 mailbox\(es\), 2 blob\(s\), 2 copied .* 0 already there/);
  result = await runCli(['backup', 'verify', backup], { env });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /everything matches the manifest/);

  // Damage the live store: one blob deleted.
  const blobRoot = path.join(dataDir, 'blobs');
  const fanOut = (await fs.readdir(blobRoot)).find((name) => /^[0-9a-f]{2}$/.test(name))!;
  const [victim] = await fs.readdir(path.join(blobRoot, fanOut));
  await fs.rm(path.join(blobRoot, fanOut, victim!));
  result = await runCli(['audit', '--json'], { env });
  assert.equal(result.code, 1);
  const report = JSON.parse(result.stdout);
  assert.equal(report.ok, false);
  assert.deepEqual(report.findings.map((finding: { kind: string; where: string }) => [finding.kind, finding.where]), [['blob.missing', victim]]);
  result = await runCli(['audit', '--repair'], { env });
  assert.equal(result.code, 1, 'no copy: still broken');
  assert.match(result.stdout, /blob\.missing .*no copy given to repair from \[unrepaired\]/);
  result = await runCli(['audit', '--repair', '--copy', backup], { env });
  assert.equal(result.code, 0, result.stdout);
  assert.match(result.stdout, /restored from .*backup \[repaired\]/);
  assert.equal((await runCli(['audit'], { env })).code, 0);

  const restored = path.join(root, 'restored');
  result = await runCli(['restore', backup, '--to', restored], { env });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /every mailbox digest equals the manifest’s/);
  result = await runCli(['compare', dataDir, restored], { env });
  assert.equal(result.code, 0, result.stdout);
  assert.equal(result.stdout, 'identical: 6 mailbox(es), every digest equal\n');

  assert.equal((await runCli(['user', 'add', 'bob@example.com'], { env, input: 'correct horse battery\n' })).code, 0);
  result = await runCli(['compare', dataDir, restored], { env });
  assert.equal(result.code, 1);
  assert.match(result.stdout, /mailbox\.only_in_a bob@example\.com\/INBOX/);

  // Bad input: each refused with a line naming the problem.
  result = await runCli(['restore', backup, '--to', dataDir], { env });
  assert.match(result.stderr, /^postkeep: .*already holds a store/);
  result = await runCli(['backup', 'verify', root], { env });
  assert.match(result.stderr, /^postkeep: .* is not a Postkeep backup: cannot read manifest\.json/);
  result = await runCli(['compare', dataDir, path.join(root, 'nowhere')], { env });
  assert.match(result.stderr, /^postkeep: .*nowhere is not a Postkeep data folder or backup/);
  result = await runCli(['audit', '--account', 'carol@example.com'], { env });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^postkeep: there is no account "carol@example.com"/);
  result = await runCli(['audit', '--repair', '--copy', path.join(root, 'nowhere')], { env });
  assert.match(result.stderr, /^postkeep: the copy .*nowhere does not exist/);
  await fs.rm(root, { recursive: true, force: true });
});

test('audit names a damaged database and exits non-zero', { timeout: 60_000 }, async () => {
  const root = await temporaryDirectory('postkeep-cli-damaged-');
  const env = { POSTKEEP_DATA: root, POSTKEEP_CONFIG: '' };
  await runCli(['domain', 'add', 'example.com'], { env });
  await runCli(['user', 'add', 'alice@example.com'], { env, input: 'correct horse battery\n' });
  // The stores are closed, so everything is in the main file: damage page 2's b-tree header.
  const file = path.join(root, 'postkeep.db');
  const handle = await fs.open(file, 'r+');
  await handle.write(Buffer.alloc(16, 0), 0, 16, 4096);
  await handle.close();
  const result = await runCli(['audit'], { env });
  assert.equal(result.code, 1);
  assert.match(result.stdout + result.stderr, /database\.(integrity|unreadable)|is damaged/);
  assert.match(result.stdout + result.stderr, /restore/);
  await fs.rm(root, { recursive: true, force: true });
});
