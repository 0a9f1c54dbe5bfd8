// `postkeep log verify` against real tampering of the SQLite file: every edited,
// deleted or reordered entry is found and named, and so is a cut-off tail (via the
// anchor file). `postkeep log show` prints one user's login history.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { createMemoryLogger } from '../../src/log.js';
import { anchorFile } from '../../src/security-log/anchor.js';
import { entryHash } from '../../src/security-log/entry-hash.js';
import { SecurityLog } from '../../src/security-log/security-log.js';
import { openStore } from '../../src/store/open-store.js';
import type { SecurityLogRow } from '../../src/store/sqlite/security-log.js';
import { runCli } from '../helpers/run-cli.js';
import { temporaryDirectory } from '../helpers/temporary-store.js';

/** A data folder whose security log holds ten entries (sequence 1…10). */
async function loggedDataDir(): Promise<string> {
  const dataDir = await temporaryDirectory('postkeep-log-');
  const store = await openStore({ dataDir, log: createMemoryLogger() });
  const securityLog = new SecurityLog({ dataDir, log: createMemoryLogger() });
  securityLog.attach(store);
  for (let index = 1; index <= 10; index++) {
    securityLog.record(index % 3 === 0 ? 'auth.failed' : 'auth.succeeded', {
      login: index % 2 === 0 ? 'alice@example.com' : 'bob@example.com',
      protocol: index % 4 === 0 ? 'smtp' : 'imap',
      address: `192.0.2.${index}`,
      ...(index % 3 === 0 ? { reason: 'wrong-password' } : { credential: 'password' }),
    });
    // Separate batches, so the anchor moves as it does in a running server.
    await securityLog.flush();
  }
  await securityLog.close();
  await store.close();
  return dataDir;
}

function tamper(dataDir: string, work: (db: Database.Database) => void): void {
  const db = new Database(`${dataDir}/postkeep.db`);
  try {
    work(db);
  } finally {
    db.close();
  }
}

async function verify(dataDir: string) {
  return runCli(['log', 'verify'], { env: { POSTKEEP_DATA: dataDir, POSTKEEP_CONFIG: '' } });
}

function rehash(db: Database.Database, sequence: number): void {
  const row = db.prepare('SELECT * FROM security_log WHERE sequence = ?').get(sequence) as SecurityLogRow;
  db.prepare('UPDATE security_log SET hash = ? WHERE sequence = ?').run(entryHash({ ...row, previousHash: row.previous_hash }), sequence);
}

const cases: { name: string; tamper: (db: Database.Database) => void; expect: RegExp; removeAnchor?: boolean }[] = [
  {
    name: 'an edited field',
    tamper: (db) => db.prepare("UPDATE security_log SET fields = replace(fields, '192.0.2.5', '203.0.113.66') WHERE sequence = 5").run(),
    expect: /^entry 5: its content does not match its hash/m,
  },
  {
    name: 'an edited entry whose own hash was recomputed',
    tamper: (db) => {
      db.prepare("UPDATE security_log SET event = 'auth.succeeded', fields = replace(fields, 'wrong-password', 'none') WHERE sequence = 6").run();
      rehash(db, 6);
    },
    expect: /^entry 7: its previous_hash does not match entry 6's hash/m,
  },
  {
    name: 'a deleted entry in the middle',
    tamper: (db) => db.prepare('DELETE FROM security_log WHERE sequence = 4').run(),
    expect: /^entry 5: entry 4 is missing \(deleted\)/m,
  },
  {
    name: 'deleted entries at the start',
    tamper: (db) => db.prepare('DELETE FROM security_log WHERE sequence <= 2').run(),
    expect: /^entry 3: entries 1 to 2 are missing \(deleted\)/m,
  },
  {
    name: 'two entries swapped',
    tamper: (db) => {
      db.prepare('UPDATE security_log SET sequence = -3 WHERE sequence = 3').run();
      db.prepare('UPDATE security_log SET sequence = 3 WHERE sequence = 4').run();
      db.prepare('UPDATE security_log SET sequence = 4 WHERE sequence = -3').run();
    },
    expect: /^entry 3: its previous_hash does not match entry 2's hash[^\n]*\nentry 3: its content does not match its hash/m,
  },
  {
    name: 'entries cut from the end',
    tamper: (db) => db.prepare('DELETE FROM security_log WHERE sequence > 8').run(),
    expect: /^entry 9: entries 9 to 10 are missing from the end \(the anchor file records entry 10\)/m,
  },
  {
    name: 'entries cut from the end and the anchor file removed',
    tamper: (db) => db.prepare('DELETE FROM security_log WHERE sequence > 8').run(),
    removeAnchor: true,
    expect: /^entry 8: the anchor file .* is missing, so entries cut from the end cannot be ruled out/m,
  },
  {
    name: 'every entry deleted',
    tamper: (db) => db.prepare('DELETE FROM security_log').run(),
    expect: /^entry 1: entries 1 to 10 are missing from the end/m,
  },
  {
    name: 'an edit with the whole chain after it recomputed',
    tamper: (db) => {
      db.prepare("UPDATE security_log SET fields = replace(fields, '192.0.2.3', '203.0.113.3') WHERE sequence = 3").run();
      let previous = (db.prepare('SELECT hash FROM security_log WHERE sequence = 2').get() as { hash: string }).hash;
      for (let sequence = 3; sequence <= 10; sequence++) {
        db.prepare('UPDATE security_log SET previous_hash = ? WHERE sequence = ?').run(previous, sequence);
        rehash(db, sequence);
        previous = (db.prepare('SELECT hash FROM security_log WHERE sequence = ?').get(sequence) as { hash: string }).hash;
      }
    },
    expect: /^entry 10: entry 10 does not match the hash in the anchor file \(the log was rewritten\)/m,
  },
];

