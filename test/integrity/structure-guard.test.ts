// Bits flipped in what the store derives from a message and keeps beside its blob
// (the parsed structure: envelope, part byte ranges, line counts; the sizes), by a
// raw write from another SQLite connection as a bad disk would: IMAP FETCH still
// serves the message's own ENVELOPE, BODYSTRUCTURE, BODY[1], BODY[HEADER] and
// RFC822.SIZE (re-derived from the verified blob), the row is rewritten, the event
// is logged as `integrity.structure_mismatch` (and reaches the security log), and
// `postkeep audit` reports the damage (exit 1) until `--repair` rewrites it.
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, test } from 'node:test';
import { auditStore } from '../../src/integrity/audit.js';
import { createMemoryLogger } from '../../src/log.js';
import { SecurityLog } from '../../src/security-log/security-log.js';
import { teeSecurityEvents } from '../../src/security-log/security-log-tee.js';
import { openStore } from '../../src/store/open-store.js';
import { openDatabase } from '../../src/store/sqlite/database.js';
import { migrations } from '../../src/store/sqlite/schema.js';
import { databaseFileName } from '../../src/store/sqlite/sqlite-store.js';
import { structureChecksum } from '../../src/store/structure-checksum.js';
import { runCli } from '../helpers/run-cli.js';
import { sampleMessage, temporaryDirectory } from '../helpers/temporary-store.js';
import { RawClient, startTestServer, type TestServer } from '../imap/server-harness.js';
import { createCliFixture } from './cli-fixture.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

// BODY[1]: the CRLF before the boundary belongs to the boundary (RFC 2046 §5.1.1).
const firstPart = 'The figures for the quarter are attached.\r\nRegards, Bob';
const report = Buffer.from(
  [
    'From: Bob <bob@example.org>',
    'To: Alice <alice@example.com>',
    'Subject: Quarterly figures',
    'Date: Fri, 27 Nov 2026 10:00:00 +0000',
    'Message-ID: <report@example.org>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    firstPart,
    '--b1',
    'Content-Type: application/octet-stream; name="figures.bin"',
    'Content-Transfer-Encoding: base64',
    '',
    'AAECAwQFBgcICQ==',
    '--b1--',
    '',
  ].join('\r\n'),
);

interface BlobRow {
  size: number;
  structure: string;
  structure_checksum: string | null;
}

/** Another connection to the store's database file, as an outside process or a bad disk write would be. */
function behindTheBack<T>(dataDir: string, work: (database: Database.Database) => T): T {
  const database = new Database(path.join(dataDir, databaseFileName));
  try {
    database.pragma('busy_timeout = 10000');
    return work(database);
  } finally {
    database.close();
  }
}

function blobRow(dataDir: string, hash: string): BlobRow {
  return behindTheBack(dataDir, (database) => database.prepare('SELECT size, structure, structure_checksum FROM blobs WHERE hash = ?').get(hash) as BlobRow);
}

/** Flips one bit of each byte position in the stored structure text, written back byte for byte. */
function flipStructureBits(dataDir: string, hash: string, flips: readonly { at: number; bit: number }[]): string {
  const stored = behindTheBack(dataDir, (database) => database.prepare('SELECT structure FROM blobs WHERE hash = ?').get(hash) as { structure: string });
  const bytes = Buffer.from(stored.structure, 'utf8');
  for (const { at, bit } of flips) bytes[at]! ^= 1 << bit;
  behindTheBack(dataDir, (database) => database.prepare('UPDATE blobs SET structure = CAST(? AS TEXT) WHERE hash = ?').run(bytes, hash));
  return bytes.toString('utf8');
}

/**
 * The flips the hostile test found harmful: a bit in the envelope's subject, one in
 * the sender's mailbox, and bit 2 of the last digit of part 1's body offset (±4 bytes).
 */
function harmfulFlips(text: string): { at: number; bit: number }[] {
  const at = (needle: string, from = 0) => {
    const position = Buffer.from(text).indexOf(needle, from);
    assert.ok(position >= 0, `${needle} is in the stored structure`);
    return position;
  };
  const subject = at('"subject":"Quarterly') + '"subject":"'.length;
  const sender = at('"mailbox":"bob"') + '"mailbox":"'.length;
  const firstChild = at('"children":[{');
  const bodyStart = at('"bodyStart":', firstChild) + '"bodyStart":'.length;
  let lastDigit = bodyStart;
  while (/[0-9]/.test(text[lastDigit + 1]!)) lastDigit++;
  return [
    { at: subject, bit: 1 }, // Q → S
    { at: sender, bit: 0 }, // b → c
    { at: lastDigit, bit: 2 }, // ±4
  ];
}

