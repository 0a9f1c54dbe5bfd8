// `postkeep compare <a> <b>`: two stores (live and restored, two copies) side by
// side. Mailboxes are matched by MAILBOXID and compared by digest first (one
// number each, invariant 3); only where digests differ — or where a side's digest
// no longer matches its own records — are records compared one by one, and every
// difference is listed. The outbound queues are compared too, message by message
// (bytes by hash, sender, each recipient's state), since a restore brings them back.
import { storeEngine } from '../store/open-store.js';
import type { MailboxSummary, StoreSnapshot } from '../store/store-snapshot.js';

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
  const engine = storeEngine();
  const a = engine.openSnapshotIn(directoryA);
  try {
    const b = engine.openSnapshotIn(directoryB);
    try {
      return compareDatabases(a, b);
    } finally {
      b.close();
    }
  } finally {
    a.close();
  }
}

function compareDatabases(a: StoreSnapshot, b: StoreSnapshot): Comparison {
  const differences: StoreDifference[] = [];
  const left = new Map(a.summarizeMailboxes().map((summary) => [summary.id, summary]));
  const right = new Map(b.summarizeMailboxes().map((summary) => [summary.id, summary]));
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
function queueOf(store: StoreSnapshot): Map<number, string> {
  return new Map(
    store.queuedMessages().map((message) => {
      const recipients = message.recipients.map((recipient) => `${recipient.address} ${recipient.state} ${recipient.attempts}`).join(', ');
      return [message.id, `blob ${message.blobHash}, from <${message.sender}>, expires ${new Date(message.expiresAt).toISOString()}, to ${recipients}`];
    }),
  );
}

function compareQueues(a: StoreSnapshot, b: StoreSnapshot): StoreDifference[] {
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

function compareRecords(a: StoreSnapshot, b: StoreSnapshot, mailboxObjectId: string, where: string): StoreDifference[] {
  const differences: StoreDifference[] = [];
  const left = a.recordsOf(mailboxObjectId);
  const right = b.recordsOf(mailboxObjectId);
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
