// Rows holding values a damaged page leaves behind (a hash that is not hex, NULL in a
// NOT NULL column, text in an INTEGER column, numbers out of range, JSON that does
// not parse), written with a second connection to the real database file. The real
// `postkeep audit` names each one, exits 1, and never ends in a stack trace.
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { test } from 'node:test';
import { startScrub } from '../../src/integrity/scrub.js';
import { createMemoryLogger } from '../../src/log.js';
import { runCli } from '../helpers/run-cli.js';
import { createTemporaryStore, sampleMessage } from '../helpers/temporary-store.js';
import { createCliFixture, type CliFixture } from './cli-fixture.js';

interface Finding {
  kind: string;
  severity: string;
  where: string;
  detail: string;
}

function damage(fixture: CliFixture, work: (database: Database.Database) => void): void {
  const database = new Database(path.join(fixture.dataDir, 'postkeep.db'));
  try {
    database.pragma('foreign_keys = OFF');
    work(database);
  } finally {
    database.close();
  }
}

/** The record whose hash is damaged leaves its file without a record: no need to wait out the in-flight grace. */
async function withoutGrace(fixture: CliFixture): Promise<NodeJS.ProcessEnv> {
  const config = path.join(fixture.root, 'postkeep.toml');
  await fs.writeFile(config, '[store]\norphanGraceSeconds = 0\n');
  return { ...fixture.env, POSTKEEP_CONFIG: config };
}

/** Edits the schema text itself (better-sqlite3 opens in defensive mode, which forbids it). */
function relaxSchema(fixture: CliFixture, tables: readonly string[]): void {
  const script = [
    'import sqlite3, re, sys',
    'db = sqlite3.connect(sys.argv[1])',
    'db.execute("PRAGMA writable_schema = ON")',
    'for table in sys.argv[2:]:',
    '    (sql,) = db.execute("SELECT sql FROM sqlite_schema WHERE type = \'table\' AND name = ?", (table,)).fetchone()',
    '    sql = re.sub(r"\\) STRICT", ")", sql.replace(" NOT NULL", ""))',
    '    db.execute("UPDATE sqlite_schema SET sql = ? WHERE type = \'table\' AND name = ?", (sql, table))',
    'db.commit()',
  ].join('\n');
  execFileSync('python3', ['-c', script, path.join(fixture.dataDir, 'postkeep.db'), ...tables]);
}

function assertNoStackTrace(output: string): void {
  assert.doesNotMatch(output, /\n\s+at .*:\d+:\d+|Error: not a blob hash|TypeError|RangeError/, output);
}

test('a non-hex blob hash and undecodable structure JSON are findings, with and without --repair', { timeout: 240_000 }, async () => {
  const fixture = await createCliFixture('postkeep-damaged-hash-');
  try {
    damage(fixture, (database) => {
      database.prepare("UPDATE messages SET blob_hash = 'zz' || substr(blob_hash, 3) WHERE uid = 1").run();
      database.prepare("UPDATE blobs SET structure = '{\"envelope\": [tru' WHERE rowid = (SELECT min(rowid) FROM blobs)").run();
    });
    const env = await withoutGrace(fixture);
    let result = await runCli(['audit', '--json'], { env });
    assertNoStackTrace(result.stderr);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    const findings = (JSON.parse(result.stdout) as { findings: Finding[] }).findings;
    const record = findings.find((finding) => finding.kind === 'record.malformed');
    assert.ok(record, JSON.stringify(findings));
    assert.equal(record.severity, 'error');
    assert.equal(record.where, 'alice@example.com/INBOX UID 1');
    assert.match(record.detail, /blob_hash is "zz[0-9a-f]{22}…" \(not a SHA-256 in hex\)/);
    const blob = findings.find((finding) => finding.kind === 'blob.malformed');
    assert.ok(blob, JSON.stringify(findings));
    assert.match(blob.detail, /structure is .* \(not JSON\)/);

    result = await runCli(['audit', '--repair'], { env });
    assertNoStackTrace(result.stderr);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /record\.malformed +alice@example\.com\/INBOX UID 1: damaged values: blob_hash is .*\[unrepaired\]/);
  } finally {
    await fixture.dispose();
  }
});

test('NULL, wrong types and out-of-range numbers in message and mailbox rows are findings', { timeout: 240_000 }, async () => {
  const fixture = await createCliFixture('postkeep-damaged-types-');
  try {
    // A damaged page does not go through the schema's checks: drop them, as the page did.
    relaxSchema(fixture, ['messages', 'mailboxes']);
    damage(fixture, (database) => {
      database.prepare("UPDATE messages SET flags = NULL, size = 'big', modseq = -3, internal_date = 1e300 WHERE uid = 1").run();
      database.prepare("UPDATE messages SET email_id = x'00ff' WHERE uid = 2").run();
      database.prepare("UPDATE mailboxes SET digest = NULL, uidnext = 'next' WHERE name = 'Archive'").run();
    });
    const result = await runCli(['audit', '--json'], { env: await withoutGrace(fixture) });
    assertNoStackTrace(result.stderr);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    const findings = (JSON.parse(result.stdout) as { findings: Finding[] }).findings;
    const byWhere = new Map(findings.filter((finding) => finding.kind.endsWith('.malformed')).map((finding) => [finding.where, finding]));
    const first = byWhere.get('alice@example.com/INBOX UID 1');
    assert.ok(first, JSON.stringify(findings));
    assert.match(first.detail, /size is "big" \(not an integer\)/);
    assert.match(first.detail, /internal_date is 1e\+300 \(out of range/);
    assert.match(first.detail, /flags is NULL \(not text\)/);
    assert.match(first.detail, /modseq is -3 \(out of range/);
    assert.match(byWhere.get('alice@example.com/INBOX UID 2')?.detail ?? '', /email_id is a 2-byte blob/);
    const archive = byWhere.get('alice@example.com/Archive');
    assert.equal(archive?.kind, 'mailbox.malformed');
    assert.match(archive.detail, /uidnext is "next" \(not an integer\).*digest is NULL/);
  } finally {
    await fixture.dispose();
  }
});

test('the background scrub reports a blob row with a damaged hash and goes on past it', async () => {
  const temporary = await createTemporaryStore();
  try {
    const appended = [];
    for (let index = 0; index < 3; index++) appended.push(await temporary.account.append('INBOX', sampleMessage()));
    await temporary.store.context.commit.idle();
    const database = new Database(path.join(temporary.dataDir, 'postkeep.db'));
    database.pragma('foreign_keys = OFF');
    // Sorts first, so the pass meets it before the good rows.
    database.prepare("UPDATE blobs SET hash = '0' || substr(hash, 2, 30) || 'Z' WHERE hash = ?").run(appended[1]!.blobHash);
    database.close();
    const log = createMemoryLogger();
    const scrubber = startScrub(temporary.store.integrity, { periodDays: 7, megabytesPerSecond: 1000, log }, false);
    try {
      const pass = await scrubber.runPass();
      assert.equal(pass.problems, 1);
      assert.equal(pass.blobs, 2, 'the two good blobs were still verified');
      assert.equal(log.events.filter((event) => event.event === 'integrity.blob_row_malformed').length, 1);
    } finally {
      await scrubber.stop();
    }
  } finally {
    await temporary.dispose();
  }
});
