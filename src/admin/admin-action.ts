// Every admin action, from the API or the CLI, is logged as `admin.<action>` with
// who did it; the security log keeps these (issue #6 contract).
import * as os from 'node:os';
import type { EventFields, Logger } from '../log.js';

export function logAdminAction(log: Logger, actor: string, action: string, fields: EventFields = {}): void {
  log.info(`admin.${action}`, { actor, ...fields });
}

/** The actor for CLI commands: the operating-system user who ran them. */
export function cliActor(): string {
  try {
    return `cli:${os.userInfo().username}`;
  } catch {
    return `cli:uid-${process.getuid?.() ?? 'unknown'}`;
  }
}
