// `postkeep audit`: checks everything the store keeps against what it can be
// recomputed from — blob bytes against their names, records against their
// checksums, digests, counters, refcounts and the change log against the rows,
// and SQLite's own structure — and, with repair, puts right what it can prove:
// derived values are rebuilt from their sources, records and blobs come back from
// a good copy. It never deletes a message to make the numbers agree; what it
// cannot prove stays reported (and a bad blob file is moved to quarantine).
import { performance } from 'node:perf_hooks';
import { NotFound } from '../errors.js';
import type { BlobState, FileBlobStore } from '../store/blobs/file-blob-store.js';
import { MirroredBlobStore } from '../store/blobs/mirrored-blob-store.js';
import { emptyDigest, xorDigest } from '../store/record-checksum.js';
import { findInconsistencies, type Inconsistency } from '../store/sqlite/consistency.js';
import { findOrphanBlobs, type OrphanBlob } from '../store/sqlite/orphan-blobs.js';
import { accountRowDamage, isBlobHash, mailboxRowDamage, messageRowDamage } from '../store/sqlite/row-damage.js';
import type { StoreContext } from '../store/sqlite/context.js';
import { rowChecksum, type MailboxRow, type MessageRow } from '../store/sqlite/rows.js';
import type { SqliteMailStore } from '../store/sqlite/sqlite-store.js';
import { mirrorCopy, type GoodCopy } from './good-copy.js';
import { checkQueueFiles } from './queue-audit.js';
import { checkSpoolFiles } from './spool-audit.js';
import { structureFindings } from './structure-findings.js';
import { OrphanRecovery, parseRecoveryTarget } from './recover-orphans.js';

export type FindingSeverity = 'error' | 'notice';
/** What --repair did about a finding. */
export type RepairOutcome = 'repaired' | 'quarantined' | 'unrepaired';

export interface AuditFinding {
  /** Stable name, e.g. `blob.mismatch`, `record.checksum`, `database.integrity`. */
  kind: string;
  /** `error` makes the audit fail; `notice` is reported only (orphan blobs, leftover temp files). */
  severity: FindingSeverity;
  where: string;
  detail: string;
  repair?: RepairOutcome;
}

export interface AuditReport {
  /** True when no error is left standing (notices and repaired errors do not count). */
  ok: boolean;
  scope: string;
  /** `queueFiles`: the outbound queue's message files, checked in a whole-store audit (0 for one account). */
  checked: { accounts: number; mailboxes: number; records: number; blobs: number; bytes: number; queueFiles: number };
  findings: AuditFinding[];
  milliseconds: number;
}

export interface AuditOptions {
  /** Only this account's records and the blobs they use (no orphan search). */
  account?: string;
  repair?: boolean;
  /** Where repair may take good blobs and records from, tried in order. */
  copies?: readonly GoodCopy[];
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
  /** A temp file older than this is a crash's leftover, not a write in flight (default 10 minutes). */
  leftoverAgeMilliseconds?: number;
  /** Blobs hashed at once: reading one file overlaps hashing another. */
  concurrency?: number;
  /** With repair: file message files no record points to into `<user>[/<mailbox>]` (default mailbox Recovered). */
  recoverTo?: string;
  /**
   * A blob file without a record younger than this may be a delivery another process
   * (a running server) is committing: it is looked at again once this old. Default 0:
   * this process's own writes in flight are known and skipped anyway; the CLI passes
   * `store.orphanGraceSeconds`, since a server may share the data folder.
   */
  orphanGraceMilliseconds?: number;
}

