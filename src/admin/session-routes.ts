// POST /session: an administrator's password + TOTP give a short-lived bearer
// token. Every refusal is the same 401, whatever the reason (the log says which).
import { verifyAdminLogin } from '../auth/admin-login.js';
import { HttpError, objectBody, stringField } from './admin-http.js';
import type { Route } from './admin-routes.js';

export const sessionRoutes: Route[] = [
  {
    method: 'POST',
    path: '/session',
    action: 'session_create',
    public: true,
    async handle({ store, log, sessions }, request) {
      const body = objectBody(request.body);
      const login = stringField(body, 'login', { maxLength: 320 })!;
      const password = stringField(body, 'password', { maxLength: 1024 })!;
      const totp = typeof body.totp === 'string' ? body.totp : '';
      const accepted = await verifyAdminLogin(store, { login, password, totp, address: request.address }, log);
      if (!accepted) throw new HttpError(401, 'login refused', { 'www-authenticate': 'Bearer realm="postkeep-admin"' });
      const session = sessions.create(login.trim().toLowerCase());
      return { status: 201, body: { token: session.token, expiresAt: session.expiresAt.toISOString() }, logFields: { actor: login.trim().toLowerCase(), login: login.trim().toLowerCase() } };
    },
  },
  {
    method: 'DELETE',
    path: '/session',
    action: 'session_end',
    async handle({ sessions }, request) {
      const ended = request.actor!.kind === 'session' && sessions.end(request.actor!.bearer);
      return { body: { ended } };
    },
  },
];
