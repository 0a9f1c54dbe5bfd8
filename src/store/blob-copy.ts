// One copy of the message bytes as integrity/ checks and repairs it: the primary, a
// mirror, the outbound queue's files. Today each is a folder of files named by
// SHA-256 (src/store/blobs/); an engine that keeps blobs elsewhere answers the same.
import type { Readable } from 'node:stream';
import type { BlobState } from './blobs/file-blob-store.js';

export type { BlobState };

export interface BlobCopy {
  /** Where this copy lives, as findings name it. */
  readonly root: string;
  /** Re-hashes the stored bytes against the name. */
  inspect(hash: string): Promise<BlobState>;
  /** The verified bytes (IntegrityError when they do not hash to the name). */
  read(hash: string): Promise<Buffer>;
  /** The bytes only if they verify; a bad or missing copy is left where it lies (null). */
  readIfGood(hash: string): Promise<Buffer | null>;
  /** The bytes as a stream, verified as they flow. */
  open(hash: string): Promise<Readable>;
  /** Moves a bad copy aside (never deletes it). */
  quarantine(hash: string): Promise<string | null>;
  /** Writes verified bytes under their name, durably. */
  restore(hash: string, bytes: Buffer): Promise<void>;
  /** Every hash this copy holds. */
  list(): AsyncIterable<string>;
  /** Partial writes that never finished, with their age. */
  temporaryFiles(): Promise<{ name: string; ageMilliseconds: number }[]>;
  removeTemporary(name: string): Promise<void>;
}