const structureItems = '(UID ENVELOPE BODYSTRUCTURE BODY.PEEK[1] BODY.PEEK[HEADER])';
const untagged = (reply: string) => reply.slice(0, reply.lastIndexOf('\r\n', reply.length - 3) + 2);
const mismatches = (log: TestServer['log']) => log.events.filter((event) => event.event === 'integrity.structure_mismatch');

async function serverWith(messages: Buffer[]): Promise<{ server: TestServer; client: RawClient; uids: number[]; hashes: string[] }> {
  const server = await startTestServer();
  cleanups.push(() => server.stop());
  const uids: number[] = [];
  const hashes: string[] = [];
  for (const message of messages) {
    const appended = await server.account.append('INBOX', message);
    uids.push(appended.uid);
    hashes.push(appended.blobHash);
  }
  await server.store.context.commit.idle();
  const client = await RawClient.connect(server);
  cleanups.push(async () => client.close());
  await client.login();
  await client.command('S0', 'SELECT INBOX');
  return { server, client, uids, hashes };
}

test('IMAP FETCH serves the message’s own ENVELOPE, BODYSTRUCTURE, BODY[1] and BODY[HEADER] after bits flip in its stored structure', async () => {
  const { server, client, uids, hashes } = await serverWith([report, sampleMessage()]);
  const [uid, hash] = [uids[0]!, hashes[0]!];
  const before = await client.command('F0', `UID FETCH ${uid} ${structureItems}`);
  assert.match(before, /ENVELOPE \("Fri, 27 Nov 2026 10:00:00 \+0000" "Quarterly figures" \(\("Bob" NIL "bob" "example.org"\)\)/);
  assert.ok(before.includes(`BODY[1] {${firstPart.length}}\r\n${firstPart}`), 'BODY[1] is the first part’s bytes');
  const original = blobRow(server.dataDir, hash);
  assert.equal(original.structure_checksum, structureChecksum(hash, original.size, original.structure), 'a new row carries its checksum');

  const damaged = flipStructureBits(server.dataDir, hash, harmfulFlips(original.structure));
  // The damage is the kind that did harm: a naive reader would serve it.
  const naive = JSON.parse(damaged) as { envelope: { subject: string; from: { mailbox: string }[] }; root: { children: { bodyStart: number }[] } };
  assert.equal(naive.envelope.subject, 'Suarterly figures');
  assert.equal(naive.envelope.from[0]!.mailbox, 'cob');
  assert.equal(Math.abs(naive.root.children[0]!.bodyStart - (JSON.parse(original.structure) as typeof naive).root.children[0]!.bodyStart), 4);

  const after = await client.command('F1', `UID FETCH ${uid} ${structureItems}`);
  assert.match(after, /^F1 OK/m);
  assert.equal(untagged(after), untagged(before), 'the same bytes as before the damage');
  const events = mismatches(server.log);
  assert.equal(events.length, 1);
  assert.deepEqual(
    { login: events[0]!.fields.login, mailbox: events[0]!.fields.mailbox, uid: events[0]!.fields.uid, blob: events[0]!.fields.blob, part: events[0]!.fields.part },
    { login: 'alice@example.com', mailbox: 'INBOX', uid, blob: hash, part: 'structure' },
  );
  assert.deepEqual(blobRow(server.dataDir, hash), original, 'the stored row was rewritten from the blob');

  // Repaired: the next read is served from the row again, with nothing more to report.
  assert.equal(untagged(await client.command('F2', `UID FETCH ${uid} ${structureItems}`)), untagged(before));
  assert.equal(mismatches(server.log).length, 1);
  // SEARCH and SORT read the same structures.
  assert.match(await client.command('F3', 'UID SEARCH SUBJECT "Quarterly"'), new RegExp(`\\* SEARCH ${uid}\\r\\n`));
});

test('a structure (with its valid checksum) moved onto another blob’s row is caught: the checksum is keyed with the blob hash', async () => {
  const { server, client, uids, hashes } = await serverWith([report, sampleMessage({ subject: 'Lunch on Friday' })]);
  const before = await client.command('F0', `UID FETCH ${uids[0]} ${structureItems}`);
  const original = blobRow(server.dataDir, hashes[0]!);
  const donor = blobRow(server.dataDir, hashes[1]!);
  behindTheBack(server.dataDir, (database) =>
    database.prepare('UPDATE blobs SET size = ?, structure = ?, structure_checksum = ? WHERE hash = ?').run(donor.size, donor.structure, donor.structure_checksum, hashes[0]),
  );
  const after = await client.command('F1', `UID FETCH ${uids[0]} ${structureItems}`);
  assert.doesNotMatch(after, /Lunch on Friday/);
  assert.equal(untagged(after), untagged(before));
  assert.equal(mismatches(server.log).length, 1);
  assert.deepEqual(blobRow(server.dataDir, hashes[0]!), original);
});

test('a flipped bit in a record’s size or its blob row’s size is not served as RFC822.SIZE, nor as a streamed literal’s length', async () => {
  const large = sampleMessage({ size: 1_300_000 }); // past the 1 MB FETCH streams instead of reading
  const { server, client, uids, hashes } = await serverWith([report, sampleMessage(), large]);
  const mailboxId = (server.store.context.db.prepare("SELECT id FROM mailboxes WHERE name = 'INBOX'").get() as { id: number }).id;
  const recordSize = (uid: number) => behindTheBack(server.dataDir, (database) => (database.prepare('SELECT size FROM messages WHERE mailbox_id = ? AND uid = ?').get(mailboxId, uid) as { size: number }).size);

  // The record's own size: FETCH without the structure still checks it against the blob row.
  const flipSize = (table: 'messages' | 'blobs', where: string, bit: number, ...key: unknown[]) =>
    behindTheBack(server.dataDir, (database) => {
      const { size } = database.prepare(`SELECT size FROM ${table} WHERE ${where}`).get(...key) as { size: number };
      database.prepare(`UPDATE ${table} SET size = ? WHERE ${where}`).run(size ^ bit, ...key);
    });
  flipSize('messages', 'mailbox_id = ? AND uid = ?', 16, mailboxId, uids[0]);
  assert.match(await client.command('F1', `UID FETCH ${uids[0]} (RFC822.SIZE)`), new RegExp(`RFC822\\.SIZE ${report.length}\\)`));
  assert.equal(recordSize(uids[0]!), report.length, 'the record’s size was rewritten');
  assert.equal(mismatches(server.log).at(-1)!.fields.part, 'record size');

  // The blob row's size: its checksum covers it, so the blob settles which one is right.
  flipSize('blobs', 'hash = ?', 2, hashes[1]);
  const second = await server.account.readMessage((await server.account.getMailbox('INBOX')).id, uids[1]!);
  assert.match(await client.command('F2', `UID FETCH ${uids[1]} (RFC822.SIZE)`), new RegExp(`RFC822\\.SIZE ${second.length}\\)`));
  assert.equal(blobRow(server.dataDir, hashes[1]!).size, second.length, 'the blob row was rewritten');
  assert.equal(mismatches(server.log).at(-1)!.fields.part, 'structure');

  // A streamed message's literal length comes from the size: a wrong one would desynchronise the session.
  flipSize('messages', 'mailbox_id = ? AND uid = ?', 1024, mailboxId, uids[2]);
  const streamed = Buffer.from(await client.command('F3', `UID FETCH ${uids[2]} (BODY.PEEK[])`), 'latin1');
  assert.ok(streamed.includes(Buffer.concat([Buffer.from(`BODY[] {${large.length}}\r\n`), large, Buffer.from(')\r\nF3 OK')])), 'the literal is the message, exactly');
  assert.equal(recordSize(uids[2]!), large.length);
  assert.match(await client.command('N1', 'NOOP'), /^N1 OK/m, 'the session is still in step');
});

test('a damaged structure whose blob is unreadable too is withheld: NO [UNAVAILABLE], never the damaged values', async () => {
  const { server, client, uids, hashes } = await serverWith([report, sampleMessage()]);
  flipStructureBits(server.dataDir, hashes[0]!, harmfulFlips(blobRow(server.dataDir, hashes[0]!).structure));
  await fs.rm(server.store.context.blobs.pathOf(hashes[0]!));
  const reply = await client.command('F1', `UID FETCH ${uids[0]}:${uids[1]} (UID ENVELOPE)`);
  assert.match(reply, /^F1 NO \[UNAVAILABLE\]/m);
  assert.doesNotMatch(reply, /Quarterly|Suarterly|"cob"/);
  assert.match(reply, new RegExp(`UID ${uids[1]} ENVELOPE`), 'the other message is served');
  assert.equal(mismatches(server.log)[0]!.fields.served, false);
});

test('the migration to schema version 4 leaves existing rows unverified: it does not checksum what may already be damaged', async () => {
  const dataDir = await temporaryDirectory();
  cleanups.push(() => fs.rm(dataDir, { recursive: true, force: true }));
  const file = path.join(dataDir, databaseFileName);
  const old = await openDatabase(file, createMemoryLogger(), migrations.filter((migration) => migration.version <= 3));
  old.prepare('INSERT INTO blobs (hash, size, refcount, structure, created_at) VALUES (?, ?, 1, ?, ?)').run('ab'.repeat(32), 10, '{"version":1}', Date.now());
  old.close();
  const migrated = await openDatabase(file, createMemoryLogger());
  try {
    assert.deepEqual(migrated.prepare('SELECT structure, structure_checksum FROM blobs').all(), [{ structure: '{"version":1}', structure_checksum: null }]);
  } finally {
    migrated.close();
  }
});

test('a row without a checksum (written before schema version 4) is proven by parsing its blob on first read: a good one gains its checksum, a damaged one is re-derived', async () => {
  const { server, client, uids, hashes } = await serverWith([report, sampleMessage({ subject: 'Untouched' })]);
  const before = await client.command('F0', `UID FETCH ${uids[0]}:${uids[1]} ${structureItems}`);
  const originals = hashes.map((hash) => blobRow(server.dataDir, hash));
  // As the migration leaves them; then damage from before the upgrade, which no checksum saw.
  behindTheBack(server.dataDir, (database) => database.prepare('UPDATE blobs SET structure_checksum = NULL').run());
  flipStructureBits(server.dataDir, hashes[0]!, harmfulFlips(originals[0]!.structure));

  const after = await client.command('F1', `UID FETCH ${uids[0]}:${uids[1]} ${structureItems}`);
  assert.equal(untagged(after), untagged(before));
  const events = mismatches(server.log);
  assert.deepEqual(events.map((event) => [event.fields.uid, event.fields.checksum]), [[uids[0], 'unverified']], 'only the damaged row is reported');
  assert.deepEqual(hashes.map((hash) => blobRow(server.dataDir, hash)), originals, 'both rows now hold proven values and their checksums');
});

test('integrity.structure_mismatch reaches the security log', async () => {
  const dataDir = await temporaryDirectory();
  cleanups.push(() => fs.rm(dataDir, { recursive: true, force: true }));
  const memory = createMemoryLogger();
  const securityLog = new SecurityLog({ dataDir, log: memory });
  const store = await openStore({ dataDir, log: teeSecurityEvents(memory, securityLog) });
  cleanups.push(() => store.close());
  securityLog.attach(store);
  await store.admin.addDomain('example.com');
  await store.admin.addAccount('alice@example.com', 'not-a-real-hash');
  const account = await store.account('alice@example.com');
  const appended = await account.append('INBOX', report);
  await store.context.commit.idle();
  flipStructureBits(dataDir, appended.blobHash, harmfulFlips(blobRow(dataDir, appended.blobHash).structure));
  const [record] = await account.fetch(appended.mailboxId, { uids: [[appended.uid, appended.uid]], withStructure: true });
  assert.equal(record!.structure!.envelope.subject, 'Quarterly figures');
  await securityLog.close();
  const entries = await store.admin.readSecurityLog({ limit: 100 });
  const entry = entries.find((candidate) => candidate.event === 'integrity.structure_mismatch');
  assert.ok(entry, 'the event is in the security log');
  assert.equal(entry.login, 'alice@example.com');
  assert.equal((JSON.parse(entry.fields) as { blob: string }).blob, appended.blobHash);
});

test('postkeep audit reports a damaged structure (exit 1) and --repair rewrites it from the blob (exit 0)', { timeout: 240_000 }, async () => {
  const fixture = await createCliFixture('postkeep-cli-structure-');
  cleanups.push(() => fixture.dispose());
  const hashes = await fixture.withStore(async (store) => {
    const account = await store.account('alice@example.com');
    await account.append('INBOX', report);
    await account.append('INBOX', sampleMessage({ subject: 'legacy, good' }));
    await account.append('INBOX', sampleMessage({ subject: 'legacy, damaged' }));
    return (store.context.db.prepare('SELECT blob_hash FROM messages ORDER BY uid').all() as { blob_hash: string }[]).map((row) => row.blob_hash);
  });
  const [, , reportHash, legacyGood, legacyDamaged] = hashes;
  const originals = new Map(hashes.map((hash) => [hash, blobRow(fixture.dataDir, hash)]));
  flipStructureBits(fixture.dataDir, reportHash!, harmfulFlips(originals.get(reportHash!)!.structure));
  // Two rows as an older release left them, without a checksum: one right, one damaged before the upgrade.
  behindTheBack(fixture.dataDir, (database) => database.prepare('UPDATE blobs SET structure_checksum = NULL WHERE hash IN (?, ?)').run(legacyGood, legacyDamaged));
  behindTheBack(fixture.dataDir, (database) =>
    database.prepare("UPDATE blobs SET structure = replace(structure, 'legacy, damaged', 'legacy, dbmaged') WHERE hash = ?").run(legacyDamaged),
  );

  let result = await runCli(['audit'], { env: fixture.env });
  assert.equal(result.code, 1, result.stdout + result.stderr);
  assert.match(result.stdout, new RegExp(`error\\s+blob\\.structure_checksum\\s+${reportHash}: the stored structure and size fail their checksum; they differ from a fresh parse of the blob\\n`));
  assert.match(result.stdout, new RegExp(`error\\s+blob\\.structure_differs\\s+${legacyDamaged}: the stored structure has no checksum yet`));
  assert.match(result.stdout, /notice\s+blob\.structure_unverified\s+1 blob row\(s\)/);
  assert.match(result.stdout, /2 error\(s\), 1 notice\(s\) — FAILED\n$/);
  assert.notDeepEqual(blobRow(fixture.dataDir, reportHash!), originals.get(reportHash!), 'audit without --repair changes nothing');

  result = await runCli(['audit', '--repair'], { env: fixture.env });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /blob\.structure_checksum .*\[repaired\]\n/);
  assert.match(result.stdout, /blob\.structure_differs .*\[repaired\]\n/);
  for (const hash of hashes) {
    const row = blobRow(fixture.dataDir, hash);
    assert.equal(row.structure_checksum, structureChecksum(hash, row.size, row.structure), 'every row carries its checksum');
  }
  assert.deepEqual(blobRow(fixture.dataDir, reportHash!), originals.get(reportHash!));
  assert.equal(blobRow(fixture.dataDir, legacyDamaged!).structure, originals.get(legacyDamaged!)!.structure);

  result = await runCli(['audit'], { env: fixture.env });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /0 error\(s\), 0 notice\(s\) — OK\n$/);
});