test('an untouched log verifies', async () => {
  const dataDir = await loggedDataDir();
  try {
    const result = await verify(dataDir);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /^10 entries, chain intact \(last entry 10, hash [0-9a-f]{64}\)$/m);
  } finally {
    await fs.rm(dataDir, { recursive: true, force: true });
  }
});

for (const tampering of cases) {
  test(`verify finds ${tampering.name}`, async () => {
    const dataDir = await loggedDataDir();
    try {
      tamper(dataDir, tampering.tamper);
      if (tampering.removeAnchor) await fs.rm(anchorFile(dataDir));
      const result = await verify(dataDir);
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assert.match(result.stdout, tampering.expect);
      assert.match(result.stdout, /chain BROKEN: \d+ problem\(s\)$/m);
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
}

test('log show prints one user\'s login history, newest first, as text and JSON', async () => {
  const dataDir = await loggedDataDir();
  const env = { POSTKEEP_DATA: dataDir, POSTKEEP_CONFIG: '' };
  try {
    const text = await runCli(['log', 'show', '--user', 'ALICE@example.com'], { env });
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.trim().split('\n');
    // Alice has the even entries: 10, 8, 6, 4, 2.
    assert.equal(lines.length, 5);
    assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT[^\t]+Z\tauth\.succeeded\timap\t192\.0\.2\.10\tpassword$/);
    assert.match(lines[2]!, /\tauth\.failed\timap\t192\.0\.2\.6\t-\treason=wrong-password$/);
    assert.match(lines[1]!, /\tauth\.succeeded\tsmtp\t192\.0\.2\.8\tpassword$/);
    assert.ok(!text.stdout.includes('192.0.2.1\t'), 'no entry of another user');
    const json = await runCli(['log', 'show', '--user', 'bob@example.com', '--limit', '2', '--json'], { env });
    assert.equal(json.code, 0, json.stderr);
    const items = JSON.parse(json.stdout) as { sequence: number; event: string; address: string; protocol: string; reason: string | null }[];
    assert.deepEqual(
      items.map((item) => [item.sequence, item.event, item.address, item.protocol, item.reason]),
      [
        [9, 'auth.failed', '192.0.2.9', 'imap', 'wrong-password'],
        [7, 'auth.succeeded', '192.0.2.7', 'imap', null],
      ],
    );
    const nobody = await runCli(['log', 'show', '--user', 'carol@example.com'], { env });
    assert.equal(nobody.stdout, 'no entries for carol@example.com\n');
  } finally {
    await fs.rm(dataDir, { recursive: true, force: true });
  }
});
