// The interactive login of the admin API: an administrator's password, plus a TOTP
// code (or one recovery code) when the account has 2FA enabled. App passwords never
// open it. Paced and logged like every other login, with protocol 'admin'.
import type { Logger } from '../log.js';
import type { MailStore } from '../store/types.js';
import { checkLogin } from './authenticate.js';

export async function verifyAdminLogin(store: MailStore, request: { login: string; password: string; totp?: string; address: string }, log: Logger): Promise<boolean> {
  // The admin listener is TLS-only or loopback-only; the caller knows which.
  const credentials = await checkLogin(store, { login: request.login, password: request.password, protocol: 'admin', address: request.address, secure: true }, log, request.totp);
  return credentials !== null;
}
