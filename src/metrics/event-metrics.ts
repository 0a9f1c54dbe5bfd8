// A Logger that passes every event on unchanged and counts the ones metrics are
// made of, by their stable names: logins (auth.*), SMTP deliveries and refusals
// (smtp.*), refused connections (<protocol>.connection_refused) and every
// integrity.* event. One seam instead of a metrics call beside every log call.
import type { EventFields, Logger } from '../log.js';
import { boundedLabel, connectionsRefused, integrityEvents, logins, smtpDeliveries } from './metrics.js';

const loginProtocols = new Set(['imap', 'smtp', 'admin']);
// src/auth/authenticate.ts FailureReason, and the admin API's bearer refusals.
const loginFailureReasons = new Set(['unknown-user', 'wrong-password', 'scope', 'second-factor-enabled', 'revoked', 'locked', 'malformed', 'invalid-token']);
const refusalReasons = new Set(['connection_limit', 'per_address_limit']);
const refusalProtocols = new Set(['imap', 'smtp', 'admin_api']);
/** An integrity event's kind is the rest of its name; names are ours, but a bound keeps a mistake from growing the series. */
const integrityKind = /^[a-z_]{1,40}$/;
const maximumIntegrityKinds = 64;
const integrityKinds = new Set<string>();

export function countEvents(log: Logger): Logger {
  const tee =
    (level: keyof Logger) =>
    (event: string, fields: EventFields = {}) => {
      log[level](event, fields);
      count(event, fields);
    };
  return { debug: tee('debug'), info: tee('info'), warn: tee('warn'), error: tee('error') };
}

function count(event: string, fields: EventFields): void {
  switch (event) {
    case 'auth.succeeded':
      logins.inc({ protocol: boundedLabel(fields.protocol, loginProtocols), result: 'success', reason: 'none' });
      return;
    case 'auth.failed':
      logins.inc({ protocol: boundedLabel(fields.protocol, loginProtocols), result: 'failure', reason: boundedLabel(fields.reason, loginFailureReasons) });
      return;
    case 'auth.busy':
      logins.inc({ protocol: boundedLabel(fields.protocol, loginProtocols), result: 'busy', reason: 'none' });
      return;
    case 'smtp.delivered':
      smtpDeliveries.inc({ result: 'accepted', reason: 'none' });
      return;
    case 'smtp.delivery_failed':
      smtpDeliveries.inc({ result: 'failed', reason: 'store' });
      return;
    case 'smtp.rejected':
      // The one event every SMTP refusal reply passes through (smtp-context.ts hook): reason = the reply code.
      if (typeof fields.code === 'number') smtpDeliveries.inc({ result: 'refused', reason: Number.isInteger(fields.code) && fields.code >= 400 && fields.code <= 599 ? String(fields.code) : 'other' });
      return;
  }
  if (event.startsWith('integrity.')) {
    const kind = event.slice('integrity.'.length);
    const known = integrityKinds.has(kind) || (integrityKind.test(kind) && integrityKinds.size < maximumIntegrityKinds);
    if (known) integrityKinds.add(kind);
    integrityEvents.inc({ kind: known ? kind : 'other' });
    return;
  }
  if (event.endsWith('.connection_refused')) {
    connectionsRefused.inc({ protocol: boundedLabel(event.slice(0, -'.connection_refused'.length), refusalProtocols), reason: boundedLabel(fields.reason, refusalReasons) });
  }
}
