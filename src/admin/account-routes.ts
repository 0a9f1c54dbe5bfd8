// Accounts, their app passwords, their second factor and their login history.
import { createAppPassword, listAppPasswords, revokeAppPassword } from '../auth/app-passwords.js';
import { hashPassword } from '../auth/password.js';
import { resetSecondFactor } from '../auth/second-factor.js';
import { loginHistory } from '../security-log/login-history.js';
import { HttpError, limitField, objectBody, stringField } from './admin-http.js';
import { positiveId, type Route } from './admin-routes.js';

/** A new password must be worth hashing; the upper bound keeps argon2's input sane. */
function newPassword(body: Record<string, unknown>): string {
  const password = stringField(body, 'password', { maxLength: 1024 })!;
  if (password.length < 8) throw new HttpError(400, '"password" must be at least 8 characters');
  return password;
}

export const accountRoutes: Route[] = [
  {
    method: 'GET',
    path: '/accounts',
    action: 'account_list',
    async handle({ store }) {
      return { body: { accounts: await store.admin.listAccounts() } };
    },
  },
  {
    method: 'POST',
    path: '/accounts',
    action: 'account_create',
    async handle({ store, log }, request) {
      const body = objectBody(request.body);
      const login = stringField(body, 'login', { maxLength: 320 })!;
      const passwordHash = await hashPassword(newPassword(body));
      await store.admin.addAccount(login, passwordHash, { quotaBytes: limitField(body, 'quotaBytes') ?? null, quotaMessages: limitField(body, 'quotaMessages') ?? null });
      const created = (await store.admin.listAccounts()).find((account) => account.login === login.trim().toLowerCase() || account.login === login.trim());
      log.info('account.created', { login: (created?.login ?? login).toLowerCase(), protocol: 'admin', actor: request.actor!.name });
      return { status: 201, body: { account: created ?? { login } }, logFields: { login: (created?.login ?? login).toLowerCase() } };
    },
  },
  {
    method: 'DELETE',
    path: '/accounts/:login',
    action: 'account_delete',
    async handle({ store, log }, request) {
      const login = request.params.login!;
      await store.admin.deleteAccount(login);
      log.info('account.deleted', { login: login.toLowerCase(), protocol: 'admin', actor: request.actor!.name });
      return { body: { deleted: login } };
    },
  },
  {
    method: 'PUT',
    path: '/accounts/:login/password',
    action: 'password_set',
    async handle({ store, log }, request) {
      const login = request.params.login!;
      const passwordHash = await hashPassword(newPassword(objectBody(request.body)));
      await store.admin.setPasswordHash(login, passwordHash);
      log.info('account.password_changed', { login: login.toLowerCase(), protocol: 'admin', actor: request.actor!.name });
      return { body: { changed: login } };
    },
  },
  {
    method: 'PUT',
    path: '/accounts/:login/quota',
    action: 'quota_set',
    async handle({ store }, request) {
      const body = objectBody(request.body);
      const quotaBytes = limitField(body, 'quotaBytes');
      const quotaMessages = limitField(body, 'quotaMessages');
      if (!('quotaBytes' in body) && !('quotaMessages' in body)) throw new HttpError(400, 'give "quotaBytes" and/or "quotaMessages" (null removes a limit)');
      await store.admin.setQuota(request.params.login!, { quotaBytes, quotaMessages });
      return { body: { changed: request.params.login }, logFields: { quotaBytes, quotaMessages } };
    },
  },
  {
    method: 'GET',
    path: '/accounts/:login/app-passwords',
    action: 'app_password_list',
    async handle({ store }, request) {
      return { body: { appPasswords: await listAppPasswords(store, request.params.login!) } };
    },
  },
  {
    method: 'POST',
    path: '/accounts/:login/app-passwords',
    action: 'app_password_create',
    async handle({ store, log }, request) {
      const body = objectBody(request.body);
      const name = stringField(body, 'name', { maxLength: 100 })!;
      const scopes = body.scopes;
      if (typeof scopes !== 'string' && !(Array.isArray(scopes) && scopes.every((scope) => typeof scope === 'string'))) {
        throw new HttpError(400, '"scopes" must be a list of protocols, e.g. ["imap", "smtp"]');
      }
      const created = await createAppPassword(store, request.params.login!, { name, scopes: scopes as string | string[] }, log);
      // The password is in this answer only; it is never logged.
      return { status: 201, body: { id: created.id, password: created.password, appPassword: created.info }, logFields: { id: created.id, name } };
    },
  },
  {
    method: 'DELETE',
    path: '/accounts/:login/app-passwords/:id',
    action: 'app_password_revoke',
    async handle({ store, log }, request) {
      const id = positiveId(request.params.id!, 'an app password id');
      const revoked = await revokeAppPassword(store, request.params.login!, id, log);
      return { body: { revoked: revoked }, logFields: { id } };
    },
  },
  {
    method: 'DELETE',
    path: '/accounts/:login/second-factor',
    action: 'second_factor_reset',
    async handle({ store, log }, request) {
      await resetSecondFactor(store, request.params.login!, log);
      return { body: { reset: request.params.login } };
    },
  },
  {
    method: 'GET',
    path: '/accounts/:login/logins',
    action: 'login_history_read',
    async handle({ store }, request) {
      const limitText = request.query.get('limit') ?? '50';
      const limit = positiveId(limitText, 'a limit');
      if (limit > 1000) throw new HttpError(400, 'the limit is at most 1000');
      const all = request.query.get('all') === 'true';
      return { body: { logins: await loginHistory(store.admin, request.params.login!, { limit, all }) } };
    },
  },
];
