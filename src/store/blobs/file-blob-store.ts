// Message bytes stored once, as files named by the SHA-256 of their content.
// Writes go to a temp file that is fsynced and renamed into place, so a crash can
// leave a stray temp file but never a partial blob under a real name. Reads verify
// the hash; a file that fails is moved to quarantine and never returned as data.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { syncDirectory } from '../../durable-files.js';
import { Readable } from 'node:stream';
import { IntegrityError, MessageTooLarge } from '../../errors.js';
import type { Logger } from '../../log.js';

export interface WrittenBlob {
  hash: string;
  size: number;
  /** The directory whose entry must be fsynced before the blob counts as durable, or null when the blob was already there. */
  directoryToSync: string | null;
  /** False when a file of that name was there before this write (say an orphan whose records were lost): not this write's to remove. */
  created: boolean;
}

/** Chunks are gathered up to this many bytes before one write. */
const writeGatherLimit = 256 * 1024;

/** Messages up to this size are verified and served from one buffer; larger ones stream. */
const wholeReadLimit = 8 * 1024 * 1024;

const hashPattern = /^[0-9a-f]{64}$/;

/** An open file as the write path uses it: the narrow part of fs.FileHandle it needs. */
export interface BlobFile {
  write(buffer: Buffer, offset: number, length: number): Promise<{ bytesWritten: number }>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The file-system calls a blob write makes. Fault-injection tests swap in one that
 * fails with ENOSPC or EIO at a chosen call, instead of patching node:fs for everyone.
 */
export interface BlobFileSystem {
  open(file: string, flags: string, mode: number): Promise<BlobFile>;
  rename(from: string, to: string): Promise<void>;
  syncDirectory(directory: string): Promise<void>;
}

export const nodeBlobFileSystem: BlobFileSystem = {
  open: (file, flags, mode) => fs.open(file, flags, mode),
  rename: (from, to) => fs.rename(from, to),
  syncDirectory,
};

/** What re-hashing one blob found, without side effects (audit reports, it does not quarantine by itself). */
export type BlobState = 'good' | 'missing' | 'mismatch';

export class FileBlobStore {
  readonly root: string;
  private readonly temporaryDirectory: string;
  private readonly quarantineDirectory: string;
  private readonly knownDirectories = new Set<string>();
  /** Replaceable so fault-injection tests can make a write fail at the file-system call. */
  fileSystem: BlobFileSystem = nodeBlobFileSystem;

  constructor(root: string, protected readonly log: Logger) {
    this.root = root;
    this.temporaryDirectory = path.join(root, 'tmp');
    this.quarantineDirectory = path.join(root, 'quarantine');
  }

  /** Creates the folders and removes temp files a crash left behind (they were never acknowledged). */
  async initialize(): Promise<void> {
    // Owner only, whatever the umask: these hold the mail.
    await fs.mkdir(this.temporaryDirectory, { recursive: true, mode: 0o700 });
    await fs.mkdir(this.quarantineDirectory, { recursive: true, mode: 0o700 });
    for (const name of await fs.readdir(this.temporaryDirectory)) {
      await fs.rm(path.join(this.temporaryDirectory, name), { force: true });
      this.log.info('blob.temporary_removed', { file: name });
    }
  }

  pathOf(hash: string): string {
    if (!hashPattern.test(hash)) throw new Error(`not a blob hash: ${hash}`);
    return path.join(this.root, hash.slice(0, 2), hash);
  }

