// `postkeep backup <dest>`: a consistent snapshot of the metadata (the engine
// writes it while the server keeps running) plus every blob it refers to,
// copied only if the backup does not hold it yet (blobs are named by content, so
// a name that is there is the same bytes). The outbound queue's rows are in the
// snapshot and its message files are copied the same way into <dest>/queue, so a
// restored store still delivers what was queued. Blobs go first and the database
// and manifest last, each renamed into place after an fsync: a backup cut short
// leaves the previous one whole.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { syncDirectory } from '../durable-files.js';
import { IntegrityError } from '../errors.js';
import { FileBlobStore } from '../store/blobs/file-blob-store.js';
import { blobDirectoryName, queueDirectoryName } from '../store/data-folder.js';
import type { IntegrityPort } from '../store/integrity-port.js';
import type { ManagedStore } from '../store/managed-store.js';
import { storeEngine } from '../store/open-store.js';
import { hashFile } from './hash-file.js';
import { anchorFile, readAnchorRecord, writeAnchorRecord } from '../security-log/anchor.js';
import { manifestFormat, writeManifest, type BackupManifest, type SkippedItem } from './backup-manifest.js';

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

export async function backupStore(store: ManagedStore, destination: string, options: BackupOptions = {}): Promise<BackupResult> {
  const port = store.integrity;
  const engine = storeEngine();
  const root = path.resolve(destination);
  await fs.mkdir(path.join(root, blobDirectoryName), { recursive: true });
  const target = new FileBlobStore(path.join(root, blobDirectoryName), port.log);
  await target.initialize();

  await port.settle();
  // The security log's anchor goes with the backup, read before the snapshot so that
  // it never records an entry the snapshot lacks (it moves only after a commit).
  const anchorRecord = await readAnchorRecord(anchorFile(port.dataDirectory)).catch(() => null);
  const snapshotFile = path.join(root, `${engine.snapshotFileName}.partial`);
  // What the manifest lists is read back from the snapshot: the moment it was taken.
  const { schemaVersion, blobs, queued, mailboxes: summaries } = await port.writeSnapshot(snapshotFile);
  const skipped: SkippedItem[] = [];
  for (const summary of summaries) {
    for (const uid of summary.corruptRecords) {
      skipped.push({ kind: 'record.checksum', where: `${summary.account}/${summary.name} UID ${uid}`, detail: 'the record no longer matches its checksum; kept as found, run `postkeep audit`' });
    }
  }
  const mailboxes: BackupManifest['mailboxes'] = summaries.map((summary) => ({
    account: summary.account,
    name: summary.name,
    id: summary.id,
    uidValidity: summary.uidValidity,
    messages: summary.messages,
    digest: summary.storedDigest,
  }));

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
      bytes = await port.blobs.read(blob.hash);
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
  const queue = await copyQueue(port, root, queued, skipped);

  const databaseFile = path.join(root, engine.snapshotFileName);
  const handle = await fs.open(snapshotFile, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  const snapshotHash = await hashFile(snapshotFile);
  await engine.clearBeside(databaseFile);
  await fs.rename(snapshotFile, databaseFile);
  if (anchorRecord) await writeAnchorRecord(anchorFile(root), anchorRecord);
  await syncDirectory(root);

  const skippedBlobs = new Set(skipped.filter((item) => item.kind === 'blob').map((item) => item.where));
  const manifest: BackupManifest = {
    format: manifestFormat,
    createdAt: new Date().toISOString(),
    source: port.dataDirectory,
    schemaVersion,
    database: { file: engine.snapshotFileName, ...snapshotHash },
    blobs: blobs.filter((blob) => !skippedBlobs.has(blob.hash)),
    queue,
    mailboxes,
    skipped,
  };
  await writeManifest(root, manifest);
  port.log.info('integrity.backup_written', { destination: root, blobs: manifest.blobs.length, queued: queue.length, copiedBlobs, copiedBytes, skipped: skipped.length });
  return { manifest, copiedBlobs, copiedBytes, reusedBlobs: manifest.blobs.length - copiedBlobs };
}

/**
 * Copies the queue files the snapshot's rows refer to (verified on read). One that
 * is gone from the live store was delivered or dropped after the snapshot: it is
 * listed as skipped, since the restored row would otherwise point at nothing.
 */
async function copyQueue(port: IntegrityPort, root: string, queued: readonly { hash: string; size: number }[], skipped: SkippedItem[]): Promise<{ hash: string; size: number }[]> {
  const live = new FileBlobStore(path.join(port.dataDirectory, queueDirectoryName), port.log);
  const target = new FileBlobStore(path.join(root, queueDirectoryName), port.log);
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
