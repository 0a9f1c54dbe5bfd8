// Which log events belong in the security log (the issue #6 contract), and how an
// event becomes an entry: the login pulled out, secrets removed, fields canonical.
import type { EventFields } from '../log.js';
import type { SecurityLogDraft } from '../store/types.js';
import { canonicalJson } from './entry-hash.js';

export const securityEventPrefixes = ['auth.', 'app_password.', 'second_factor.', 'recovery_code.', 'admin.', 'account.', 'integrity.'] as const;

export function isSecurityEvent(event: string): boolean {
  return securityEventPrefixes.some((prefix) => event.startsWith(prefix));
}

// Field names (lower-case, letters only) whose value must never be written down,
// whatever the caller passed: the log outlives the secrets' rotation.
const secretFieldNames = new Set([
  'password',
  'newpassword',
  'passwordhash',
  'hash',
  'token',
  'tokenhash',
  'sessiontoken',
  'authorization',
  'secret',
  'totpsecret',
  'totp',
  'otp',
  'code',
  'codes',
  'recoverycode',
  'recoverycodes',
  'uri',
]);

export const redacted = '[redacted]';

function isSecretField(name: string): boolean {
  return secretFieldNames.has(name.toLowerCase().replace(/[^a-z]/g, ''));
}

function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[too deep]';
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  if (value instanceof Error) return String(value);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const copy: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) copy[key] = isSecretField(key) ? redacted : redact(inner, depth + 1);
    return copy;
  }
  return value;
}

export function securityLogDraft(event: string, fields: EventFields, time = Date.now()): SecurityLogDraft {
  const login = typeof fields.login === 'string' && fields.login.length > 0 ? fields.login.trim().toLowerCase() : null;
  return { time, event, login, fields: canonicalJson(redact(fields)) };
}