export async function auditStore(store: SqliteMailStore, options: AuditOptions = {}): Promise<AuditReport> {
  const context = store.context;
  const started = performance.now();
  await context.commit.idle();
  const accountId = options.account === undefined ? undefined : findAccountId(context, options.account);
  // Configured mirrors are compared like every copy, and are the first place good bytes come from.
  const mirrors = context.blobs instanceof MirroredBlobStore ? context.blobs.mirrors : [];
  const copies = [...mirrors.map(mirrorCopy), ...(options.copies ?? [])];
  const findings: AuditFinding[] = [];
  const recovery = options.recoverTo === undefined ? null : new OrphanRecovery(store, parseRecoveryTarget(options.recoverTo));
  await recovery?.open();

  findings.push(...checkDatabase(context));
  const databaseReadable = !findings.some((finding) => finding.kind === 'database.unreadable');

  let inconsistencies: Inconsistency[] = [];
  if (databaseReadable) {
    inconsistencies = readOrReport(findings, () => findInconsistencies(context, { accountId })) ?? [];
  }
  const recordOutcomes = new Map<Inconsistency, RepairOutcome>();
  // Writing into a structurally damaged database could spread the damage: restore it instead.
  const structurallySound = !findings.some((finding) => finding.kind === 'database.integrity');
  if (options.repair && databaseReadable && structurallySound) {
    await context.write(() => repairRecords(context, inconsistencies, copies, recordOutcomes));
  }

  const wanted = databaseReadable ? readOrReport(findings, () => blobsInScope(context, accountId)) : undefined;
  const noBlobs: BlobCheck = { findings: [], blobs: 0, bytes: 0, orphans: [] };
  // Whatever a damaged value still breaks on the way becomes a finding: audit never throws on data.
  const blobFindings = wanted ? ((await guarded(findings, 'blobs', () => checkBlobs(context, wanted, accountId, options, copies, mirrors))) ?? noBlobs) : noBlobs;
  if (options.repair && recovery && blobFindings.orphans.length > 0) await recoverOrphans(context, recovery, blobFindings);
  // After the blobs (a restored blob can be parsed), before the rebuild (which copies blob sizes into records).
  if (databaseReadable) findings.push(...(await structureFindings(store, accountId, (options.repair ?? false) && structurallySound)));

  const stillReadable = !findings.some((finding) => finding.kind === 'database.unreadable' || finding.kind === 'database.integrity');
  if (options.repair && stillReadable) {
    await guarded(findings, 'repair', () => context.write(() => rebuildDerivedValues(context, accountId)));
    // Whatever the recomputation still disagrees with was not repaired.
    const remaining = new Set((readOrReport(findings, () => findInconsistencies(context, { accountId })) ?? []).map(identify));
    for (const inconsistency of inconsistencies) {
      if (!recordOutcomes.has(inconsistency)) recordOutcomes.set(inconsistency, remaining.has(identify(inconsistency)) ? 'unrepaired' : 'repaired');
      else if (remaining.has(identify(inconsistency))) recordOutcomes.set(inconsistency, 'unrepaired');
    }
  }
  for (const inconsistency of inconsistencies) {
    findings.push({
      kind: inconsistency.kind,
      severity: 'error',
      where: inconsistency.where,
      detail: inconsistency.detail ?? `stored ${inconsistency.stored}, recomputed ${inconsistency.computed}`,
      ...(options.repair ? { repair: recordOutcomes.get(inconsistency) ?? 'unrepaired' } : {}),
    });
  }
  findings.push(...blobFindings.findings);
  const noQueue = { findings: [], files: 0, bytes: 0 };
  const queue = databaseReadable && accountId === undefined
    ? ((await guarded(findings, 'queue', () => checkQueueFiles(store, { repair: options.repair ?? false, copies, leftoverAgeMilliseconds: options.leftoverAgeMilliseconds ?? 10 * 60_000 }))) ?? noQueue)
    : noQueue;
  findings.push(...queue.findings);
  if (accountId === undefined) {
    const spool = { repair: options.repair ?? false, leftoverAgeMilliseconds: options.leftoverAgeMilliseconds ?? 10 * 60_000 };
    findings.push(...((await guarded(findings, 'imap spool', () => checkSpoolFiles(store, spool))) ?? []));
  }
  if (options.repair) {
    for (const finding of findings) if (finding.severity === 'error' && finding.repair === undefined) finding.repair = 'unrepaired';
    for (const finding of findings) if (finding.repair === 'repaired') context.log.info('integrity.repaired', { kind: finding.kind, where: finding.where });
  }

  const counts = databaseReadable ? readOrReport(findings, () => countScope(context, accountId)) : undefined;
  return {
    ok: findings.every((finding) => finding.severity === 'notice' || finding.repair === 'repaired'),
    scope: options.account ?? 'all accounts',
    checked: { ...(counts ?? { accounts: 0, mailboxes: 0, records: 0 }), blobs: blobFindings.blobs, bytes: blobFindings.bytes + queue.bytes, queueFiles: queue.files },
    findings,
    milliseconds: Math.round(performance.now() - started),
  };
}

