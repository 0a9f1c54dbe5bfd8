// backup, backup verify, restore (into a new folder and --in-place) and compare as
// an admin runs them: real child processes on a real data folder.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { test } from 'node:test';
import { backupStore } from '../../src/integrity/backup.js';
import { runCli } from '../helpers/run-cli.js';
import { createCliFixture } from './cli-fixture.js';

test('backup, backup verify, restore and compare through the command', { timeout: 240_000 }, async () => {
  const fixture = await createCliFixture('postkeep-cli-backup-');
  const { env, dataDir, root } = fixture;
  try {
    const backup = path.join(root, 'backup');
    let result = await runCli(['backup', backup], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /6 mailbox\(es\), 2 blob\(s\), 2 copied .* 0 already there, 0 queued message file\(s\)/);
    result = await runCli(['backup', 'verify', backup], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /everything matches the manifest/);

    const restored = path.join(root, 'restored');
    result = await runCli(['restore', backup, '--to', restored], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /every mailbox digest equals the manifest’s/);
    result = await runCli(['compare', dataDir, restored], { env });
    assert.equal(result.code, 0, result.stdout);
    assert.equal(result.stdout, 'identical: 6 mailbox(es), every digest equal\n');

    await fixture.withStore((store) => store.admin.addAccount('bob@example.com', 'not-a-real-hash'));
    result = await runCli(['compare', dataDir, restored], { env });
    assert.equal(result.code, 1);
    assert.match(result.stdout, /mailbox\.only_in_a bob@example\.com\/INBOX/);
  } finally {
    await fixture.dispose();
  }
});

// Each test starts a handful of processes at most, so that each stays well under its limit on a loaded machine.
test('restore, backup verify and compare refuse what they cannot work on, naming it', { timeout: 240_000 }, async () => {
  const fixture = await createCliFixture('postkeep-cli-backup-input-');
  const { env, dataDir, root } = fixture;
  try {
    const backup = path.join(root, 'backup');
    await fixture.withStore((store) => backupStore(store, backup));
    let result = await runCli(['restore', backup, '--to', dataDir], { env });
    assert.match(result.stderr, /^postkeep: .*already holds a store/);
    result = await runCli(['backup', 'verify', root], { env });
    assert.match(result.stderr, /^postkeep: .* is not a Postkeep backup: cannot read manifest\.json/);
    result = await runCli(['compare', dataDir, path.join(root, 'nowhere')], { env });
    assert.match(result.stderr, /^postkeep: .*nowhere is not a Postkeep data folder or backup/);
  } finally {
    await fixture.dispose();
  }
});

test('restore --in-place repairs a damaged database page in the data folder itself', { timeout: 240_000 }, async () => {
  const fixture = await createCliFixture('postkeep-cli-in-place-');
  const { env, dataDir, root } = fixture;
  try {
    const backup = path.join(root, 'backup');
    await fixture.withStore((store) => backupStore(store, backup));
    const { rootpage, pageSize } = await fixture.withStore(async (store) => ({
      rootpage: (store.context.db.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'messages'").get() as { rootpage: number }).rootpage,
      pageSize: store.context.db.pragma('page_size', { simple: true }) as number,
    }));
    const handle = await fs.open(path.join(dataDir, 'postkeep.db'), 'r+');
    await handle.write(Buffer.alloc(12, 0), 0, 12, (rootpage - 1) * pageSize);
    await handle.close();

    const result = await runCli(['restore', backup, '--to', dataDir, '--in-place'], { env });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /2 file\(s\) kept, 0 rewritten from the backup; every mailbox digest equals the manifest’s; 0 newer message\(s\) re-linked, 0 unreferenced blob\(s\) left in place; the damaged database is in .*damaged-/);
    const audit = await runCli(['audit'], { env });
    assert.equal(audit.code, 0, audit.stdout + audit.stderr);
    // Refusals (no store there, a backup that does not match its manifest) are in restore-in-place.test.ts.
  } finally {
    await fixture.dispose();
  }
});
