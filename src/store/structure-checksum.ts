// Invariant 2 for what is derived from a message and stored beside its blob: the
// parsed structure (envelope, body structure, part byte ranges, line counts, header
// index) and the blob's size carry a checksum, checked on every read, so a flipped
// bit in them is caught like a flipped bit in the message itself.
import { createHash } from 'node:crypto';

/**
 * SHA-256 over the blob's hash, its size and the structure exactly as stored (what
 * is read is what is checked, with no re-serialisation in between). Keyed with the
 * blob hash, so a structure or size that ends up on another blob's row fails too.
 */
export function structureChecksum(blobHash: string, size: number, structureText: string): string {
  return createHash('sha256').update(`postkeep-structure-v1\n${blobHash}\n${size}\n`).update(structureText, 'utf8').digest('hex');
}
