// A second copy of the store that repair may take data from: a backup folder, a
// second data folder, or a bare blob directory. Nothing from it is trusted
// unproven: a blob is used only when its bytes hash to its name, a record only
// when its fields hash to its checksum.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidInput } from '../errors.js';
import type { Logger } from '../log.js';
import type { BlobCopy } from '../store/blob-copy.js';
import { FileBlobStore, sha256 } from '../store/blobs/file-blob-store.js';
import { blobDirectoryName } from '../store/data-folder.js';
import type { RecordSource } from '../store/integrity-port.js';
import { storeEngine } from '../store/open-store.js';
import type { StoreSnapshot } from '../store/store-snapshot.js';
import { storedRecordChecksum, type StoredRecord } from '../store/stored-record.js';

export type { CopiedBlobRow } from '../store/store-snapshot.js';

export interface GoodCopy extends RecordSource {
  readonly directory: string;
  /** The blob's bytes, only if they verify; null when this copy lacks a good one. */
  readBlob(hash: string): Promise<Buffer | null>;
  close(): void;
}

export function openGoodCopy(directory: string, log: Logger): GoodCopy {
  const root = path.resolve(directory);
  if (!fs.existsSync(root)) throw new InvalidInput(`the copy ${directory} does not exist`);
  const engine = storeEngine();
  const blobRoot = fs.existsSync(path.join(root, blobDirectoryName)) ? path.join(root, blobDirectoryName) : root;
  const hasDatabase = engine.holdsSnapshot(root);
  const hasBlobs = fs.readdirSync(blobRoot).some((name) => /^[0-9a-f]{2}$/.test(name));
  if (!hasDatabase && !hasBlobs) throw new InvalidInput(`${directory} holds neither a ${engine.snapshotFileName} nor blob files: it is not a Postkeep data folder, backup or blob directory`);
  const database: StoreSnapshot | null = hasDatabase ? engine.openSnapshotIn(root) : null;
  // Only for pathOf: reading here bypasses FileBlobStore.read so a bad file in the
  // copy is reported, not moved (the copy may be a backup someone wants intact).
  const blobs = new FileBlobStore(blobRoot, log);
  const verified = (mailboxObjectId: string, record: StoredRecord | null): StoredRecord | null => {
    if (!record) return null;
    return storedRecordChecksum(mailboxObjectId, record) === record.checksum ? record : null;
  };
  return {
    directory: root,
    async readBlob(hash) {
      let bytes: Buffer;
      try {
        bytes = await fs.promises.readFile(blobs.pathOf(hash));
      } catch {
        return null;
      }
      if (sha256(bytes) === hash) return bytes;
      log.warn('integrity.copy_mismatch', { blob: hash, copy: root });
      return null;
    },
    findRecordByChecksum(mailboxObjectId, checksum) {
      if (!database) return null;
      for (const candidate of database.recordsWithChecksum(mailboxObjectId, checksum)) if (verified(mailboxObjectId, candidate)) return candidate;
      return null;
    },
    findRecordByUid(mailboxObjectId, uid) {
      if (!database) return null;
      return verified(mailboxObjectId, database.recordAt(mailboxObjectId, uid));
    },
    blobRow(hash) {
      if (!database) return null;
      return database.blobRow(hash);
    },
    close() {
      database?.close();
    },
  };
}

/** A configured blob mirror as a source of good bytes (it holds no records). */
export function mirrorCopy(mirror: BlobCopy): GoodCopy {
  return {
    directory: mirror.root,
    readBlob: (hash) => mirror.readIfGood(hash),
    findRecordByChecksum: () => null,
    findRecordByUid: () => null,
    blobRow: () => null,
    close() {},
  };
}