function findAccountId(context: StoreContext, login: string): number {
  const row = context.ledger.sql('SELECT id FROM accounts WHERE login = ?').get(login.trim()) as { id: number } | undefined;
  if (!row) throw new NotFound(`there is no account ${JSON.stringify(login)}`);
  return row.id;
}

function identify(inconsistency: Inconsistency): string {
  return `${inconsistency.kind}\n${inconsistency.where}`;
}

/**
 * Runs one part of the audit so that an error it meets (SQLITE_CORRUPT from a page
 * read midway, a value no check foresaw) is reported as a finding naming that part,
 * and the rest of the audit still runs.
 */
async function guarded<T>(findings: AuditFinding[], part: string, work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (error) {
    const message = (error as Error)?.message ?? String(error);
    const code = (error as { code?: unknown })?.code;
    const corrupt = typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB');
    findings.push({
      kind: corrupt ? 'database.unreadable' : 'audit.incomplete',
      severity: 'error',
      where: corrupt ? 'postkeep.db' : part,
      detail: corrupt ? `${message} (while checking ${part}): restore the database from a backup` : `the ${part} check stopped: ${message}`,
    });
    return undefined;
  }
}

/** Runs a query that a damaged database may refuse; the refusal becomes a finding. */
function readOrReport<T>(findings: AuditFinding[], read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    findings.push({ kind: 'database.unreadable', severity: 'error', where: 'postkeep.db', detail: `${(error as Error).message}: restore the database from a backup` });
    return undefined;
  }
}

/** SQLite's own view: page structure and indexes (integrity_check), then references (foreign_key_check). */
function checkDatabase(context: StoreContext): AuditFinding[] {
  const findings: AuditFinding[] = [];
  readOrReport(findings, () => {
    const lines = context.db.pragma('integrity_check') as { integrity_check: string }[];
    for (const { integrity_check: line } of lines) {
      if (line !== 'ok') findings.push({ kind: 'database.integrity', severity: 'error', where: 'postkeep.db', detail: `${line}: restore the database from a backup` });
    }
  });
  readOrReport(findings, () => {
    const rows = context.db.pragma('foreign_key_check') as { table: string; rowid: number | null; parent: string; fkid: number }[];
    for (const row of rows) {
      findings.push({ kind: 'database.foreign_key', severity: 'error', where: `${row.table}${row.rowid === null ? '' : ` row ${row.rowid}`}`, detail: `refers to a missing ${row.parent} row` });
    }
  });
  return findings;
}

function countScope(context: StoreContext, accountId: number | undefined): { accounts: number; mailboxes: number; records: number } {
  const filter = accountId === undefined ? '' : 'WHERE account_id = ?';
  const parameters = accountId === undefined ? [] : [accountId];
  return {
    accounts: accountId === undefined ? (context.db.prepare('SELECT count(*) AS n FROM accounts').get() as { n: number }).n : 1,
    mailboxes: (context.db.prepare(`SELECT count(*) AS n FROM mailboxes ${filter}`).get(...parameters) as { n: number }).n,
    records: (context.db.prepare(`SELECT count(*) AS n FROM messages WHERE mailbox_id IN (SELECT id FROM mailboxes ${filter})`).get(...parameters) as { n: number }).n,
  };
}

