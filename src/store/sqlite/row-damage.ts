// What a damaged page can leave in a row: any value in any column (NULL where the
// schema says NOT NULL, text where it says INTEGER, a number out of range, a hash
// that is not hex, JSON that does not parse), since the bytes were never written
// through SQLite. Audit checks each row with these before computing anything from
// it, so a damaged value becomes a finding that names it, never an exception.
import type { MessageRow } from './rows.js';

const sha256Hex = /^[0-9a-f]{64}$/;
/** RFC 9051 §2.3.1.1: UIDs and UIDVALIDITY are non-zero 32-bit unsigned numbers. */
const largestUid = 0xffff_ffff;
/** The largest time a JavaScript Date holds (ECMA-262 §21.4.1.1), in milliseconds. */
const largestTime = 8.64e15;

type Rule = (value: unknown) => string | null;

/** A readable rendering of a damaged value, short enough for a report line. */
function shown(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'string') return JSON.stringify(value.length > 24 ? `${value.slice(0, 24)}…` : value);
  if (Buffer.isBuffer(value)) return `a ${value.length}-byte blob`;
  return String(value);
}

const integer = (low: number, high: number): Rule => (value) => {
  if (typeof value === 'bigint') return `${shown(value)} (out of range)`;
  if (typeof value !== 'number' || !Number.isInteger(value)) return `${shown(value)} (not an integer)`;
  if (value < low || value > high) return `${value} (out of range ${low}…${high})`;
  return null;
};
const optionalInteger = (low: number, high: number): Rule => (value) => (value === null ? null : integer(low, high)(value));
const text: Rule = (value) => (typeof value === 'string' ? null : `${shown(value)} (not text)`);
const nonEmptyText: Rule = (value) => (typeof value === 'string' && value.length > 0 ? null : `${shown(value)} (not a non-empty text)`);
const hash: Rule = (value) => (typeof value === 'string' && sha256Hex.test(value) ? null : `${shown(value)} (not a SHA-256 in hex)`);
const json: Rule = (value) => {
  if (typeof value !== 'string') return `${shown(value)} (not text)`;
  try {
    const parsed: unknown = JSON.parse(value);
    return parsed !== null && typeof parsed === 'object' ? null : `${shown(value)} (not a JSON object)`;
  } catch {
    return `${shown(value)} (not JSON)`;
  }
};

const safe = Number.MAX_SAFE_INTEGER;

const messageRules: Record<string, Rule> = {
  mailbox_id: integer(1, safe),
  uid: integer(1, largestUid),
  blob_hash: hash,
  size: integer(0, safe),
  internal_date: integer(-largestTime, largestTime),
  save_date: integer(-largestTime, largestTime),
  flags: text,
  modseq: integer(1, safe),
  email_id: nonEmptyText,
  thread_id: nonEmptyText,
  checksum: hash,
};

const mailboxRules: Record<string, Rule> = {
  id: integer(1, safe),
  account_id: integer(1, safe),
  object_id: nonEmptyText,
  name: nonEmptyText,
  uidvalidity: integer(1, largestUid),
  uidnext: integer(1, largestUid + 1),
  highest_modseq: integer(0, safe),
  message_count: integer(0, safe),
  total_size: integer(0, safe),
  digest: hash,
};

const accountRules: Record<string, Rule> = {
  id: integer(1, safe),
  login: nonEmptyText,
  quota_bytes: optionalInteger(0, safe),
  quota_messages: optionalInteger(0, safe),
  used_bytes: integer(-safe, safe),
  used_messages: integer(-safe, safe),
  highest_modseq: integer(0, safe),
};

const blobRules: Record<string, Rule> = {
  hash,
  size: integer(0, safe),
  refcount: integer(-safe, safe),
  structure: json,
  created_at: integer(-largestTime, largestTime),
};

const expungedRules: Record<string, Rule> = {
  id: integer(1, safe),
  account_id: integer(1, safe),
  uid: integer(1, largestUid),
  blob_hash: hash,
  size: integer(0, safe),
  expunged_at: integer(-largestTime, largestTime),
};

function damageOf(rules: Record<string, Rule>, row: object): string | null {
  const problems: string[] = [];
  for (const [column, rule] of Object.entries(rules)) {
    const problem = rule((row as Record<string, unknown>)[column]);
    if (problem) problems.push(`${column} is ${problem}`);
  }
  return problems.length === 0 ? null : problems.join(', ');
}

/** Null when every column of a messages row holds a value of its kind, else what is wrong. */
export const messageRowDamage = (row: object): string | null => damageOf(messageRules, row);
export const mailboxRowDamage = (row: object): string | null => damageOf(mailboxRules, row);
export const accountRowDamage = (row: object): string | null => damageOf(accountRules, row);
export const blobRowDamage = (row: object): string | null => damageOf(blobRules, row);
export const expungedRowDamage = (row: object): string | null => damageOf(expungedRules, row);

export { isBlobHash } from '../blob-hash.js';

/** A message row that passed `messageRowDamage`, typed as what the schema promises. */
export function isWellFormedMessage(row: object): row is MessageRow {
  return messageRowDamage(row) === null;
}
