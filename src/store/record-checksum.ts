// Invariant 3: every message record carries a checksum of its canonical form, and
// a mailbox's digest is the XOR of its records' checksums, so two copies of a
// mailbox compare in one number. XOR lets a change update the digest in O(1):
// remove the old record's checksum, add the new one.
import { createHash } from 'node:crypto';

export interface CanonicalRecord {
  mailboxId: string;
  uid: number;
  blobHash: string;
  flags: readonly string[];
  internalDate: number;
  saveDate: number;
  modseq: number;
  emailId: string;
  threadId: string;
}

export const emptyDigest = '0'.repeat(64);

export function recordChecksum(record: CanonicalRecord): string {
  const canonical = [
    'postkeep-record-v1',
    record.mailboxId,
    record.uid,
    record.blobHash,
    [...record.flags].sort().join(' '),
    record.internalDate,
    record.saveDate,
    record.modseq,
    record.emailId,
    record.threadId,
  ].join('\n');
  return createHash('sha256').update(canonical).digest('hex');
}

export function xorDigest(a: string, b: string): string {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  for (let index = 0; index < left.length; index++) left[index]! ^= right[index]!;
  return left.toString('hex');
}

/** The digest computed from scratch: what the incrementally kept one must equal. */
export function digestOf(checksums: Iterable<string>): string {
  let digest = emptyDigest;
  for (const checksum of checksums) digest = xorDigest(digest, checksum);
  return digest;
}