/**
 * A record whose fields no longer hash to its checksum was changed behind the
 * store's back (or its checksum was). The stored checksum still names the
 * original: a copy's record with that verified checksum is the original, so its
 * fields come back. A copy's record at the same UID whose checksum equals this
 * row's recomputed one proves the fields right and the checksum wrong.
 */
function repairRecords(context: StoreContext, inconsistencies: readonly Inconsistency[], copies: readonly GoodCopy[], outcomes: Map<Inconsistency, RepairOutcome>): void {
  const { ledger } = context;
  for (const inconsistency of inconsistencies) {
    if (inconsistency.kind !== 'record.checksum' || !inconsistency.location) continue;
    const { mailboxId, uid } = inconsistency.location;
    const mailbox = ledger.sql('SELECT * FROM mailboxes WHERE id = ?').get(mailboxId) as MailboxRow | undefined;
    const row = ledger.sql('SELECT * FROM messages WHERE mailbox_id = ? AND uid = ?').get(mailboxId, uid) as MessageRow | undefined;
    if (!mailbox || !row) continue;
    outcomes.set(inconsistency, 'unrepaired');
    for (const copy of copies) {
      const original = copy.findRecordByChecksum(mailbox.object_id, row.checksum);
      if (original) {
        const taken = original.uid !== row.uid && ledger.sql('SELECT 1 FROM messages WHERE mailbox_id = ? AND uid = ?').get(mailbox.id, original.uid);
        if (taken || !ensureBlobRow(context, copy, original.blob_hash)) continue;
        ledger
          .sql(
            `UPDATE messages SET uid = ?, blob_hash = ?, size = ?, internal_date = ?, save_date = ?, flags = ?, modseq = ?, email_id = ?, thread_id = ?, checksum = ?
             WHERE mailbox_id = ? AND uid = ?`,
          )
          .run(original.uid, original.blob_hash, original.size, original.internal_date, original.save_date, original.flags, original.modseq, original.email_id, original.thread_id, original.checksum, mailbox.id, row.uid);
        outcomes.set(inconsistency, 'repaired');
        break;
      }
      const sameUid = copy.findRecordByUid(mailbox.object_id, row.uid);
      if (sameUid && sameUid.checksum === ledger.checksumOf(mailbox, row)) {
        ledger.sql('UPDATE messages SET checksum = ? WHERE mailbox_id = ? AND uid = ?').run(sameUid.checksum, mailbox.id, row.uid);
        outcomes.set(inconsistency, 'repaired');
        break;
      }
    }
  }
}

/** A restored record may point at a blob whose row is gone here; the copy's row comes back with it (refcount is rebuilt later). */
function ensureBlobRow(context: StoreContext, copy: GoodCopy, hash: string): boolean {
  if (context.ledger.sql('SELECT 1 FROM blobs WHERE hash = ?').get(hash)) return true;
  const row = copy.blobRow(hash);
  if (!row) return false;
  context.ledger.sql('INSERT INTO blobs (hash, size, refcount, structure, created_at) VALUES (?, ?, 0, ?, ?)').run(row.hash, row.size, row.structure, row.created_at);
  return true;
}

/**
 * Every derived value recomputed from its source and written back: counters and
 * sizes from the rows, UIDNEXT and HIGHESTMODSEQ raised (never lowered: a client
 * may have seen them), digests from verified checksums, refcounts from references.
 * A mailbox holding a record that still fails its checksum keeps its digest: a
 * digest over an unproven record would make a corrupt copy look like a good one.
 */
