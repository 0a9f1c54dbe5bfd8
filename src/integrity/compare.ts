// `postkeep compare <a> <b>`: two stores (live and restored, two copies) side by
// side. Mailboxes are matched by MAILBOXID and compared by digest first (one
// number each, invariant 3); only where digests differ — or where a side's digest
// no longer matches its own records — are records compared one by one, and every
// difference is listed. The outbound queues are compared too, message by message
// (bytes by hash, sender, each recipient's state), since a restore brings them back.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type Database from 'better-sqlite3';
import { InvalidInput } from '../errors.js';
import type { MessageRow } from '../store/sqlite/rows.js';
import { databaseFileName } from '../store/sqlite/sqlite-store.js';
import { summarizeMailboxes, type MailboxSummary } from './mailbox-summary.js';
import { openReadOnlyDatabase } from './read-only-database.js';

export interface StoreDifference {
  kind:
    | 'mailbox.only_in_a'
    | 'mailbox.only_in_b'
    | 'mailbox.digest'
    | 'record.only_in_a'
    | 'record.only_in_b'
    | 'record.differs'
    | 'record.corrupt_in_a'
    | 'record.corrupt_in_b'
    | 'queue.only_in_a'
    | 'queue.only_in_b'
    | 'queue.differs';
  where: string;
  detail: string;
}

export interface Comparison {
  identical: boolean;
  mailboxes: number;
  equalMailboxes: number;
  differences: StoreDifference[];
}

/** The fields of a record two copies must agree on (the checksum's canonical form, plus size). */
const comparedFields = ['uid', 'blob_hash', 'size', 'internal_date', 'save_date', 'flags', 'modseq', 'email_id', 'thread_id', 'checksum'] as const;

export function compareStores(directoryA: string, directoryB: string): Comparison {
  const a = openReadOnlyDatabase(databaseOf(directoryA));
  try {
    const b = openReadOnlyDatabase(databaseOf(directoryB));
    try {
      return compareDatabases(a, b);
    } finally {
      b.close();
    }
  } finally {
    a.close();
  }
}

function databaseOf(directory: string): string {
  const file = path.join(path.resolve(directory), databaseFileName);
  if (!fs.existsSync(file)) throw new InvalidInput(`${directory} is not a Postkeep data folder or backup: it has no ${databaseFileName}`);
  return file;
}

function compareDatabases(a: Database.Database, b: Database.Database): Comparison {
  const differences: StoreDifference[] = [];
  const left = new Map(summarizeMailboxes(a).map((summary) => [summary.id, summary]));
  const right = new Map(summarizeMailboxes(b).map((summary) => [summary.id, summary]));
  let equalMailboxes = 0;
  for (const [id, mailbox] of left) {
    const other = right.get(id);
    const where = `${mailbox.account}/${mailbox.name}`;
    if (!other) {
      differences.push({ kind: 'mailbox.only_in_a', where, detail: `${mailbox.messages} message(s), MAILBOXID ${id}` });
      continue;
    }
    const trustworthy = (summary: MailboxSummary) => summary.storedDigest === summary.computedDigest;
    if (mailbox.storedDigest === other.storedDigest && trustworthy(mailbox) && trustworthy(other) && mailbox.name === other.name) {
      equalMailboxes++;
      continue;
    }
    if (mailbox.storedDigest !== other.storedDigest) differences.push({ kind: 'mailbox.digest', where, detail: `a ${mailbox.storedDigest}, b ${other.storedDigest}` });
    if (mailbox.name !== other.name) differences.push({ kind: 'mailbox.digest', where, detail: `named ${JSON.stringify(mailbox.name)} in a, ${JSON.stringify(other.name)} in b` });
    for (const uid of mailbox.corruptRecords) differences.push({ kind: 'record.corrupt_in_a', where: `${where} UID ${uid}`, detail: 'the record does not match its checksum' });
    for (const uid of other.corruptRecords) differences.push({ kind: 'record.corrupt_in_b', where: `${where} UID ${uid}`, detail: 'the record does not match its checksum' });
    differences.push(...compareRecords(a, b, id, where));
  }
  for (const [id, mailbox] of right) {
    if (!left.has(id)) differences.push({ kind: 'mailbox.only_in_b', where: `${mailbox.account}/${mailbox.name}`, detail: `${mailbox.messages} message(s), MAILBOXID ${id}` });
  }
  differences.push(...compareQueues(a, b));
  return { identical: differences.length === 0, mailboxes: new Set([...left.keys(), ...right.keys()]).size, equalMailboxes, differences };
}

/** Each queued message in one line: what a restored queue must reproduce. */
function queueOf(database: Database.Database): Map<number, string> {
  const rows = database
    .prepare(
      `SELECT m.id, m.blob_hash, m.sender, m.expires_at, group_concat(r.address || ' ' || r.state || ' ' || r.attempts, ', ') AS recipients
       FROM outbound_messages m JOIN (SELECT * FROM outbound_recipients ORDER BY address) r ON r.message_id = m.id GROUP BY m.id ORDER BY m.id`,
    )
    .all() as { id: number; blob_hash: string; sender: string; expires_at: number; recipients: string }[];
  return new Map(rows.map((row) => [row.id, `blob ${row.blob_hash}, from <${row.sender}>, expires ${new Date(row.expires_at).toISOString()}, to ${row.recipients}`]));
}

function compareQueues(a: Database.Database, b: Database.Database): StoreDifference[] {
  const differences: StoreDifference[] = [];
  const left = queueOf(a);
  const right = queueOf(b);
  for (const [id, entry] of left) {
    const other = right.get(id);
    if (other === undefined) differences.push({ kind: 'queue.only_in_a', where: `queued message ${id}`, detail: entry });
    else if (other !== entry) differences.push({ kind: 'queue.differs', where: `queued message ${id}`, detail: `a ${entry}; b ${other}` });
  }
  for (const [id, entry] of right) if (!left.has(id)) differences.push({ kind: 'queue.only_in_b', where: `queued message ${id}`, detail: entry });
  return differences;
}

function recordsOf(database: Database.Database, mailboxObjectId: string): Map<number, MessageRow> {
  const rows = database
    .prepare('SELECT messages.* FROM messages JOIN mailboxes ON mailboxes.id = messages.mailbox_id WHERE mailboxes.object_id = ? ORDER BY uid')
    .all(mailboxObjectId) as MessageRow[];
  return new Map(rows.map((row) => [row.uid, row]));
}

function compareRecords(a: Database.Database, b: Database.Database, mailboxObjectId: string, where: string): StoreDifference[] {
  const differences: StoreDifference[] = [];
  const left = recordsOf(a, mailboxObjectId);
  const right = recordsOf(b, mailboxObjectId);
  for (const [uid, row] of left) {
    const other = right.get(uid);
    if (!other) {
      differences.push({ kind: 'record.only_in_a', where: `${where} UID ${uid}`, detail: `blob ${row.blob_hash}` });
      continue;
    }
    const changed = comparedFields.filter((field) => row[field] !== other[field]).map((field) => `${field}: a ${JSON.stringify(row[field])}, b ${JSON.stringify(other[field])}`);
    if (changed.length > 0) differences.push({ kind: 'record.differs', where: `${where} UID ${uid}`, detail: changed.join('; ') });
  }
  for (const [uid, row] of right) {
    if (!left.has(uid)) differences.push({ kind: 'record.only_in_b', where: `${where} UID ${uid}`, detail: `blob ${row.blob_hash}` });
  }
  return differences;
}
