// Mailbox names as the store accepts them: `/` separates levels, INBOX is
// case-insensitive (RFC 9051 §5.1), and nothing that could confuse a path or a
// protocol gets in.
import { InvalidInput } from '../errors.js';

export const separator = '/';
const maximumLength = 1000;
const maximumDepth = 32;

export function normalizeMailboxName(name: string): string {
  if (name.length === 0) throw new InvalidInput('a mailbox name cannot be empty');
  if (Buffer.byteLength(name) > maximumLength) throw new InvalidInput(`a mailbox name is limited to ${maximumLength} bytes`);
  // Control characters have no place in a name a user reads.
  if (/[\x00-\x1f\x7f]/.test(name)) throw new InvalidInput('a mailbox name cannot contain control characters');
  const levels = name.split(separator);
  if (levels.some((level) => level === '')) throw new InvalidInput(`${JSON.stringify(name)} has an empty level (leading, trailing or doubled "${separator}")`);
  if (levels.length > maximumDepth) throw new InvalidInput(`a mailbox name is limited to ${maximumDepth} levels`);
  if (levels[0]!.toUpperCase() === 'INBOX') levels[0] = 'INBOX';
  return levels.join(separator);
}

/** The superior names of `name`, outermost first: a/b/c → a, a/b. */
export function parentNames(name: string): string[] {
  const levels = name.split(separator);
  return levels.slice(0, -1).map((_, index) => levels.slice(0, index + 1).join(separator));
}

export const specialUses = ['\\All', '\\Archive', '\\Drafts', '\\Flagged', '\\Junk', '\\Sent', '\\Trash'] as const;

export function normalizeSpecialUse(value: string): string {
  const match = specialUses.find((use) => use.toLowerCase() === value.toLowerCase());
  if (!match) throw new InvalidInput(`${value} is not a special-use attribute (RFC 6154)`);
  return match;
}

/** What a new account starts with (RFC 6154 attributes), all subscribed. */
export const defaultMailboxes: readonly { name: string; specialUse: string | null }[] = [
  { name: 'INBOX', specialUse: null },
  { name: 'Sent', specialUse: '\\Sent' },
  { name: 'Drafts', specialUse: '\\Drafts' },
  { name: 'Trash', specialUse: '\\Trash' },
  { name: 'Junk', specialUse: '\\Junk' },
  { name: 'Archive', specialUse: '\\Archive' },
];
