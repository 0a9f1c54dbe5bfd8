// `postkeep audit`: checks everything the store keeps against what it can be
// recomputed from — blob bytes against their names, records against their
// checksums, digests, counters, refcounts and the change log against the rows,
// and the engine's own structure — and, with repair, puts right what it can prove:
// derived values are rebuilt from their sources, records and blobs come back from
// a good copy. It never deletes a message to make the numbers agree; what it
// cannot prove stays reported (and a bad blob file is moved to quarantine).
import { performance } from 'node:perf_hooks';
import { isBlobHash } from '../store/blob-hash.js';
import type { BlobCopy, BlobState } from '../store/blob-copy.js';
import type { AccountScope, Inconsistency, IntegrityPort, OrphanBlob, ScopedBlob } from '../store/integrity-port.js';
import type { ManagedStore } from '../store/managed-store.js';
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

export async function auditStore(store: ManagedStore, options: AuditOptions = {}): Promise<AuditReport> {
  const port = store.integrity;
  const started = performance.now();
  await port.settle();
  const accountId = options.account === undefined ? undefined : port.findAccount(options.account);
  // Configured mirrors are compared like every copy, and are the first place good bytes come from.
  const mirrors = port.blobMirrors;
  const copies = [...mirrors.map(mirrorCopy), ...(options.copies ?? [])];
  const findings: AuditFinding[] = [];
  const recovery = options.recoverTo === undefined ? null : new OrphanRecovery(store, parseRecoveryTarget(options.recoverTo));
  await recovery?.open();

  findings.push(...checkMetadata(port));
  const databaseReadable = !findings.some((finding) => finding.kind === 'database.unreadable');

  let inconsistencies: Inconsistency[] = [];
  if (databaseReadable) {
    inconsistencies = readOrReport(port, findings, () => port.findInconsistencies(accountId)) ?? [];
  }
  let recordOutcomes = new Map<Inconsistency, RepairOutcome>();
  // Writing into a structurally damaged database could spread the damage: restore it instead.
  const structurallySound = !findings.some((finding) => finding.kind === 'database.integrity');
  if (options.repair && databaseReadable && structurallySound) {
    recordOutcomes = await port.repairRecords(inconsistencies, copies);
  }

  const wanted = databaseReadable ? readOrReport(port, findings, () => port.blobsInScope(accountId)) : undefined;
  const noBlobs: BlobCheck = { findings: [], blobs: 0, bytes: 0, orphans: [] };
  // Whatever a damaged value still breaks on the way becomes a finding: audit never throws on data.
  const blobFindings = wanted ? ((await guarded(port, findings, 'blobs', () => checkBlobs(port, wanted, accountId, options, copies, mirrors))) ?? noBlobs) : noBlobs;
  if (options.repair && recovery && blobFindings.orphans.length > 0) await recoverOrphans(port, recovery, blobFindings);
  // After the blobs (a restored blob can be parsed), before the rebuild (which copies blob sizes into records).
  if (databaseReadable) findings.push(...(await structureFindings(port, accountId, (options.repair ?? false) && structurallySound)));

  const stillReadable = !findings.some((finding) => finding.kind === 'database.unreadable' || finding.kind === 'database.integrity');
  if (options.repair && stillReadable) {
    await guarded(port, findings, 'repair', () => port.rebuildDerivedValues(accountId));
    // Whatever the recomputation still disagrees with was not repaired.
    const remaining = new Set((readOrReport(port, findings, () => port.findInconsistencies(accountId)) ?? []).map(identify));
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
    ? ((await guarded(port, findings, 'queue', () => checkQueueFiles(port, { repair: options.repair ?? false, copies, leftoverAgeMilliseconds: options.leftoverAgeMilliseconds ?? 10 * 60_000 }))) ?? noQueue)
    : noQueue;
  findings.push(...queue.findings);
  if (accountId === undefined) {
    const spool = { repair: options.repair ?? false, leftoverAgeMilliseconds: options.leftoverAgeMilliseconds ?? 10 * 60_000 };
    findings.push(...((await guarded(port, findings, 'imap spool', () => checkSpoolFiles(port, spool))) ?? []));
  }
  if (options.repair) {
    for (const finding of findings) if (finding.severity === 'error' && finding.repair === undefined) finding.repair = 'unrepaired';
    for (const finding of findings) if (finding.repair === 'repaired') port.log.info('integrity.repaired', { kind: finding.kind, where: finding.where });
  }

  const counts = databaseReadable ? readOrReport(port, findings, () => port.countScope(accountId)) : undefined;
  return {
    ok: findings.every((finding) => finding.severity === 'notice' || finding.repair === 'repaired'),
    scope: options.account ?? 'all accounts',
    checked: { ...(counts ?? { accounts: 0, mailboxes: 0, records: 0 }), blobs: blobFindings.blobs, bytes: blobFindings.bytes + queue.bytes, queueFiles: queue.files },
    findings,
    milliseconds: Math.round(performance.now() - started),
  };
}

function identify(inconsistency: Inconsistency): string {
  return `${inconsistency.kind}\n${inconsistency.where}`;
}

/**
 * Runs one part of the audit so that an error it meets (damaged metadata from a page
 * read midway, a value no check foresaw) is reported as a finding naming that part,
 * and the rest of the audit still runs.
 */
async function guarded<T>(port: IntegrityPort, findings: AuditFinding[], part: string, work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (error) {
    const message = (error as Error)?.message ?? String(error);
    const corrupt = port.isDamage(error);
    findings.push({
      kind: corrupt ? 'database.unreadable' : 'audit.incomplete',
      severity: 'error',
      where: corrupt ? port.metadataName : part,
      detail: corrupt ? `${message} (while checking ${part}): restore the database from a backup` : `the ${part} check stopped: ${message}`,
    });
    return undefined;
  }
}

/** Runs a query that damaged metadata may refuse; the refusal becomes a finding. */
function readOrReport<T>(port: IntegrityPort, findings: AuditFinding[], read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    findings.push({ kind: 'database.unreadable', severity: 'error', where: port.metadataName, detail: `${(error as Error).message}: restore the database from a backup` });
    return undefined;
  }
}

