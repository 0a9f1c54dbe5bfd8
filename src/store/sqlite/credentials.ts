// Credentials beyond the main password (migration 3): app passwords, the TOTP
// second factor with its recovery codes, the addresses an account has logged in
// from, and the admin flag. Only hashes of app passwords and recovery codes are
// stored; auth/ decides what they are and checks them.
import { AlreadyExists, NotFound } from '../../errors.js';
import type { AppPasswordInfo, LoginCredentials, SecondFactorState } from '../types.js';
import type { StoreContext } from './context.js';

interface AppPasswordRow {
  id: number;
  name: string;
  password_hash: string;
  scopes: string;
  created_at: number;
  last_used_at: number | null;
  last_used_address: string | null;
  revoked_at: number | null;
}

interface SecondFactorRow {
  totp_secret: string;
  created_at: number;
  enabled_at: number | null;
  last_used_step: number | null;
}

/** How many source addresses are remembered per account; the oldest are forgotten first. */
const knownSourcesPerAccount = 100;

function accountId(context: StoreContext, login: string): number {
  const row = context.ledger.sql('SELECT id FROM accounts WHERE login = ?').get(login.trim()) as { id: number } | undefined;
  if (!row) throw new NotFound(`there is no account ${JSON.stringify(login)}`);
  return row.id;
}

function scopesOf(text: string): string[] {
  return text.split(',').filter((scope) => scope !== '');
}

function appPasswordInfo(row: AppPasswordRow): AppPasswordInfo {
  return {
    id: row.id,
    name: row.name,
    scopes: scopesOf(row.scopes),
    createdAt: new Date(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : new Date(row.last_used_at),
    lastUsedAddress: row.last_used_address,
    revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at),
  };
}

export function getLoginCredentials(context: StoreContext, login: string): LoginCredentials | null {
  const account = context.ledger.sql('SELECT id, login, password_hash, is_admin FROM accounts WHERE login = ?').get(login.trim()) as
    | { id: number; login: string; password_hash: string; is_admin: number }
    | undefined;
  if (!account) return null;
  const factor = context.ledger.sql('SELECT enabled_at FROM second_factors WHERE account_id = ?').get(account.id) as { enabled_at: number | null } | undefined;
  const appPasswords = context.ledger.sql('SELECT * FROM app_passwords WHERE account_id = ? ORDER BY id').all(account.id) as AppPasswordRow[];
  return {
    login: account.login,
    passwordHash: account.password_hash,
    isAdmin: account.is_admin === 1,
    secondFactorEnabled: factor?.enabled_at != null,
    appPasswords: appPasswords.map((row) => ({ id: row.id, name: row.name, passwordHash: row.password_hash, scopes: scopesOf(row.scopes), revoked: row.revoked_at !== null })),
  };
}

export function recordLogin(context: StoreContext, login: string, use: { address: string; appPasswordId?: number; time: Date }): Promise<void> {
  return context.write(() => {
    const id = accountId(context, login);
    const time = use.time.getTime();
    context.ledger
      .sql('INSERT INTO known_login_sources (account_id, address, last_success_at) VALUES (?, ?, ?) ON CONFLICT (account_id, address) DO UPDATE SET last_success_at = excluded.last_success_at')
      .run(id, use.address, time);
    // Bounded per account, so a roaming client cannot grow the table without end.
    context.ledger
      .sql('DELETE FROM known_login_sources WHERE account_id = ? AND address NOT IN (SELECT address FROM known_login_sources WHERE account_id = ? ORDER BY last_success_at DESC LIMIT ?)')
      .run(id, id, knownSourcesPerAccount);
    if (use.appPasswordId !== undefined) {
      context.ledger.sql('UPDATE app_passwords SET last_used_at = ?, last_used_address = ? WHERE id = ? AND account_id = ?').run(time, use.address, use.appPasswordId, id);
    }
  });
}

export function isKnownLoginSource(context: StoreContext, login: string, address: string): boolean {
  return (
    context.ledger
      .sql('SELECT 1 FROM known_login_sources JOIN accounts ON accounts.id = known_login_sources.account_id WHERE accounts.login = ? AND known_login_sources.address = ?')
      .get(login.trim(), address) !== undefined
  );
}

export function addAppPassword(context: StoreContext, login: string, draft: { name: string; passwordHash: string; scopes: readonly string[] }): Promise<AppPasswordInfo> {
  return context.write(() => {
    const id = accountId(context, login);
    const row = context.ledger
      .sql('INSERT INTO app_passwords (account_id, name, password_hash, scopes, created_at) VALUES (?, ?, ?, ?, ?) RETURNING *')
      .get(id, draft.name, draft.passwordHash, draft.scopes.join(','), Date.now()) as AppPasswordRow;
    return appPasswordInfo(row);
  });
}