function rebuildDerivedValues(context: StoreContext, accountId: number | undefined): void {
  const { ledger } = context;
  const accounts = (accountId === undefined ? ledger.sql('SELECT id FROM accounts').all() : [{ id: accountId }]) as { id: number }[];
  for (const { id } of accounts) {
    const account = ledger.sql('SELECT * FROM accounts WHERE id = ?').get(id) as object | undefined;
    // A damaged row is restored from a backup, never counted into what is rebuilt.
    if (!account || accountRowDamage(account)) continue;
    ledger
      .sql(
        `UPDATE messages SET size = (SELECT size FROM blobs WHERE hash = messages.blob_hash)
         WHERE mailbox_id IN (SELECT id FROM mailboxes WHERE account_id = ?)
           AND size != coalesce((SELECT size FROM blobs WHERE hash = messages.blob_hash), size)`,
      )
      .run(id);
    let bytes = 0;
    let count = 0;
    let highest = 0;
    for (const mailbox of ledger.sql('SELECT * FROM mailboxes WHERE account_id = ?').all(id) as MailboxRow[]) {
      if (mailboxRowDamage(mailbox)) continue;
      let digest = emptyDigest;
      let proven = true;
      let size = 0;
      let messages = 0;
      let maxUid = 0;
      let maxModseq = 0;
      for (const row of ledger.sql('SELECT * FROM messages WHERE mailbox_id = ?').iterate(mailbox.id) as IterableIterator<MessageRow>) {
        if (messageRowDamage(row)) {
          proven = false;
          continue;
        }
        const computed = rowChecksum(mailbox.object_id, row);
        if (computed !== row.checksum) proven = false;
        digest = xorDigest(digest, computed);
        size += row.size;
        messages++;
        maxUid = Math.max(maxUid, row.uid);
        maxModseq = Math.max(maxModseq, row.modseq);
      }
      const highestModseq = Math.max(mailbox.highest_modseq, maxModseq);
      ledger
        .sql('UPDATE mailboxes SET message_count = ?, total_size = ?, uidnext = ?, highest_modseq = ?, digest = ? WHERE id = ?')
        .run(messages, size, Math.max(mailbox.uidnext, maxUid + 1), highestModseq, proven ? digest : mailbox.digest, mailbox.id);
      bytes += size;
      count += messages;
      highest = Math.max(highest, highestModseq);
    }
    const lastChange = ledger.sql('SELECT max(modseq) AS modseq FROM changes WHERE account_id = ?').get(id) as { modseq: number | null };
    ledger
      .sql('UPDATE accounts SET used_bytes = ?, used_messages = ?, highest_modseq = max(highest_modseq, ?, ?) WHERE id = ?')
      .run(bytes, count, highest, lastChange.modseq ?? 0, id);
  }
  const used = '(SELECT count(*) FROM messages WHERE blob_hash = blobs.hash) + (SELECT count(*) FROM expunged WHERE blob_hash = blobs.hash)';
  // A blob whose references all went without the store removing them (lost records)
  // keeps its refcount: lowered to 0 it would be garbage, and it is a message to recover.
  const change = `refcount != ${used} AND NOT (refcount > 0 AND ${used} = 0)`;
  if (accountId === undefined) {
    ledger.sql(`UPDATE blobs SET refcount = ${used} WHERE ${change}`).run();
  } else {
    ledger
      .sql(
        `UPDATE blobs SET refcount = ${used} WHERE ${change} AND hash IN (
           SELECT blob_hash FROM messages JOIN mailboxes ON mailboxes.id = messages.mailbox_id WHERE mailboxes.account_id = ?
           UNION SELECT blob_hash FROM expunged WHERE account_id = ?)`,
      )
      .run(accountId, accountId);
  }
}

interface BlobCheck {
  findings: AuditFinding[];
  blobs: number;
  bytes: number;
  /** Message files no record points to, each with its finding (for --recover-to). */
  orphans: { orphan: OrphanBlob; finding: AuditFinding }[];
}

