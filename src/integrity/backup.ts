// `postkeep backup <dest>`: a consistent snapshot of the database (SQLite's
// online backup API, so the server keeps running) plus every blob it refers to,
// copied only if the backup does not hold it yet (blobs are named by content, so
// a name that is there is the same bytes). The outbound queue's rows are in the
// snapshot and its message files are copied the same way into <dest>/queue, so a
// restored store still delivers what was queued. Blobs go first and the database
// and manifest last, each renamed into place after an fsync: a backup cut short
// leaves the previous one whole.
import Database from 'better-sqlite3';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { syncDirectory } from '../durable-files.js';
import { IntegrityError } from '../errors.js';
import { FileBlobStore } from '../store/blobs/file-blob-store.js';
import { queueDirectoryName } from '../store/sqlite/outbound-queue.js';
import { blobDirectoryName, databaseFileName, type SqliteMailStore } from '../store/sqlite/sqlite-store.js';
import { hashFile } from './hash-file.js';
import { anchorFile, readAnchorRecord, writeAnchorRecord } from '../security-log/anchor.js';
import { manifestFormat, writeManifest, type BackupManifest, type SkippedItem } from './backup-manifest.js';
import { summarizeMailboxes } from './mailbox-summary.js';

export interface BackupResult {
  manifest: BackupManifest;
  /** Blobs (and their bytes) this run copied; the rest were in the backup already. */
  copiedBlobs: number;
  copiedBytes: number;
  reusedBlobs: number;
}

export interface BackupOptions {
  onProgress?: (blobsDone: number, blobsTotal: number) => void;
  /** Blob copies in flight at once (each ends in an fsync). */
  concurrency?: number;
}

