// More than one copy of every blob (for example on a second disk). Writes go to
// the primary and every mirror; the write counts as durable once the configured
// number of copies are (default: all of them). Reads are served from the primary
// and verified as always; a bad or missing primary copy is rewritten from a
// mirror that still holds good bytes (self-healing), logged as `integrity.repaired`,
// and so is every mirror copy that read found bad on the way.
import * as fs from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { IntegrityError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { FileBlobStore, sha256, type WrittenBlob } from './file-blob-store.js';

export interface MirrorOptions {
  /** Copies (the primary included) that must be durable before a write is acknowledged; default all. */
  acknowledgeAfterCopies?: number;
}

export class MirroredBlobStore extends FileBlobStore {
  readonly mirrors: readonly FileBlobStore[];
  private readonly requiredMirrors: number;
  /** Per write, the mirrors that had no copy before it (what discard may remove). */
  private readonly createdMirrorCopies = new WeakMap<WrittenBlob, FileBlobStore[]>();

  constructor(root: string, mirrorRoots: readonly string[], log: Logger, options: MirrorOptions = {}) {
    super(root, log);
    this.mirrors = mirrorRoots.map((mirror) => new FileBlobStore(mirror, log));
    const copies = options.acknowledgeAfterCopies ?? this.mirrors.length + 1;
    if (!Number.isInteger(copies) || copies < 1 || copies > this.mirrors.length + 1) {
      throw new RangeError(`acknowledgeAfterCopies must be between 1 and ${this.mirrors.length + 1} (the primary and ${this.mirrors.length} mirror(s)), got ${copies}`);
    }
    this.requiredMirrors = copies - 1;
  }

  override async initialize(): Promise<void> {
    await super.initialize();
    for (const mirror of this.mirrors) await mirror.initialize();
  }

  /**
   * The primary write streams and parses as before; its verified file is then
   * copied to every mirror (each fsyncs its file and directory). The promise
   * settles when enough mirrors are durable; the rest finish in the background.
   */
  override async write(source: Buffer | AsyncIterable<Buffer>, observe?: (chunk: Buffer) => Promise<void> | void, maxSize?: number): Promise<WrittenBlob> {
    const written = await super.write(source, observe, maxSize);
    if (this.mirrors.length === 0) return written;
    const bytes = Buffer.isBuffer(source) ? source : await fs.readFile(this.pathOf(written.hash));
    if (sha256(bytes) !== written.hash) throw new IntegrityError(`the blob ${written.hash} changed on disk before it could be mirrored`, written.hash);
    const created: FileBlobStore[] = [];
    this.createdMirrorCopies.set(written, created);
    const copies = this.mirrors.map((mirror) =>
      mirror.exists(written.hash).then((present) => {
        if (present) return undefined;
        created.push(mirror);
        return mirror.restore(written.hash, bytes);
      }),
    );
    await enough(copies, this.requiredMirrors, (error, index) =>
      this.log.error('integrity.mirror_write_failed', { blob: written.hash, mirror: this.mirrors[index]!.root, error: String(error) }),
    );
    return written;
  }

  override async read(hash: string): Promise<Buffer> {
    try {
      return await super.read(hash);
    } catch (error) {
      if (!(error instanceof IntegrityError)) throw error;
      return this.healFromMirror(hash, error);
    }
  }

  override async open(hash: string): Promise<Readable> {
    try {
      return await super.open(hash);
    } catch (error) {
      if (!(error instanceof IntegrityError)) throw error;
      await this.healFromMirror(hash, error);
      return super.open(hash);
    }
  }

  /** The primary's file and the mirror copies this write made; copies that were there before stay. */
  override async discard(written: WrittenBlob): Promise<void> {
    await super.discard(written);
    for (const mirror of this.createdMirrorCopies.get(written) ?? []) await mirror.remove(written.hash);
  }

  override async remove(hash: string): Promise<number> {
    const size = await super.remove(hash);
    for (const mirror of this.mirrors) await mirror.remove(hash);
    return size;
  }

  /**
   * Rewrites the primary copy from the first mirror with good bytes, and every
   * mirror that was read on the way and found bad too (DESIGN.md invariant 2: a
   * bad copy that a read touched is healed, not only the primary). Rethrows
   * `cause` when no mirror has good bytes.
   */
  async healFromMirror(hash: string, cause: IntegrityError): Promise<Buffer> {
    const bad: FileBlobStore[] = [];
    for (const mirror of this.mirrors) {
      let bytes: Buffer;
      try {
        // The mirror's read verifies, and quarantines its own bad copy.
        bytes = await mirror.read(hash);
      } catch (error) {
        if (error instanceof IntegrityError) bad.push(mirror);
        continue;
      }
      await this.restore(hash, bytes);
      this.log.warn('integrity.repaired', { blob: hash, copy: 'primary', from: mirror.root });
      for (const copy of bad) {
        try {
          await copy.restore(hash, bytes);
          this.log.warn('integrity.repaired', { blob: hash, copy: copy.root, from: mirror.root });
        } catch (error) {
          // The read is still served from the good copy; the scrub or audit retries the repair.
          this.log.error('integrity.repair_failed', { blob: hash, copy: copy.root, error: String(error) });
        }
      }
      return bytes;
    }
    throw cause;
  }
}

/** Resolves once `required` of `tasks` succeed; rejects as soon as that can no longer happen. */
function enough(tasks: readonly Promise<unknown>[], required: number, onFailure: (error: unknown, index: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let succeeded = 0;
    let failed = 0;
    let settled = false;
    if (required === 0) {
      settled = true;
      resolve();
    }
    tasks.forEach((task, index) => {
      task.then(
        () => {
          succeeded++;
          if (!settled && succeeded >= required) {
            settled = true;
            resolve();
          }
        },
        (error: unknown) => {
          failed++;
          onFailure(error, index);
          if (!settled && tasks.length - failed < required) {
            settled = true;
            reject(error);
          }
        },
      );
    });
  });
}