export function listAppPasswords(context: StoreContext, login: string): AppPasswordInfo[] {
  const id = accountId(context, login);
  return (context.ledger.sql('SELECT * FROM app_passwords WHERE account_id = ? ORDER BY id').all(id) as AppPasswordRow[]).map(appPasswordInfo);
}

export function revokeAppPassword(context: StoreContext, login: string, appPasswordId: number): Promise<AppPasswordInfo | null> {
  return context.write(() => {
    const id = accountId(context, login);
    const row = context.ledger
      .sql('UPDATE app_passwords SET revoked_at = ? WHERE id = ? AND account_id = ? AND revoked_at IS NULL RETURNING *')
      .get(Date.now(), appPasswordId, id) as AppPasswordRow | undefined;
    return row ? appPasswordInfo(row) : null;
  });
}

export function getSecondFactor(context: StoreContext, login: string): SecondFactorState | null {
  const id = accountId(context, login);
  const row = context.ledger.sql('SELECT * FROM second_factors WHERE account_id = ?').get(id) as SecondFactorRow | undefined;
  if (!row) return null;
  const codes = context.ledger.sql('SELECT count(*) AS count FROM recovery_codes WHERE account_id = ? AND used_at IS NULL').get(id) as { count: number };
  return {
    secret: row.totp_secret,
    createdAt: new Date(row.created_at),
    enabledAt: row.enabled_at === null ? null : new Date(row.enabled_at),
    lastUsedStep: row.last_used_step,
    unusedRecoveryCodes: codes.count,
  };
}

export function beginSecondFactor(context: StoreContext, login: string, secret: string): Promise<void> {
  return context.write(() => {
    const id = accountId(context, login);
    const existing = context.ledger.sql('SELECT enabled_at FROM second_factors WHERE account_id = ?').get(id) as { enabled_at: number | null } | undefined;
    if (existing?.enabled_at != null) throw new AlreadyExists(`${login} already has two-factor authentication enabled; disable it first`);
    context.ledger
      .sql('INSERT INTO second_factors (account_id, totp_secret, created_at) VALUES (?, ?, ?) ON CONFLICT (account_id) DO UPDATE SET totp_secret = excluded.totp_secret, created_at = excluded.created_at, enabled_at = NULL, last_used_step = NULL')
      .run(id, secret, Date.now());
  });
}

export function enableSecondFactor(context: StoreContext, login: string, step: number, recoveryCodeHashes: readonly string[]): Promise<void> {
  return context.write(() => {
    const id = accountId(context, login);
    const result = context.ledger.sql('UPDATE second_factors SET enabled_at = ?, last_used_step = ? WHERE account_id = ? AND enabled_at IS NULL').run(Date.now(), step, id);
    if (result.changes === 0) throw new NotFound(`${login} has no two-factor enrolment waiting for confirmation`);
    context.ledger.sql('DELETE FROM recovery_codes WHERE account_id = ?').run(id);
    const insert = context.ledger.sql('INSERT INTO recovery_codes (account_id, code_hash) VALUES (?, ?)');
    for (const hash of recoveryCodeHashes) insert.run(id, hash);
  });
}

export function claimSecondFactorStep(context: StoreContext, login: string, step: number): Promise<boolean> {
  return context.write(() => {
    const id = accountId(context, login);
    // One statement, so two logins racing with the same code cannot both win.
    const result = context.ledger
      .sql('UPDATE second_factors SET last_used_step = ? WHERE account_id = ? AND enabled_at IS NOT NULL AND (last_used_step IS NULL OR last_used_step < ?)')
      .run(step, id, step);
    return result.changes === 1;
  });
}

export function removeSecondFactor(context: StoreContext, login: string): Promise<boolean> {
  return context.write(() => {
    const id = accountId(context, login);
    context.ledger.sql('DELETE FROM recovery_codes WHERE account_id = ?').run(id);
    return context.ledger.sql('DELETE FROM second_factors WHERE account_id = ?').run(id).changes === 1;
  });
}

export function useRecoveryCode(context: StoreContext, login: string, codeHash: string): Promise<boolean> {
  return context.write(() => {
    const id = accountId(context, login);
    const row = context.ledger.sql('SELECT id FROM recovery_codes WHERE account_id = ? AND code_hash = ? AND used_at IS NULL LIMIT 1').get(id, codeHash) as { id: number } | undefined;
    if (!row) return false;
    context.ledger.sql('UPDATE recovery_codes SET used_at = ? WHERE id = ?').run(Date.now(), row.id);
    return true;
  });
}

export function setAdmin(context: StoreContext, login: string, isAdmin: boolean): Promise<void> {
  return context.write(() => {
    const id = accountId(context, login);
    context.ledger.sql('UPDATE accounts SET is_admin = ? WHERE id = ?').run(isAdmin ? 1 : 0, id);
  });
}
