// A second copy of the store that repair may take data from: a backup folder, a
// second data folder, or a bare blob directory. Nothing from it is trusted
// unproven: a blob is used only when its bytes hash to its name, a record only
// when its fields hash to its checksum.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidInput } from '../errors.js';
import type { Logger } from '../log.js';
import { FileBlobStore, sha256 } from '../store/blobs/file-blob-store.js';
import { rowChecksum, type MessageRow } from '../store/sqlite/rows.js';
import { blobDirectoryName, databaseFileName } from '../store/sqlite/sqlite-store.js';
import { openReadOnlyDatabase, type ReadOnlyDatabase } from './read-only-database.js';

/** A blob row as a copy holds it (what repair needs to re-create a lost one). */
export interface CopiedBlobRow {
  hash: string;
  size: number;
  structure: string;
  created_at: number;
}

export interface GoodCopy {
  readonly directory: string;
  /** The blob's bytes, only if they verify; null when this copy lacks a good one. */
  readBlob(hash: string): Promise<Buffer | null>;
  /** The record in mailbox `mailboxObjectId` whose verified checksum is `checksum`, or null. */
  findRecordByChecksum(mailboxObjectId: string, checksum: string): MessageRow | null;
  /** The verified record at that UID, or null. */
  findRecordByUid(mailboxObjectId: string, uid: number): MessageRow | null;
  blobRow(hash: string): CopiedBlobRow | null;
  close(): void;
}

export function openGoodCopy(directory: string, log: Logger): GoodCopy {
  const root = path.resolve(directory);
  if (!fs.existsSync(root)) throw new InvalidInput(`the copy ${directory} does not exist`);
  const databaseFile = path.join(root, databaseFileName);
  const blobRoot = fs.existsSync(path.join(root, blobDirectoryName)) ? path.join(root, blobDirectoryName) : root;
  const hasDatabase = fs.existsSync(databaseFile);
  const hasBlobs = fs.readdirSync(blobRoot).some((name) => /^[0-9a-f]{2}$/.test(name));
  if (!hasDatabase && !hasBlobs) throw new InvalidInput(`${directory} holds neither a ${databaseFileName} nor blob files: it is not a Postkeep data folder, backup or blob directory`);
  const database: ReadOnlyDatabase | null = hasDatabase ? openReadOnlyDatabase(databaseFile) : null;
  // Only for pathOf: reading here bypasses FileBlobStore.read so a bad file in the
  // copy is reported, not moved (the copy may be a backup someone wants intact).
  const blobs = new FileBlobStore(blobRoot, log);
  const verified = (row: (MessageRow & { object_id: string }) | undefined): MessageRow | null => {
    if (!row) return null;
    const computed = rowChecksum(row.object_id, row);
    return computed === row.checksum ? row : null;
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
      const candidates = database
        .prepare('SELECT messages.*, mailboxes.object_id AS object_id FROM messages JOIN mailboxes ON mailboxes.id = messages.mailbox_id WHERE mailboxes.object_id = ? AND messages.checksum = ?')
        .all(mailboxObjectId, checksum) as (MessageRow & { object_id: string })[];
      for (const candidate of candidates) if (verified(candidate)) return candidate;
      return null;
    },
    findRecordByUid(mailboxObjectId, uid) {
      if (!database) return null;
      return verified(
        database
          .prepare('SELECT messages.*, mailboxes.object_id AS object_id FROM messages JOIN mailboxes ON mailboxes.id = messages.mailbox_id WHERE mailboxes.object_id = ? AND messages.uid = ?')
          .get(mailboxObjectId, uid) as (MessageRow & { object_id: string }) | undefined,
      );
    },
    blobRow(hash) {
      if (!database) return null;
      return (database.prepare('SELECT hash, size, structure, created_at FROM blobs WHERE hash = ?').get(hash) as CopiedBlobRow | undefined) ?? null;
    },
    close() {
      database?.close();
    },
  };
}

/** A configured blob mirror as a source of good bytes (it holds no records). */
export function mirrorCopy(mirror: FileBlobStore): GoodCopy {
  return {
    directory: mirror.root,
    async readBlob(hash) {
      try {
        const bytes = await fs.promises.readFile(mirror.pathOf(hash));
        return sha256(bytes) === hash ? bytes : null;
      } catch {
        return null;
      }
    },
    findRecordByChecksum: () => null,
    findRecordByUid: () => null,
    blobRow: () => null,
    close() {},
  };
}
