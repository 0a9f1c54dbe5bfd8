// Admin API tokens: only their SHA-256 is stored, so a copy of the database does
// not hand out admin access.
import { timingSafeEqual } from 'node:crypto';
import { AlreadyExists } from '../../errors.js';
import type { AdminTokenInfo } from '../types.js';
import type { StoreContext } from './context.js';

interface AdminTokenRow {
  id: number;
  name: string;
  token_hash: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

function fromRow(row: AdminTokenRow): AdminTokenInfo {
  return {
    id: row.id,
    name: row.name,
    createdAt: new Date(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : new Date(row.last_used_at),
    revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at),
  };
}

export async function createAdminToken(context: StoreContext, name: string, tokenHash: string): Promise<AdminTokenInfo> {
  return context.write(() => {
    // Names are how an admin revokes a token: two active ones of one name are ambiguous.
    if (context.ledger.sql('SELECT 1 FROM admin_tokens WHERE name = ? AND revoked_at IS NULL').get(name)) {
      throw new AlreadyExists(`an active admin token is already named ${JSON.stringify(name)}; revoke it or choose another name`);
    }
    const row = context.ledger.sql('INSERT INTO admin_tokens (name, token_hash, created_at) VALUES (?, ?, ?) RETURNING *').get(name, tokenHash, Date.now()) as AdminTokenRow;
    return fromRow(row);
  });
}

export function listAdminTokens(context: StoreContext): AdminTokenInfo[] {
  return (context.ledger.sql('SELECT * FROM admin_tokens ORDER BY id').all() as AdminTokenRow[]).map(fromRow);
}

export async function revokeAdminToken(context: StoreContext, idOrName: string): Promise<boolean> {
  const byId = /^[0-9]+$/.test(idOrName);
  return context.write(() => {
    const result = context.ledger
      .sql(`UPDATE admin_tokens SET revoked_at = ? WHERE ${byId ? 'id = ?' : 'name = ?'} AND revoked_at IS NULL`)
      .run(Date.now(), byId ? Number(idOrName) : idOrName);
    return result.changes > 0;
  });
}

export async function useAdminToken(context: StoreContext, tokenHash: string): Promise<AdminTokenInfo | null> {
  const row = context.ledger.sql('SELECT * FROM admin_tokens WHERE token_hash = ?').get(tokenHash) as AdminTokenRow | undefined;
  // The lookup is by hash (an index); the final comparison is constant-time anyway.
  if (!row || row.revoked_at !== null || !sameHash(row.token_hash, tokenHash)) return null;
  const now = Date.now();
  // Recording the use need not wait for a full group commit before answering.
  void context.write(() => context.ledger.sql('UPDATE admin_tokens SET last_used_at = ? WHERE id = ?').run(now, row.id)).catch(() => {});
  return fromRow({ ...row, last_used_at: now });
}

function sameHash(stored: string, given: string): boolean {
  const a = Buffer.from(stored, 'hex');
  const b = Buffer.from(given, 'hex');
  return a.length === b.length && a.length > 0 && timingSafeEqual(a, b);
}
