// App passwords: one generated password per device, limited to the protocols in
// its scopes, revocable one by one. The password is shown once; only its SHA-256
// is stored (see secret-code.ts for why a fast hash is enough here).
import { InvalidInput, NotFound } from '../errors.js';
import type { Logger } from '../log.js';
import type { AppPasswordInfo, MailStore } from '../store/types.js';
import { generateSecretCode, hashSecretCode } from './secret-code.js';

/** The protocols an app password can open. The admin API never takes one. */
export const appPasswordScopes = ['imap', 'smtp'] as const;
export type AppPasswordScope = (typeof appPasswordScopes)[number];

export function parseScopes(text: string | readonly string[]): AppPasswordScope[] {
  const items = (typeof text === 'string' ? text.split(',') : text).map((scope) => scope.trim().toLowerCase()).filter((scope) => scope !== '');
  if (items.length === 0) throw new InvalidInput(`give at least one scope (${appPasswordScopes.join(', ')})`);
  for (const scope of items) {
    if (!(appPasswordScopes as readonly string[]).includes(scope)) throw new InvalidInput(`unknown scope ${JSON.stringify(scope)}: use ${appPasswordScopes.join(', ')}`);
  }
  return appPasswordScopes.filter((scope) => items.includes(scope));
}

export async function createAppPassword(store: MailStore, login: string, options: { name: string; scopes: string | readonly string[] }, log: Logger): Promise<{ id: number; password: string; info: AppPasswordInfo }> {
  const name = options.name.trim();
  if (name === '' || name.length > 100 || /[\x00-\x1f\x7f]/.test(name)) throw new InvalidInput('an app password needs a name of 1 to 100 printable characters');
  const scopes = parseScopes(options.scopes);
  const password = generateSecretCode();
  const info = await store.admin.addAppPassword(login, { name, passwordHash: hashSecretCode(password), scopes });
  log.info('app_password.created', { login: login.trim().toLowerCase(), id: info.id, name, scopes });
  return { id: info.id, password, info };
}

export function listAppPasswords(store: MailStore, login: string): Promise<AppPasswordInfo[]> {
  return store.admin.listAppPasswords(login);
}

export async function revokeAppPassword(store: MailStore, login: string, id: number, log: Logger): Promise<AppPasswordInfo> {
  const revoked = await store.admin.revokeAppPassword(login, id);
  if (!revoked) throw new NotFound(`${login} has no active app password ${id}`);
  log.info('app_password.revoked', { login: login.trim().toLowerCase(), id, name: revoked.name });
  return revoked;
}
