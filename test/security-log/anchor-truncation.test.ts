// A cut security log stays cut (src/security-log/anchor.ts): once entries were removed
// from the end, later entries that take their numbers do not make `log verify` say
// "chain intact" again; and the anchor travels with a backup into a restored store.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/run-cli.js';
import { temporaryDirectory } from '../helpers/temporary-store.js';

function environment(dataDir: string): NodeJS.ProcessEnv {
  return { POSTKEEP_DATA: dataDir, POSTKEEP_CONFIG: '' };
}

/** A CLI command that writes security log entries (account.* events). */
async function addUser(dataDir: string, login: string): Promise<void> {
  const result = await runCli(['user', 'add', login], { env: environment(dataDir), input: 'correct horse battery\n' });
  assert.equal(result.code, 0, result.stderr);
}

async function verify(dataDir: string) {
  const result = await runCli(['log', 'verify', '--json'], { env: environment(dataDir) });
  const report = JSON.parse(result.stdout) as { ok: boolean; entries: number; head: { sequence: number } | null; problems: { sequence: number; problem: string }[] };
  assert.equal(result.code, report.ok ? 0 : 1);
  return report;
}

async function securityLogEvents(dataDir: string): Promise<string[]> {
  const db = new Database(path.join(dataDir, 'postkeep.db'), { readonly: true });
  try {
    return (db.prepare('SELECT event FROM security_log ORDER BY sequence').all() as { event: string }[]).map((row) => row.event);
  } finally {
    db.close();
  }
}

test('entries cut from the end are reported for good, also after later entries take their numbers', { timeout: 240_000 }, async () => {
  const root = await temporaryDirectory('postkeep-anchor-cut-');
  try {
    const dataDir = path.join(root, 'data');
    assert.equal((await runCli(['init'], { env: environment(dataDir) })).code, 0);
    assert.equal((await runCli(['domain', 'add', 'example.com'], { env: environment(dataDir) })).code, 0);
    for (const name of ['a', 'b', 'c']) await addUser(dataDir, `${name}@example.com`);
    const whole = await verify(dataDir);
    assert.equal(whole.ok, true, JSON.stringify(whole.problems));
    const anchored = whole.head!.sequence;
    assert.ok(anchored >= 3, `${anchored} entries`);

    // Someone removes the last two entries behind the server's back.
    const db = new Database(path.join(dataDir, 'postkeep.db'));
    db.prepare('DELETE FROM security_log WHERE sequence > ?').run(anchored - 2);
    db.close();
    const cut = await verify(dataDir);
    assert.equal(cut.ok, false);
    assert.match(cut.problems[0]!.problem, /missing from the end/);

    // Enough new entries to pass the old anchor's number: the old anchor used to move
    // on to them, and the chain looked whole again.
    for (const name of ['d', 'e', 'f', 'g']) await addUser(dataDir, `${name}@example.com`);
    const later = await verify(dataDir);
    assert.ok(later.head!.sequence > anchored, `the log grew past entry ${anchored} again (${later.head!.sequence})`);
    assert.equal(later.ok, false, 'still reported after new entries took the numbers of the removed ones');
    assert.ok(
      later.problems.some((problem) => problem.sequence === anchored && /once recorded in the anchor file, was found (gone|replaced)/.test(problem.problem)),
      JSON.stringify(later.problems),
    );
    assert.ok((await securityLogEvents(dataDir)).includes('integrity.security_log_truncated'), 'the finding is in the chain too');
    for (const name of ['h', 'i']) await addUser(dataDir, `${name}@example.com`);
    assert.equal((await verify(dataDir)).ok, false, 'and it stays reported');
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});

test('a backup carries the anchor: a restored store verifies; restore --in-place of an older backup stays reported', { timeout: 240_000 }, async () => {
  const root = await temporaryDirectory('postkeep-anchor-backup-');
  try {
    const dataDir = path.join(root, 'data');
    const backup = path.join(root, 'backup');
    assert.equal((await runCli(['init'], { env: environment(dataDir) })).code, 0);
    assert.equal((await runCli(['domain', 'add', 'example.com'], { env: environment(dataDir) })).code, 0);
    for (const name of ['a', 'b']) await addUser(dataDir, `${name}@example.com`);
    assert.equal((await runCli(['backup', backup], { env: environment(dataDir) })).code, 0);
    await fs.access(path.join(backup, 'security-log.anchor'));

    const restored = path.join(root, 'restored');
    const restore = await runCli(['restore', backup, '--to', restored], { env: environment(dataDir) });
    assert.equal(restore.code, 0, restore.stderr);
    const fresh = await verify(restored);
    assert.equal(fresh.ok, true, JSON.stringify(fresh.problems));
    assert.ok(fresh.entries > 0);

    // The live store goes on, then its database is replaced by the older backup.
    for (const name of ['c', 'd']) await addUser(dataDir, `${name}@example.com`);
    const before = (await verify(dataDir)).head!.sequence;
    const inPlace = await runCli(['restore', backup, '--to', dataDir, '--in-place'], { env: environment(dataDir) });
    assert.equal(inPlace.code, 0, inPlace.stderr + inPlace.stdout);
    const behind = await verify(dataDir);
    assert.equal(behind.ok, false);
    assert.match(behind.problems[0]!.problem, /missing from the end/);
    for (const name of ['e', 'f', 'g', 'h']) await addUser(dataDir, `${name}@example.com`);
    const after = await verify(dataDir);
    assert.ok(after.head!.sequence > before);
    assert.equal(after.ok, false, 'the entries lost with the newer database stay reported');
    assert.ok(after.problems.some((problem) => problem.sequence === before), JSON.stringify(after.problems));
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});

test('the admin API\'s quick audit check also keeps reporting a cut the log has grown past', { timeout: 120_000 }, async () => {
  const { startAdminHarness } = await import('../admin/admin-harness.js');
  const harness = await startAdminHarness();
  try {
    for (let index = 0; index < 4; index++) {
      harness.server.securityLog.record('auth.failed', { login: 'mallory@example.com', protocol: 'imap', address: '192.0.2.1', reason: 'wrong-password' });
      await harness.server.securityLog.flush();
    }
    const [head] = await harness.store.admin.readSecurityLog({ newestFirst: true, limit: 1 });
    const db = new Database(path.join(harness.dataDir, 'postkeep.db'));
    db.prepare('DELETE FROM security_log WHERE sequence > ?').run(head!.sequence - 2);
    db.close();
    const cut = await harness.request('GET', '/audit', { token: harness.token });
    assert.equal(cut.json.securityLog.ok, false, 'the head is behind the anchor');
    for (let index = 0; index < 4; index++) {
      harness.server.securityLog.record('auth.failed', { login: 'mallory@example.com', protocol: 'imap', address: '192.0.2.1', reason: 'wrong-password' });
      await harness.server.securityLog.flush();
    }
    const quick = await harness.request('GET', '/audit', { token: harness.token });
    assert.equal(quick.json.securityLog.checked, 'head');
    assert.ok(quick.json.securityLog.head.sequence > head!.sequence, 'the log grew past the cut');
    assert.equal(quick.json.securityLog.ok, false, JSON.stringify(quick.json.securityLog));
    assert.equal(quick.json.securityLog.lost[0].sequence, head!.sequence);
    const full = await harness.request('GET', '/audit?chain=full', { token: harness.token });
    assert.equal(full.json.securityLog.ok, false);
  } finally {
    await harness.close();
  }
});