test('audit --repair rewrites a blob row whose size flipped before the record sizes are rebuilt from it', async () => {
  const fixture = await createCliFixture('postkeep-structure-size-');
  cleanups.push(() => fixture.dispose());
  const hash = await fixture.withStore(async (store) => (store.context.db.prepare('SELECT blob_hash FROM messages ORDER BY uid LIMIT 1').get() as { blob_hash: string }).blob_hash);
  const original = blobRow(fixture.dataDir, hash);
  behindTheBack(fixture.dataDir, (database) => database.prepare('UPDATE blobs SET size = ? WHERE hash = ?').run(original.size ^ 64, hash));
  await fixture.withStore(async (store) => {
    const found = await auditStore(store);
    assert.ok(found.findings.some((finding) => finding.kind === 'blob.structure_checksum' && finding.where === hash));
    const scoped = await auditStore(store, { account: 'alice@example.com' });
    assert.ok(scoped.findings.some((finding) => finding.kind === 'blob.structure_checksum' && finding.where === hash), 'an audit of the account checks the blobs its records use');
    const repaired = await auditStore(store, { repair: true });
    assert.ok(repaired.ok, JSON.stringify(repaired.findings));
    const sizes = store.context.db.prepare('SELECT messages.size AS record, blobs.size AS blob FROM messages JOIN blobs ON blobs.hash = messages.blob_hash WHERE hash = ?').get(hash);
    assert.deepEqual(sizes, { record: original.size, blob: original.size }, 'the record kept its right size');
    assert.ok((await auditStore(store)).ok);
  });
});