/** Re-hashes every blob in scope, reports orphans and leftovers, and (with repair) restores from copies. */
async function checkBlobs(
  context: StoreContext,
  wanted: readonly ScopedBlob[],
  accountId: number | undefined,
  options: AuditOptions,
  copies: readonly GoodCopy[],
  mirrors: readonly FileBlobStore[],
): Promise<BlobCheck> {
  const findings: AuditFinding[] = [];
  const total = wanted.reduce((sum, blob) => sum + blob.size, 0);
  let done = 0;
  let bytes = 0;
  let next = 0;
  const worker = async () => {
    while (next < wanted.length) {
      const blob = wanted[next++]!;
      // A damaged hash names no file; the consistency check has reported the row.
      if (!isBlobHash(blob.hash) || context.blobsInFlight.has(blob.hash)) continue;
      const state = await context.blobs.inspect(blob.hash);
      if (state === 'missing' && !blob.referenced) continue;
      if (state === 'good') bytes += blob.size;
      else findings.push(await handleBadBlob(context, blob, state, options.repair ?? false, copies));
      for (const mirror of mirrors) {
        const mirrorState = await mirror.inspect(blob.hash);
        if (mirrorState !== 'good') findings.push(await handleBadMirrorCopy(context, mirror, blob.hash, mirrorState, options.repair ?? false));
      }
      done += blob.size;
      options.onProgress?.(done, total);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));

  const orphans: BlobCheck['orphans'] = [];
  if (accountId === undefined) {
    for (const orphan of await findOrphanBlobs(context, { graceMilliseconds: options.orphanGraceMilliseconds ?? 0 })) {
      const finding: AuditFinding = {
        kind: 'blob.orphan',
        severity: 'error',
        where: orphan.hash,
        detail:
          `a message file (written ${orphan.modifiedAt.toISOString()}) that no record points to${orphan.kind === 'row' ? ' although its blob row counts references' : ''}: ` +
          'its record was lost (a write the disk confirmed and then lost, a damaged page) or its delivery stopped before it was acknowledged; ' +
          '`postkeep audit --repair --recover-to <user>[/<mailbox>]` files it as a new message; it is never deleted',
      };
      findings.push(finding);
      orphans.push({ orphan, finding });
    }
    const leftoverAge = options.leftoverAgeMilliseconds ?? 10 * 60_000;
    for (const temporary of await context.blobs.temporaryFiles()) {
      if (temporary.ageMilliseconds < leftoverAge) continue;
      const finding: AuditFinding = {
        kind: 'blob.temporary_leftover',
        severity: 'notice',
        where: `blobs/tmp/${temporary.name}`,
        detail: `a partial write ${Math.round(temporary.ageMilliseconds / 1000)} s old, never acknowledged`,
      };
      if (options.repair) {
        await context.blobs.removeTemporary(temporary.name);
        finding.repair = 'repaired';
      }
      findings.push(finding);
    }
  }
  return { findings, blobs: wanted.length, bytes, orphans };
}

/** --recover-to: each orphan's verified bytes become a new message in the lost-and-found. */
async function recoverOrphans(context: StoreContext, recovery: OrphanRecovery, check: BlobCheck): Promise<void> {
  for (const { orphan, finding } of check.orphans) {
    // Held as a write in flight: should the append fail (a quota, a full disk), the store's
    // clean-up of a file nothing records must not take this one, the message's only copy.
    context.holdBlob(orphan.hash);
    try {
      // open() verifies a large file before its first byte and every chunk as it streams.
      const recovered = await recovery.recover(await context.blobs.open(orphan.hash), orphan.modifiedAt);
      finding.repair = 'repaired';
      finding.detail += `; recovered into ${recovery.target.login}/${recovered.mailbox} as UID ${recovered.uid}`;
      context.log.info('integrity.orphan_recovered', { blob: orphan.hash, login: recovery.target.login, mailbox: recovered.mailbox, uid: recovered.uid });
    } catch (error) {
      finding.repair = 'unrepaired';
      finding.detail += `; not recovered: ${(error as Error).message}`;
    } finally {
      context.releaseBlob(orphan.hash);
    }
  }
}

