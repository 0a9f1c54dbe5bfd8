// Login: the one way protocol code gets an AccountStore handle (DESIGN.md
// invariant 5). It paces failures (pacing.ts), tries the account's app passwords
// (scoped per protocol), then the main password (argon2id or an imported scheme,
// rehashed to argon2id on success), which 2FA takes away from IMAP and SMTP. Every
// outcome is logged as auth.succeeded / auth.failed with its reason; the caller
// answers every failure the same way. An unknown user costs the same argon2 work as
// a wrong password, so the answer's timing does not tell which accounts exist.
// Every argon2 run waits for a slot (hash-limiter.ts); when too many wait, the
// attempt is refused with PasswordCheckBusy (logged auth.busy), which protocols
// answer as a temporary failure, not as a wrong password, and pacing does not count.
import { randomBytes } from 'node:crypto';
import { PasswordCheckBusy } from '../errors.js';
import type { Logger } from '../log.js';
import type { AccountStore, LoginCredentials, MailStore } from '../store/types.js';
import { loginPacingFor } from './pacing.js';
import { hashPassword, needsRehash, verifyPassword } from './password.js';
import { hashSecretCode, sameHash } from './secret-code.js';
import { verifySecondFactor } from './second-factor.js';

export type LoginProtocol = 'imap' | 'smtp' | 'admin';
export type FailureReason = 'unknown-user' | 'wrong-password' | 'scope' | 'second-factor-enabled' | 'revoked' | 'locked' | 'malformed';
export type CredentialKind = 'password' | 'app-password' | 'recovery-code';

export interface LoginRequest {
  login: string;
  password: string;
  protocol: LoginProtocol;
  /** The client's IP address. */
  address: string;
  /** Whether the connection is encrypted (logged; the protocols refuse plaintext logins before this). */
  secure: boolean;
}

/** Longest login and password taken seriously; longer ones are malformed, not hashed. */
const maximumLoginLength = 320;
const maximumPasswordLength = 1024;

let decoyHash: Promise<string> | undefined;

/** A hash with the current parameters of a password nobody knows, made once per process. */
function decoy(): Promise<string> {
  // A refused first attempt (the hash limiter was full) must not be remembered as the decoy.
  decoyHash ??= hashPassword(randomBytes(24).toString('base64')).catch((error: unknown) => {
    decoyHash = undefined;
    throw error;
  });
  return decoyHash;
}

/** Starts making the decoy hash now, so the first unknown user is not slower than the rest. */
export function prepareAuthentication(): Promise<void> {
  return decoy().then(() => undefined);
}

interface Verified {
  credentials: LoginCredentials;
  credential: CredentialKind;
  appPassword?: { id: number; name: string };
}

type Check = Verified | { reason: FailureReason };

async function checkCredentials(store: MailStore, credentials: LoginCredentials | null, request: LoginRequest, secondFactor: string | undefined, log: Logger): Promise<Check> {
  if (!credentials) {
    await verifyPassword(await decoy(), request.password);
    return { reason: 'unknown-user' };
  }
  // App passwords first: a SHA-256 each, microseconds (secret-code.ts says why that is enough).
  const candidate = hashSecretCode(request.password);
  const appPassword = credentials.appPasswords.find((entry) => sameHash(entry.passwordHash, candidate));
  if (appPassword) {
    // A refused app password costs what a wrong password costs, so timing does not
    // tell whoever holds an old one that it was revoked or is out of scope.
    const refused: FailureReason | null = appPassword.revoked ? 'revoked' : appPassword.scopes.includes(request.protocol) ? null : 'scope';
    if (refused) {
      await verifyPassword(await decoy(), request.password);
      return { reason: refused };
    }
    return { credentials, credential: 'app-password', appPassword: { id: appPassword.id, name: appPassword.name } };
  }
  if (!(await verifyPassword(credentials.passwordHash, request.password))) return { reason: 'wrong-password' };
  if (request.protocol === 'admin') {
    // The admin API: only administrators, and with their second factor when they have one.
    if (!credentials.isAdmin) return { reason: 'scope' };
    if (!credentials.secondFactorEnabled) return { credentials, credential: 'password' };
    const code = secondFactor?.trim() ?? '';
    if (code === '' || !(await verifySecondFactor(store, credentials.login, code, log))) return { reason: 'second-factor-enabled' };
    return { credentials, credential: /^\d{6}$/.test(code) ? 'password' : 'recovery-code' };
  }
  // With 2FA on, IMAP and SMTP (which cannot ask for a code) take app passwords only.
  if (credentials.secondFactorEnabled) return { reason: 'second-factor-enabled' };
  return { credentials, credential: 'password' };
}

