// Message identifiers for threading (RFC 5322 §3.6.4, RFC 5256 §2.2):
// Message-ID, In-Reply-To and References hold msg-ids `<left@right>`.
// Broken mailers write them without brackets; those are kept when they look like left@right.

const MAX_IDENTIFIERS = 1_000;

export function parseMessageIds(value: string | null): string[] {
  if (value === null) return [];
  const withoutComments = value.replace(/\([^()]*\)/g, ' ');
  const bracketed = withoutComments.match(/<[^<>\s]*>/g);
  const found = bracketed ?? (withoutComments.match(/[^\s<>,;"()]+@[^\s<>,;"()]+/g) ?? []).map((id) => `<${id}>`);
  const result: string[] = [];
  for (const id of found) {
    if (id.length > 2 && !result.includes(id)) result.push(id);
    if (result.length >= MAX_IDENTIFIERS) break;
  }
  return result;
}

export function parseMessageId(value: string | null): string | null {
  return parseMessageIds(value)[0] ?? null;
}
