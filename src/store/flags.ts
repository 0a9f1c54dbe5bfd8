// Flag names as the store keeps them: system flags in their RFC spelling,
// keywords as given, case-insensitively unique, sorted (RFC 9051 §2.3.2).
import { InvalidInput } from '../errors.js';

const systemFlags = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'];
const systemByLowerCase = new Map(systemFlags.map((flag) => [flag.toLowerCase(), flag]));

// RFC 9051 §9: flag-keyword is an atom; atom-specials are ( ) { SP CTL % * " \ ]
const keywordPattern = /^[^\x00-\x20\x7f(){%*"\\\]]{1,250}$/;

export function normalizeFlags(flags: Iterable<string>): string[] {
  const byLowerCase = new Map<string, string>();
  for (const flag of flags) {
    const lower = flag.toLowerCase();
    if (flag.startsWith('\\')) {
      const system = systemByLowerCase.get(lower);
      // \Recent is session state, never stored (RFC 9051 removed it entirely).
      if (!system) throw new InvalidInput(`${flag} is not a flag that can be stored`);
      byLowerCase.set(lower, system);
    } else {
      if (!keywordPattern.test(flag)) throw new InvalidInput(`${JSON.stringify(flag)} is not a valid keyword`);
      if (!byLowerCase.has(lower)) byLowerCase.set(lower, flag);
    }
  }
  return [...byLowerCase.values()].sort();
}

export function encodeFlags(flags: readonly string[]): string {
  return flags.join(' ');
}

export function decodeFlags(text: string): string[] {
  return text === '' ? [] : text.split(' ');
}

export function applyFlagUpdate(current: readonly string[], mode: 'add' | 'remove' | 'replace', change: readonly string[]): string[] {
  if (mode === 'replace') return [...change];
  const lower = new Set(change.map((flag) => flag.toLowerCase()));
  if (mode === 'remove') return current.filter((flag) => !lower.has(flag.toLowerCase()));
  return normalizeFlags([...current, ...change]);
}
