import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { SchemaTooNew } from '../../src/errors.js';
import { createMemoryLogger } from '../../src/log.js';
import { openDatabase } from '../../src/store/sqlite/database.js';
import { latestVersion, migrations } from '../../src/store/sqlite/schema.js';
import { temporaryDirectory } from '../helpers/temporary-store.js';

test('a newer database is refused with a message that says what to do', async () => {
  const directory = await temporaryDirectory();
  const file = path.join(directory, 'postkeep.db');
  const raw = new Database(file);
  raw.pragma(`user_version = ${latestVersion + 1}`);
  raw.close();
  await assert.rejects(openDatabase(file, createMemoryLogger()), (error: unknown) => error instanceof SchemaTooNew && /newer|at least as new/.test(error.message) && error.message.includes('backups'));
  await fs.rm(directory, { recursive: true });
});

test('an older database is copied, then migrated in one transaction', async () => {
  const directory = await temporaryDirectory();
  const file = path.join(directory, 'postkeep.db');
  const log = createMemoryLogger();
  const old = await openDatabase(file, log, migrations);
  old.prepare("INSERT INTO domains (name) VALUES ('example.com')").run();
  old.close();
  const next = [...migrations, { version: latestVersion + 1, description: 'test: add a column', sql: 'ALTER TABLE domains ADD COLUMN note TEXT' }];
  const migrated = await openDatabase(file, log, next);
  assert.equal(migrated.pragma('user_version', { simple: true }), latestVersion + 1);
  assert.deepEqual(migrated.prepare('SELECT name, note FROM domains').all(), [{ name: 'example.com', note: null }]);
  migrated.close();
  const backups = await fs.readdir(path.join(directory, 'backups'));
  assert.equal(backups.length, 1);
  const copy = new Database(path.join(directory, 'backups', backups[0]!), { readonly: true });
  assert.equal(copy.pragma('user_version', { simple: true }), latestVersion);
  copy.close();

  // A failing migration leaves the database as it was.
  const broken = [...next, { version: latestVersion + 2, description: 'test: broken', sql: 'ALTER TABLE domains ADD COLUMN x TEXT; THIS IS NOT SQL' }];
  await assert.rejects(openDatabase(file, log, broken));
  const after = new Database(file, { readonly: true });
  assert.equal(after.pragma('user_version', { simple: true }), latestVersion + 1);
  assert.equal((after.prepare('PRAGMA table_info(domains)').all() as unknown[]).length, 2);
  after.close();
  await fs.rm(directory, { recursive: true });
});