/** The address as logged and remembered: IPv4 clients of a dual-stack listener without their ::ffff: prefix. */
function clientAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** The shared login path of `authenticate` and `verifyAdminLogin`. */
export async function checkLogin(store: MailStore, request: LoginRequest, log: Logger, secondFactor?: string): Promise<LoginCredentials | null> {
  const pacing = loginPacingFor(store);
  const given = request.login.trim();
  const login = given.toLowerCase().slice(0, 200);
  const address = clientAddress(request.address);
  const base = { login, protocol: request.protocol, address, secure: request.secure };
  const fail = async (reason: FailureReason, known: boolean, locked = false): Promise<null> => {
    const outcome = pacing.recordFailure(login, address, { known, locked });
    if (outcome.lockedUntil !== null) log.warn('auth.locked', { login, address, untilTime: new Date(outcome.lockedUntil).toISOString() });
    log.warn('auth.failed', { ...base, reason });
    if (outcome.delayMilliseconds > 0) await new Promise((resolve) => setTimeout(resolve, outcome.delayMilliseconds).unref());
    return null;
  };

  if (given === '' || given.length > maximumLoginLength || request.password === '' || request.password.length > maximumPasswordLength || /[\x00-\x1f]/.test(given)) {
    return fail('malformed', false);
  }
  const credentials = await store.admin.getLoginCredentials(given);
  const known = credentials !== null && (await store.admin.isKnownLoginSource(credentials.login, address));
  const admission = await pacing.admit(login, address, known);
  if (admission.locked) return fail('locked', known, true);

  let check: Check;
  try {
    check = await checkCredentials(store, credentials, request, secondFactor, log);
  } catch (error) {
    // No password was checked, so nothing is learnt and no failure is counted.
    if (error instanceof PasswordCheckBusy) log.warn('auth.busy', base);
    throw error;
  }
  if ('reason' in check) return fail(check.reason, known);

  pacing.recordSuccess(login, address);
  const account = check.credentials;
  if (check.credential !== 'app-password' && needsRehash(account.passwordHash)) {
    // A hash with older parameters or an imported scheme is upgraded at the first successful login,
    // or at a later one when the hash limiter is full now: the login itself has succeeded.
    const from = account.passwordHash.startsWith('{') ? account.passwordHash.slice(1, account.passwordHash.indexOf('}')) : 'ARGON2ID';
    try {
      await store.admin.setPasswordHash(account.login, await hashPassword(request.password));
      log.info('auth.rehashed', { login, from });
    } catch (error) {
      if (!(error instanceof PasswordCheckBusy)) throw error;
      log.info('auth.rehash_deferred', { login, from });
    }
  }
  await store.admin.recordLogin(account.login, { address, time: new Date(), ...(check.appPassword ? { appPasswordId: check.appPassword.id } : {}) });
  log.info('auth.succeeded', {
    ...base,
    credential: check.credential,
    ...(check.appPassword ? { appPasswordId: check.appPassword.id, appPasswordName: check.appPassword.name } : {}),
  });
  return account;
}

/**
 * A login over IMAP or SMTP (or the admin API's password step): the account handle,
 * or null for any failure; throws PasswordCheckBusy when the password could not be
 * checked now (a temporary failure).
 */
export async function authenticate(store: MailStore, request: LoginRequest, log: Logger): Promise<AccountStore | null> {
  const credentials = await checkLogin(store, request, log);
  return credentials ? store.account(credentials.login) : null;
}
