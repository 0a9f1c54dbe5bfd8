// `postkeep log show --user X` and the admin API's login history: one account's
// entries from the security log, newest first, in a shape for people and for JSON.
import type { SecurityLogEntry, StoreAdmin } from '../store/types.js';

export interface HistoryItem {
  sequence: number;
  time: string;
  event: string;
  protocol: string | null;
  address: string | null;
  /** How the login was attempted (password, app-password, recovery-code), when known. */
  credential: string | null;
  /** Why it failed, for auth.failed. */
  reason: string | null;
  fields: Record<string, unknown>;
}

/** The events that make up a login history; `all` adds every other event about the account. */
export const loginEventPrefixes = ['auth.', 'recovery_code.'];

export async function loginHistory(admin: Pick<StoreAdmin, 'readSecurityLog'>, login: string, options: { limit: number; all?: boolean }): Promise<HistoryItem[]> {
  const entries = await admin.readSecurityLog({ login, eventPrefixes: options.all ? undefined : loginEventPrefixes, newestFirst: true, limit: options.limit });
  return entries.map(historyItem);
}

function text(value: unknown): string | null {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : null;
}

export function historyItem(entry: SecurityLogEntry): HistoryItem {
  let fields: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(entry.fields);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) fields = parsed as Record<string, unknown>;
  } catch {
    // An unreadable entry still shows its time and event; `log verify` says what is wrong with it.
  }
  return {
    sequence: entry.sequence,
    time: new Date(entry.time).toISOString(),
    event: entry.event,
    protocol: text(fields.protocol),
    address: text(fields.address),
    credential: text(fields.credential),
    reason: text(fields.reason),
    fields,
  };
}

export function formatHistoryItem(item: HistoryItem): string {
  const parts = [item.time, item.event, item.protocol ?? '-', item.address ?? '-', item.credential ?? '-'];
  if (item.reason) parts.push(`reason=${item.reason}`);
  return parts.join('\t');
}