export async function backupStore(store: SqliteMailStore, destination: string, options: BackupOptions = {}): Promise<BackupResult> {
  const context = store.context;
  const root = path.resolve(destination);
  await fs.mkdir(path.join(root, blobDirectoryName), { recursive: true });
  const target = new FileBlobStore(path.join(root, blobDirectoryName), context.log);
  await target.initialize();

  await context.commit.idle();
  // The security log's anchor goes with the backup, read before the snapshot so that
  // it never records an entry the snapshot lacks (it moves only after a commit).
  const anchorRecord = await readAnchorRecord(anchorFile(path.dirname(context.blobs.root))).catch(() => null);
  const snapshotFile = path.join(root, `${databaseFileName}.partial`);
  await fs.rm(snapshotFile, { force: true });
  await context.db.backup(snapshotFile);

  const snapshot = new Database(snapshotFile);
  let blobs: { hash: string; size: number }[];
  let queued: { hash: string; size: number }[];
  const skipped: SkippedItem[] = [];
  let mailboxes: BackupManifest['mailboxes'];
  let schemaVersion: number;
  try {
    // One self-contained file: no -wal beside it that a later copy could lose.
    snapshot.pragma('journal_mode = DELETE');
    schemaVersion = snapshot.pragma('user_version', { simple: true }) as number;
    // Only blobs something refers to: an unreferenced one may be removed by the
    // garbage collector before it is copied, and a restore does not need it.
    blobs = snapshot
      .prepare('SELECT hash, size FROM blobs WHERE hash IN (SELECT blob_hash FROM messages UNION SELECT blob_hash FROM expunged) ORDER BY hash')
      .all() as { hash: string; size: number }[];
    queued = snapshot.prepare('SELECT blob_hash AS hash, max(size) AS size FROM outbound_messages GROUP BY blob_hash ORDER BY blob_hash').all() as { hash: string; size: number }[];
    const summaries = summarizeMailboxes(snapshot);
    for (const summary of summaries) {
      for (const uid of summary.corruptRecords) {
        skipped.push({ kind: 'record.checksum', where: `${summary.account}/${summary.name} UID ${uid}`, detail: 'the record no longer matches its checksum; kept as found, run `postkeep audit`' });
      }
    }
    mailboxes = summaries.map((summary) => ({
      account: summary.account,
      name: summary.name,
      id: summary.id,
      uidValidity: summary.uidValidity,
      messages: summary.messages,
      digest: summary.storedDigest,
    }));
  } finally {
    snapshot.close();
  }

  let copiedBlobs = 0;
  let copiedBytes = 0;
  let done = 0;
  let next = 0;
  const directories = new Set<string>();
  const copyOne = async (blob: { hash: string; size: number }) => {
    const existing = await fs.stat(target.pathOf(blob.hash)).catch(() => null);
    if (existing && existing.size === blob.size) return;
    // A file of the wrong length under that name is a torn earlier copy: replace it.
    if (existing) await target.quarantine(blob.hash);
    let bytes: Buffer;
    try {
      bytes = await context.blobs.read(blob.hash);
    } catch (error) {
      if (!(error instanceof IntegrityError)) throw error;
      skipped.push({ kind: 'blob', where: blob.hash, detail: `${error.message}; not in this backup` });
      return;
    }
    const written = await target.write(bytes);
    if (written.directoryToSync) directories.add(written.directoryToSync);
    copiedBlobs++;
    copiedBytes += bytes.length;
  };
  const worker = async () => {
    while (next < blobs.length) {
      await copyOne(blobs[next++]!);
      options.onProgress?.(++done, blobs.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));
  await target.syncDirectories(directories);
  const queue = await copyQueue(context, root, queued, skipped);

  const databaseFile = path.join(root, databaseFileName);
  const handle = await fs.open(snapshotFile, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  const snapshotHash = await hashFile(snapshotFile);
  // A stale -wal from an earlier reader must not be replayed onto the new file.
  await fs.rm(`${databaseFile}-wal`, { force: true });
  await fs.rm(`${databaseFile}-shm`, { force: true });
  await fs.rename(snapshotFile, databaseFile);
  if (anchorRecord) await writeAnchorRecord(anchorFile(root), anchorRecord);
  await syncDirectory(root);

  const skippedBlobs = new Set(skipped.filter((item) => item.kind === 'blob').map((item) => item.where));
  const manifest: BackupManifest = {
    format: manifestFormat,
    createdAt: new Date().toISOString(),
    source: path.dirname(context.blobs.root),
    schemaVersion,
    database: { file: databaseFileName, ...snapshotHash },
    blobs: blobs.filter((blob) => !skippedBlobs.has(blob.hash)),
    queue,
    mailboxes,
    skipped,
  };
  await writeManifest(root, manifest);
  context.log.info('integrity.backup_written', { destination: root, blobs: manifest.blobs.length, queued: queue.length, copiedBlobs, copiedBytes, skipped: skipped.length });
  return { manifest, copiedBlobs, copiedBytes, reusedBlobs: manifest.blobs.length - copiedBlobs };
}

/**
 * Copies the queue files the snapshot's rows refer to (verified on read). One that
 * is gone from the live store was delivered or dropped after the snapshot: it is
 * listed as skipped, since the restored row would otherwise point at nothing.
 */
async function copyQueue(context: SqliteMailStore['context'], root: string, queued: readonly { hash: string; size: number }[], skipped: SkippedItem[]): Promise<{ hash: string; size: number }[]> {
  const live = new FileBlobStore(path.join(path.dirname(context.blobs.root), queueDirectoryName), context.log);
  const target = new FileBlobStore(path.join(root, queueDirectoryName), context.log);
  await target.initialize();
  const copied: { hash: string; size: number }[] = [];
  for (const file of queued) {
    if ((await target.inspect(file.hash)) !== 'good') {
      let bytes: Buffer;
      try {
        bytes = await live.read(file.hash);
      } catch (error) {
        if (!(error instanceof IntegrityError)) throw error;
        skipped.push({ kind: 'queue', where: file.hash, detail: `${error.message}; the queued message is not in this backup` });
        continue;
      }
      // restore() fsyncs the file and its directory.
      await target.restore(file.hash, bytes);
    }
    copied.push(file);
  }
  return copied;
}