  /**
   * Streams `source` into a new blob, passing every chunk to `observe` (the MIME
   * parser) on the way. The file is fsynced; its directory entry is not, so that
   * many writers can share that fsync (see syncDirectories).
   */
  async write(source: Buffer | AsyncIterable<Buffer>, observe?: (chunk: Buffer) => Promise<void> | void, maxSize?: number): Promise<WrittenBlob> {
    const temporary = path.join(this.temporaryDirectory, `${Date.now()}-${randomBytes(8).toString('hex')}`);
    const hasher = createHash('sha256');
    let size = 0;
    const handle = await this.fileSystem.open(temporary, 'wx', 0o600);
    let renamed = false;
    try {
      const chunks: AsyncIterable<Buffer> | Buffer[] = Buffer.isBuffer(source) ? [source] : source;
      // Small chunks are gathered and written together: each write is a trip
      // through the thread pool, and most mail fits in one.
      let pending: Buffer[] = [];
      let pendingLength = 0;
      for await (const chunk of chunks) {
        size += chunk.length;
        if (maxSize !== undefined && size > maxSize) throw new MessageTooLarge(maxSize);
        hasher.update(chunk);
        if (observe) await observe(chunk);
        pending.push(chunk);
        pendingLength += chunk.length;
        if (pendingLength >= writeGatherLimit) {
          await writeAll(handle, pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingLength));
          pending = [];
          pendingLength = 0;
        }
      }
      if (pendingLength > 0) await writeAll(handle, pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingLength));
      await handle.sync();
      await handle.close();
      const hash = hasher.digest('hex');
      const destination = this.pathOf(hash);
      // An existing file of that name is replaced all the same (content addressing: the
      // same bytes, and a damaged copy is healed), but is not this write's file: if
      // recording the message fails, discard() must not remove what was there before.
      const directory = path.dirname(destination);
      if (!this.knownDirectories.has(directory)) {
        await fs.mkdir(directory, { recursive: true, mode: 0o700 });
        // A new fan-out directory is itself an entry in the root that must be durable.
        await this.fileSystem.syncDirectory(this.root);
        this.knownDirectories.add(directory);
      }
      const existed = await exists(destination);
      await this.fileSystem.rename(temporary, destination);
      renamed = true;
      return { hash, size, directoryToSync: directory, created: !existed };
    } finally {
      if (!renamed) {
        await handle.close().catch(() => {});
        await fs.rm(temporary, { force: true }).catch(() => {});
      }
    }
  }

  /** One fsync per distinct directory, all in parallel: the group-commit half for files. */
  async syncDirectories(directories: Iterable<string>): Promise<void> {
    await Promise.all([...new Set(directories)].map((directory) => this.fileSystem.syncDirectory(directory)));
  }

  async exists(hash: string): Promise<boolean> {
    return exists(this.pathOf(hash));
  }

  /** The blob's bytes, verified. Throws IntegrityError (and quarantines) on a mismatch or a missing file. */
  async read(hash: string): Promise<Buffer> {
    const file = this.pathOf(hash);
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(file);
    } catch (error) {
      throw this.missing(hash, error);
    }
    if (sha256(bytes) !== hash) throw await this.mismatch(hash);
    return bytes;
  }

  /**
   * A stream of the blob's bytes. Small blobs are verified before the first byte
   * leaves; large ones are verified in a first pass and hashed again as they stream,
   * and the stream errors instead of ending if the second pass disagrees (the file
   * changed under us), so a reader never sees a complete, wrong message.
   */
  async open(hash: string): Promise<Readable> {
    const file = this.pathOf(hash);
    let size: number;
    try {
      size = (await fs.stat(file)).size;
    } catch (error) {
      throw this.missing(hash, error);
    }
    if (size <= wholeReadLimit) return Readable.from([await this.read(hash)], { objectMode: false });
    if ((await hashFile(file)) !== hash) throw await this.mismatch(hash);
    const store = this;
    const hasher = createHash('sha256');
    return Readable.from(
      (async function* () {
        for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) {
          hasher.update(chunk as Buffer);
          yield chunk as Buffer;
        }
        if (hasher.digest('hex') !== hash) throw await store.mismatch(hash);
      })(),
      { objectMode: false },
    );
  }

  /** Re-hashes one blob without returning it: true when its bytes match its name. */
  async verify(hash: string): Promise<boolean> {
    try {
      return (await hashFile(this.pathOf(hash))) === hash;
    } catch {
      return false;
    }
  }

  /** Like verify, but tells a missing file from one whose bytes differ. */
  async inspect(hash: string): Promise<BlobState> {
    let actual: string;
    try {
      actual = await hashFile(this.pathOf(hash));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
      throw error;
    }
    return actual === hash ? 'good' : 'mismatch';
  }

  /** Moves a blob that failed verification out of the way; the path it went to, or null if there was no file. */
  async quarantine(hash: string): Promise<string | null> {
    const target = path.join(this.quarantineDirectory, `${hash}.${Date.now()}`);
    try {
      await fs.rename(this.pathOf(hash), target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    this.log.error('integrity.blob_quarantined', { blob: hash, quarantined: target });
    return target;
  }

  /**
   * Puts verified bytes back under their name (temp file, fsync, rename, directory
   * fsync): how a bad or missing copy is repaired from a good one.
   */
  async restore(hash: string, bytes: Buffer): Promise<void> {
    if (sha256(bytes) !== hash) throw new IntegrityError(`the bytes offered to repair ${hash} do not match it`, hash);
    // A bad file moves aside first (write() would replace it and lose it), for an admin to look at.
    if ((await this.inspect(hash)) === 'mismatch') await this.quarantine(hash);
    const written = await this.write(bytes);
    if (written.directoryToSync) await this.syncDirectories([written.directoryToSync]);
  }

  /** Temp files (writes in flight, or left by a crash) with their age in milliseconds. */
  async temporaryFiles(): Promise<{ name: string; ageMilliseconds: number }[]> {
    const now = Date.now();
    const found: { name: string; ageMilliseconds: number }[] = [];
    for (const name of await fs.readdir(this.temporaryDirectory)) {
      try {
        const { mtimeMs } = await fs.stat(path.join(this.temporaryDirectory, name));
        found.push({ name, ageMilliseconds: now - mtimeMs });
      } catch {
        // Finished (renamed) between readdir and stat: not a leftover.
      }
    }
    return found;
  }

  async removeTemporary(name: string): Promise<void> {
    if (name.includes('/') || name.includes('\\') || name === '..') throw new Error(`not a temp file name: ${name}`);
    await fs.rm(path.join(this.temporaryDirectory, name), { force: true });
  }

  /** Undoes a write nothing recorded: removes the file only if that write created it. */
  async discard(written: WrittenBlob): Promise<void> {
    if (written.created) await this.removeFile(written.hash);
  }

  async remove(hash: string): Promise<number> {
    return this.removeFile(hash);
  }

  /** This store's own file, whatever a subclass's remove() does besides. */
  protected async removeFile(hash: string): Promise<number> {
    const file = this.pathOf(hash);
    try {
      const { size } = await fs.stat(file);
      await fs.rm(file);
      return size;
    } catch {
      return 0;
    }
  }

  /** Every blob name present on disk (for audit and orphan search). */
  async *list(): AsyncGenerator<string> {
    for (const entry of await fs.readdir(this.root, { withFileTypes: true })) {
      if (!entry.isDirectory() || !/^[0-9a-f]{2}$/.test(entry.name)) continue;
      for (const name of await fs.readdir(path.join(this.root, entry.name))) {
        if (hashPattern.test(name) && name.startsWith(entry.name)) yield name;
      }
    }
  }

  /** The bytes only if they hash to the name; a bad or missing file is left where it lies (a copy someone may want intact). */
  async readIfGood(hash: string): Promise<Buffer | null> {
    try {
      const bytes = await fs.readFile(this.pathOf(hash));
      return sha256(bytes) === hash ? bytes : null;
    } catch {
      return null;
    }
  }

  /** Moves a bad file aside (never deletes it: an admin may want to look) and reports it. */
  private async mismatch(hash: string): Promise<IntegrityError> {
    const file = this.pathOf(hash);
    const target = path.join(this.quarantineDirectory, `${hash}.${Date.now()}`);
    await fs.rename(file, target).catch(() => {});
    this.log.error('integrity.blob_mismatch', { blob: hash, quarantined: target });
    return new IntegrityError(`stored message ${hash} failed verification and was quarantined`, hash);
  }

  private missing(hash: string, cause: unknown): IntegrityError {
    this.log.error('integrity.blob_missing', { blob: hash, reason: String((cause as Error)?.message ?? cause) });
    return new IntegrityError(`stored message ${hash} is missing`, hash);
  }
}

export function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function hashFile(file: string): Promise<string> {
  // Most mail is small: one read beats a stream's per-file set-up by far.
  const { size } = await fs.stat(file);
  if (size <= wholeReadLimit) return sha256(await fs.readFile(file));
  const hasher = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) hasher.update(chunk as Buffer);
  return hasher.digest('hex');
}

async function writeAll(handle: BlobFile, chunk: Buffer): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