/** The blob rows in scope plus hashes records name without a row (so a missing row's file is still checked). */
interface ScopedBlob {
  hash: string;
  size: number;
  /** False for a row awaiting garbage collection: its file may already be gone, and nothing needs it. */
  referenced: boolean;
}

function blobsInScope(context: StoreContext, accountId: number | undefined): ScopedBlob[] {
  if (accountId === undefined) {
    return context.db
      .prepare(
        `SELECT hash, size, hash IN (SELECT blob_hash FROM messages UNION SELECT blob_hash FROM expunged) AS referenced FROM blobs
         UNION SELECT blob_hash, size, 1 FROM messages WHERE blob_hash NOT IN (SELECT hash FROM blobs)
         UNION SELECT blob_hash, size, 1 FROM expunged WHERE blob_hash NOT IN (SELECT hash FROM blobs)`,
      )
      .all()
      .map((row) => ({ ...(row as { hash: string; size: number }), referenced: (row as { referenced: number }).referenced === 1 }));
  }
  const rows = context.db
    .prepare(
      `SELECT blob_hash AS hash, size FROM messages WHERE mailbox_id IN (SELECT id FROM mailboxes WHERE account_id = ?)
       UNION SELECT blob_hash, size FROM expunged WHERE account_id = ?`,
    )
    .all(accountId, accountId) as { hash: string; size: number }[];
  // One entry per hash even when two records disagree about the size.
  return [...new Map(rows.map((row) => [row.hash, { ...row, referenced: true }])).values()];
}

async function handleBadBlob(context: StoreContext, blob: { hash: string; size: number }, state: Exclude<BlobState, 'good'>, repair: boolean, copies: readonly GoodCopy[]): Promise<AuditFinding> {
  const finding: AuditFinding =
    state === 'mismatch'
      ? { kind: 'blob.mismatch', severity: 'error', where: blob.hash, detail: 'the file’s bytes do not hash to its name' }
      : { kind: 'blob.missing', severity: 'error', where: blob.hash, detail: 'a record refers to this blob but there is no file' };
  if (!repair) return finding;
  if (state === 'mismatch') await context.blobs.quarantine(blob.hash);
  for (const copy of copies) {
    const bytes = await copy.readBlob(blob.hash);
    if (!bytes) continue;
    await context.blobs.restore(blob.hash, bytes);
    finding.repair = 'repaired';
    finding.detail += `; restored from ${copy.directory}`;
    return finding;
  }
  finding.repair = state === 'mismatch' ? 'quarantined' : 'unrepaired';
  finding.detail += copies.length === 0 ? '; no copy given to repair from' : '; no copy holds good bytes';
  return finding;
}

/** A mirror's copy is rewritten from the primary's verified bytes (the primary was checked, and repaired if it could be, just before). */
async function handleBadMirrorCopy(context: StoreContext, mirror: FileBlobStore, hash: string, state: Exclude<BlobState, 'good'>, repair: boolean): Promise<AuditFinding> {
  const finding: AuditFinding = {
    kind: `blob.mirror_${state}`,
    severity: 'error',
    where: `${hash} in ${mirror.root}`,
    detail: state === 'mismatch' ? 'the mirror’s bytes do not hash to the name' : 'the mirror has no copy',
  };
  if (!repair) return finding;
  let bytes: Buffer;
  try {
    bytes = await context.blobs.read(hash);
  } catch {
    finding.repair = state === 'mismatch' ? 'quarantined' : 'unrepaired';
    if (state === 'mismatch') await mirror.quarantine(hash);
    finding.detail += '; no good copy to rewrite it from';
    return finding;
  }
  await mirror.restore(hash, bytes);
  finding.repair = 'repaired';
  finding.detail += '; rewritten from the primary copy';
  return finding;
}
