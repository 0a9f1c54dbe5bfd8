// A Logger that passes every event on unchanged and also records the security
// events (security-events.ts) in the security log, whatever the log level: a CLI
// that prints only warnings still leaves its auth.* and admin.* trace.
import type { EventFields, Logger } from '../log.js';
import { isSecurityEvent } from './security-events.js';
import type { SecurityLog } from './security-log.js';

export function teeSecurityEvents(log: Logger, securityLog: SecurityLog): Logger {
  const tee =
    (level: keyof Logger) =>
    (event: string, fields: EventFields = {}) => {
      log[level](event, fields);
      if (isSecurityEvent(event)) securityLog.record(event, fields);
    };
  return { debug: tee('debug'), info: tee('info'), warn: tee('warn'), error: tee('error') };
}
