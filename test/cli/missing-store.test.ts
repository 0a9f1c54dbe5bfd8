// A wrong or missing data folder is an error, not a new empty store: only `init`
// and `start` make a store; every other command names the folder that has none.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/run-cli.js';
import { temporaryDirectory } from '../helpers/temporary-store.js';

test('every command but init and start refuses a data folder without a store, and makes nothing there', { timeout: 240_000 }, async () => {
  const root = await temporaryDirectory('postkeep-missing-');
  try {
    const typo = path.join(root, 'typo');
    const empty = path.join(root, 'empty');
    await fs.mkdir(empty);
    const commands = [
      ['user', 'list'],
      ['audit'],
      ['audit', '--repair'],
      ['log', 'verify'],
      ['domain', 'list'],
      ['domain', 'add', 'example.com'],
      ['queue', 'list'],
      ['dkim', 'list'],
      ['admin', 'token', 'list'],
      ['undelete', 'alice@example.com', '--dry-run'],
      ['export', 'alice@example.com', path.join(root, 'export')],
      ['backup', path.join(root, 'backup')],
    ];
    for (const dataDir of [typo, empty]) {
      for (const command of commands) {
        const result = await runCli(command, { env: { POSTKEEP_DATA: dataDir, POSTKEEP_CONFIG: '' } });
        assert.equal(result.code, 1, `${command.join(' ')} in ${dataDir}: ${result.stdout}`);
        assert.equal(result.stdout, '', command.join(' '));
        assert.match(result.stderr, new RegExp(`^postkeep: there is no Postkeep store in ${dataDir} \\(.*postkeep init`), command.join(' '));
      }
      const inPlace = await runCli(['restore', path.join(root, 'backup'), '--to', dataDir, '--in-place'], { env: { POSTKEEP_CONFIG: '' } });
      assert.equal(inPlace.code, 1);
      assert.match(inPlace.stderr, new RegExp(`there is no Postkeep store in ${dataDir}`));
    }
    assert.equal(existsSync(typo), false, 'the mistyped folder was not made');
    assert.deepEqual(await fs.readdir(empty), [], 'nothing was made in the empty folder');
    assert.equal(existsSync(path.join(root, 'backup')), false);

    const made = await runCli(['init'], { env: { POSTKEEP_DATA: typo, POSTKEEP_CONFIG: '' } });
    assert.equal(made.code, 0, made.stderr);
    assert.equal(made.stdout, `made a new store in ${typo}\n`);
    const listed = await runCli(['user', 'list'], { env: { POSTKEEP_DATA: typo, POSTKEEP_CONFIG: '' } });
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal((await runCli(['audit'], { env: { POSTKEEP_DATA: typo, POSTKEEP_CONFIG: '' } })).code, 0);
    const again = await runCli(['init'], { env: { POSTKEEP_DATA: typo, POSTKEEP_CONFIG: '' } });
    assert.equal(again.stdout, `a store already exists in ${typo}\n`);
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});
