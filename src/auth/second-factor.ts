// The TOTP second factor (RFC 6238) and its recovery codes. Enrolment is two steps:
// a secret is stored but not enabled until a code from the device proves it was
// copied right. Each accepted time step is remembered, so a code seen once (over a
// shoulder, in a log) cannot be used again.
import { InvalidInput, NotFound } from '../errors.js';
import type { Logger } from '../log.js';
import type { MailStore } from '../store/types.js';
import { generateSecretCode, hashSecretCode, looksLikeSecretCode } from './secret-code.js';
import { base32Decode, hotp, newTotpSecret, otpauthUri, timeStep } from './totp.js';

export const recoveryCodeCount = 10;
/** RFC 6238 §5.2: one step either side, for clock drift and typing time. */
const allowedDrift = 1;

function eventLogin(login: string): string {
  return login.trim().toLowerCase();
}

/** The step within the allowed drift whose code this is, or null. */
function matchingStep(secret: string, code: string, now: number): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const key = base32Decode(secret);
  const current = timeStep(now);
  let found: number | null = null;
  // Every candidate is computed, so the time taken does not say which one matched.
  for (let step = current - allowedDrift; step <= current + allowedDrift; step++) {
    if (hotp(key, step) === code && found === null) found = step;
  }
  return found;
}

export async function beginEnrolment(store: MailStore, login: string, log?: Logger, options: { issuer?: string } = {}): Promise<{ secret: string; uri: string }> {
  const secret = newTotpSecret();
  await store.admin.beginSecondFactor(login, secret);
  log?.info('second_factor.enrolled', { login: eventLogin(login) });
  return { secret, uri: otpauthUri(secret, eventLogin(login), options.issuer ?? 'Postkeep') };
}

/** Enables the pending second factor when `code` is current; returns the recovery codes (shown once). */
export async function confirmEnrolment(store: MailStore, login: string, code: string, log: Logger, now = Date.now()): Promise<string[]> {
  const state = await store.admin.getSecondFactor(login);
  if (!state || state.enabledAt !== null) throw new NotFound(`${login} has no two-factor enrolment waiting for confirmation`);
  const step = matchingStep(state.secret, code.replace(/\s/g, ''), now);
  if (step === null) throw new InvalidInput('that code does not match: check the code and the device clock, and try again');
  const codes = Array.from({ length: recoveryCodeCount }, generateSecretCode);
  await store.admin.enableSecondFactor(login, step, codes.map(hashSecretCode));
  log.info('second_factor.enabled', { login: eventLogin(login) });
  return codes;
}

export async function disableSecondFactor(store: MailStore, login: string, log: Logger): Promise<void> {
  if (!(await store.admin.removeSecondFactor(login))) throw new NotFound(`${login} has no second factor`);
  log.info('second_factor.disabled', { login: eventLogin(login) });
}

/** What the admin API's "2FA reset" does: the same removal, logged as a reset. */
export async function resetSecondFactor(store: MailStore, login: string, log: Logger): Promise<void> {
  if (!(await store.admin.removeSecondFactor(login))) throw new NotFound(`${login} has no second factor`);
  log.info('second_factor.reset', { login: eventLogin(login) });
}

/** A current, unused TOTP code or an unused recovery code (which is then spent). False when 2FA is not enabled. */
export async function verifySecondFactor(store: MailStore, login: string, codeOrRecoveryCode: string, log: Logger, now = Date.now()): Promise<boolean> {
  const state = await store.admin.getSecondFactor(login);
  if (!state || state.enabledAt === null) return false;
  const typed = codeOrRecoveryCode.trim();
  if (/^\d{6}$/.test(typed)) {
    const step = matchingStep(state.secret, typed, now);
    return step !== null && (await store.admin.claimSecondFactorStep(login, step));
  }
  if (!looksLikeSecretCode(typed)) return false;
  if (!(await store.admin.useRecoveryCode(login, hashSecretCode(typed)))) return false;
  log.info('recovery_code.used', { login: eventLogin(login) });
  return true;
}