/** The engine's own structural check; one it cannot even run is itself a finding. */
function checkMetadata(port: IntegrityPort): AuditFinding[] {
  const findings: AuditFinding[] = [];
  const found = readOrReport(port, findings, () => port.checkMetadata());
  return [...findings, ...(found ?? [])];
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
  port: IntegrityPort,
  wanted: readonly ScopedBlob[],
  accountId: AccountScope | undefined,
  options: AuditOptions,
  copies: readonly GoodCopy[],
  mirrors: readonly BlobCopy[],
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
      if (!isBlobHash(blob.hash) || port.isWriting(blob.hash)) continue;
      const state = await port.blobs.inspect(blob.hash);
      if (state === 'missing' && !blob.referenced) continue;
      if (state === 'good') bytes += blob.size;
      else findings.push(await handleBadBlob(port, blob, state, options.repair ?? false, copies));
      for (const mirror of mirrors) {
        const mirrorState = await mirror.inspect(blob.hash);
        if (mirrorState !== 'good') findings.push(await handleBadMirrorCopy(port, mirror, blob.hash, mirrorState, options.repair ?? false));
      }
      done += blob.size;
      options.onProgress?.(done, total);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));

  const orphans: BlobCheck['orphans'] = [];
  if (accountId === undefined) {
    for (const orphan of await port.findOrphanBlobs(options.orphanGraceMilliseconds ?? 0)) {
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
    for (const temporary of await port.blobs.temporaryFiles()) {
      if (temporary.ageMilliseconds < leftoverAge) continue;
      const finding: AuditFinding = {
        kind: 'blob.temporary_leftover',
        severity: 'notice',
        where: `blobs/tmp/${temporary.name}`,
        detail: `a partial write ${Math.round(temporary.ageMilliseconds / 1000)} s old, never acknowledged`,
      };
      if (options.repair) {
        await port.blobs.removeTemporary(temporary.name);
        finding.repair = 'repaired';
      }
      findings.push(finding);
    }
  }
  return { findings, blobs: wanted.length, bytes, orphans };
}

/** --recover-to: each orphan's verified bytes become a new message in the lost-and-found. */
async function recoverOrphans(port: IntegrityPort, recovery: OrphanRecovery, check: BlobCheck): Promise<void> {
  for (const { orphan, finding } of check.orphans) {
    // Held as a write in flight: should the append fail (a quota, a full disk), the store's
    // clean-up of a file nothing records must not take this one, the message's only copy.
    port.holdBlob(orphan.hash);
    try {
      // open() verifies a large file before its first byte and every chunk as it streams.
      const recovered = await recovery.recover(await port.blobs.open(orphan.hash), orphan.modifiedAt);
      finding.repair = 'repaired';
      finding.detail += `; recovered into ${recovery.target.login}/${recovered.mailbox} as UID ${recovered.uid}`;
      port.log.info('integrity.orphan_recovered', { blob: orphan.hash, login: recovery.target.login, mailbox: recovered.mailbox, uid: recovered.uid });
    } catch (error) {
      finding.repair = 'unrepaired';
      finding.detail += `; not recovered: ${(error as Error).message}`;
    } finally {
      port.releaseBlob(orphan.hash);
    }
  }
}

async function handleBadBlob(port: IntegrityPort, blob: { hash: string; size: number }, state: Exclude<BlobState, 'good'>, repair: boolean, copies: readonly GoodCopy[]): Promise<AuditFinding> {
  const finding: AuditFinding =
    state === 'mismatch'
      ? { kind: 'blob.mismatch', severity: 'error', where: blob.hash, detail: 'the file’s bytes do not hash to its name' }
      : { kind: 'blob.missing', severity: 'error', where: blob.hash, detail: 'a record refers to this blob but there is no file' };
  if (!repair) return finding;
  if (state === 'mismatch') await port.blobs.quarantine(blob.hash);
  for (const copy of copies) {
    const bytes = await copy.readBlob(blob.hash);
    if (!bytes) continue;
    await port.blobs.restore(blob.hash, bytes);
    finding.repair = 'repaired';
    finding.detail += `; restored from ${copy.directory}`;
    return finding;
  }
  finding.repair = state === 'mismatch' ? 'quarantined' : 'unrepaired';
  finding.detail += copies.length === 0 ? '; no copy given to repair from' : '; no copy holds good bytes';
  return finding;
}

/** A mirror's copy is rewritten from the primary's verified bytes (the primary was checked, and repaired if it could be, just before). */
async function handleBadMirrorCopy(port: IntegrityPort, mirror: BlobCopy, hash: string, state: Exclude<BlobState, 'good'>, repair: boolean): Promise<AuditFinding> {
  const finding: AuditFinding = {
    kind: `blob.mirror_${state}`,
    severity: 'error',
    where: `${hash} in ${mirror.root}`,
    detail: state === 'mismatch' ? 'the mirror’s bytes do not hash to the name' : 'the mirror has no copy',
  };
  if (!repair) return finding;
  let bytes: Buffer;
  try {
    bytes = await port.blobs.read(hash);
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
