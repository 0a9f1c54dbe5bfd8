import type { Command } from 'commander';
import { action, withStore, type GlobalOptions } from '../session.js';
import { parseDuration } from '../units.js';

export function registerUndelete(program: Command): void {
  program
    .command('undelete <user>')
    .description('bring back expunged messages still within the retention window (they get new UIDs); moved messages are not brought back')
    .option('--mailbox <name>', 'only messages expunged from this mailbox')
    .option('--since <duration>', 'only messages expunged within this long, e.g. 2h or 3d')
    .option('--dry-run', 'list what would come back, change nothing')
    .action(
      action(async (user: string, options: { mailbox?: string; since?: string; dryRun?: boolean }) => {
        const since = options.since === undefined ? undefined : new Date(Date.now() - parseDuration(options.since));
        const result = await withStore(
          program.opts<GlobalOptions>(),
          // No exclusive lock: one store transaction, safe beside a running server, whose
          // sessions see the restored messages through the change log.
          ({ store }) => store.admin.undelete(user, { mailbox: options.mailbox, since, dryRun: options.dryRun ?? false }),
        );
        const plural = (count: number) => `${count} message${count === 1 ? '' : 's'}`;
        const moved = result.skipped > 0 ? `; ${plural(result.skipped)} skipped (moved, not deleted: still in the account)` : '';
        if (options.dryRun) {
          for (const message of result.messages) {
            process.stdout.write(`${message.mailbox} UID ${message.uid} (${message.size} bytes), expunged ${message.expungedAt.toISOString()}\n`);
          }
          process.stdout.write(`dry run: ${plural(result.messages.length)} would be restored for ${user}${moved}\n`);
          return;
        }
        process.stdout.write(`${plural(result.restored)} restored for ${user}${moved}\n`);
      }),
    );
}
