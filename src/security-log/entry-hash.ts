// The hash chain of the security log: each entry's hash covers its own fields and
// the previous entry's hash, so changing, removing or moving any entry changes
// every hash after it. Pure functions, shared by the store (which seals entries
// inside the appending transaction) and `postkeep log verify` (which recomputes).
import { createHash } from 'node:crypto';

/** The previous_hash of the first entry: a fixed value, so a log cannot start in the middle. */
export const genesisHash = '0'.repeat(64);

export interface EntryContent {
  sequence: number;
  /** Milliseconds since the epoch. */
  time: number;
  event: string;
  login: string | null;
  /** The fields as canonical JSON text (see canonicalJson); hashed byte for byte. */
  fields: string;
  previousHash: string;
}

/** SHA-256 (hex) over the entry; a JSON array keeps the parts unambiguous. */
export function entryHash(entry: EntryContent): string {
  const material = JSON.stringify([entry.sequence, entry.time, entry.event, entry.login, entry.fields, entry.previousHash]);
  return createHash('sha256').update(material, 'utf8').digest('hex');
}

/** JSON with object keys sorted at every depth, so equal fields always give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === 'object') {
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const inner = (value as Record<string, unknown>)[key];
      if (inner !== undefined) sorted[key] = sortKeys(inner);
    }
    return sorted;
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}
