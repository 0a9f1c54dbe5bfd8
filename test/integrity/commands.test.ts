// `postkeep audit` as an admin runs it: real child processes on a real data folder.
// (backup, verify, restore and compare are in commands-backup.test.ts, so that the
// two files run side by side and each stays well under its time limit.)
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { test } from 'node:test';
import { backupStore } from '../../src/integrity/backup.js';
import { runCli } from '../helpers/run-cli.js';
import { createCliFixture } from './cli-fixture.js';

test('audit finds a deleted blob, and --repair restores it only from a copy', { timeout: 240_000 }, async () => {
  const fixture = await createCliFixture('postkeep-cli-audit-');
  const { env } = fixture;
  try {
    let result = await runCli(['audit'], { env });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /^audit of all accounts: 1 account\(s\), 6 mailbox\(es\), 2 record\(s\), 2 blob\(s\) .*0 error\(s\), 0 notice\(s\) — OK\n$/);
    const backup = path.join(fixture.root, 'backup');
    await fixture.withStore((store) => backupStore(store, backup));

    // Damage the live store: one blob deleted.
    const blobRoot = path.join(fixture.dataDir, 'blobs');
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
  } finally {
    await fixture.dispose();
  }
});

// Each test starts a handful of processes at most, so that each stays well under its limit on a loaded machine.
test('audit refuses an unknown account and a copy that does not exist', { timeout: 240_000 }, async () => {
  const fixture = await createCliFixture('postkeep-cli-audit-input-');
  const { env } = fixture;
  try {
    let result = await runCli(['audit', '--account', 'carol@example.com'], { env });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^postkeep: there is no account "carol@example.com"/);
    result = await runCli(['audit', '--repair', '--copy', path.join(fixture.root, 'nowhere')], { env });
    assert.match(result.stderr, /^postkeep: the copy .*nowhere does not exist/);
  } finally {
    await fixture.dispose();
  }
});

test('audit names a damaged database and exits non-zero', { timeout: 240_000 }, async () => {
  const fixture = await createCliFixture('postkeep-cli-damaged-');
  try {
    // The store is closed, so everything is in the main file: damage page 2's b-tree header.
    const handle = await fs.open(path.join(fixture.dataDir, 'postkeep.db'), 'r+');
    await handle.write(Buffer.alloc(16, 0), 0, 16, 4096);
    await handle.close();
    const result = await runCli(['audit'], { env: fixture.env });
    assert.equal(result.code, 1);
    assert.match(result.stdout + result.stderr, /database\.(integrity|unreadable)|is damaged/);
    assert.match(result.stdout + result.stderr, /restore/);
  } finally {
    await fixture.dispose();
  }
});
