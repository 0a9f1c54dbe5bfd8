// The data folder's lock (src/server/data-folder-lock.ts): one server per folder, and
// no repair or in-place restore under a running server, each refused with
// the holder's pid; read-only commands and backups keep working beside it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/run-cli.js';
import { startServerProcess, writeEphemeralConfig } from '../helpers/server-process.js';
import { temporaryDirectory } from '../helpers/temporary-store.js';

const mbox = 'From alice@example.com Thu Jan  1 00:00:00 2026\nSubject: hello\n\nbody\n';

test('a running server holds the data folder: a second start, audit --repair and restore --in-place are refused naming its pid; import runs beside it', { timeout: 240_000 }, async () => {
  const root = await temporaryDirectory('postkeep-lock-');
  try {
    const dataDir = path.join(root, 'data');
    const configFile = await writeEphemeralConfig(root, dataDir);
    const cli = (args: string[]) => runCli(['--config', configFile, ...args], { env: { POSTKEEP_DATA: '', POSTKEEP_CONFIG: '', POSTKEEP_ALLOW_ROOT: '1' } });
    assert.equal((await cli(['init'])).code, 0);
    assert.equal((await cli(['domain', 'add', 'example.com'])).code, 0);
    assert.equal((await runCli(['--config', configFile, 'user', 'add', 'alice@example.com'], { env: { POSTKEEP_DATA: '', POSTKEEP_CONFIG: '' }, input: 'correct horse battery\n' })).code, 0);
    await fs.writeFile(path.join(root, 'mail.mbox'), mbox);

    const server = await startServerProcess(configFile);
    const pid = server.child.pid!;
    try {
      assert.equal((await fs.readFile(path.join(dataDir, 'postkeep.lock'), 'utf8')).split(' ')[0], String(pid));

      const second = await cli(['start']);
      assert.equal(second.code, 1, second.stderr);
      assert.match(second.stderr, new RegExp(`postkeep: the data folder .*data is in use by postkeep pid ${pid} \\(start\\); stop it first`));

      const repair = await cli(['audit', '--repair']);
      assert.equal(repair.code, 1);
      assert.match(repair.stderr, new RegExp(`in use by postkeep pid ${pid} \\(start\\)`));

      // An import goes through the store's transactions: safe beside the server.
      const imported = await cli(['import', 'alice@example.com', path.join(root, 'mail.mbox')]);
      assert.equal(imported.code, 0, imported.stderr);
      assert.match(imported.stdout, /1 imported/);

      // Read-only commands and a backup work beside the server.
      assert.equal((await cli(['user', 'list'])).code, 0);
      const audit = await cli(['audit']);
      assert.equal(audit.code, 0, audit.stdout + audit.stderr);
      const backup = await cli(['backup', path.join(root, 'backup')]);
      assert.equal(backup.code, 0, backup.stderr);
      assert.equal((await cli(['log', 'verify'])).code, 0);

      const restore = await cli(['restore', path.join(root, 'backup'), '--to', dataDir, '--in-place']);
      assert.equal(restore.code, 1);
      assert.match(restore.stderr, new RegExp(`in use by postkeep pid ${pid} \\(start\\)`));
      // The refused commands changed nothing: the server still writes.
      assert.equal((await cli(['domain', 'add', 'example.org'])).code, 0);
    } finally {
      assert.equal(await server.stop(), 0);
    }
    await assert.rejects(fs.access(path.join(dataDir, 'postkeep.lock')), 'the lock goes with the server');
    const repair = await cli(['audit', '--repair']);
    assert.equal(repair.code, 0, repair.stdout + repair.stderr);
    const again = await cli(['import', 'alice@example.com', path.join(root, 'mail.mbox')]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /0 imported, 1 already present/);
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});

test('a lock left by a process that is gone is taken over and logged', { timeout: 120_000 }, async () => {
  const root = await temporaryDirectory('postkeep-lock-stale-');
  try {
    const dataDir = path.join(root, 'data');
    const env = { POSTKEEP_DATA: dataDir, POSTKEEP_CONFIG: '' };
    assert.equal((await runCli(['init'], { env })).code, 0);
    // The pid of a process that has exited (and been reaped), as after a crash.
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    await fs.writeFile(path.join(dataDir, 'postkeep.lock'), `${gone} start\n`);
    const repair = await runCli(['audit', '--repair'], { env });
    assert.equal(repair.code, 0, repair.stderr);
    assert.match(repair.stderr, new RegExp(`"event":"server.lock_stale".*"pid":${gone}`));
    await assert.rejects(fs.access(path.join(dataDir, 'postkeep.lock')), 'released after the command');

    // A living holder (this test process) is not taken over.
    await fs.writeFile(path.join(dataDir, 'postkeep.lock'), `${process.pid} restore --in-place\n`);
    const refused = await runCli(['audit', '--repair'], { env });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`in use by postkeep pid ${process.pid} \\(restore --in-place\\).*remove .*postkeep\\.lock`));
    assert.equal(await fs.readFile(path.join(dataDir, 'postkeep.lock'), 'utf8'), `${process.pid} restore --in-place\n`, 'another holder\'s lock is left alone');
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});
