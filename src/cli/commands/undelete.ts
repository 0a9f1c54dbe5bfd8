import type { Command } from 'commander';
import { action, withStore, type GlobalOptions } from '../session.js';
import { parseDuration } from '../units.js';

export function registerUndelete(program: Command): void {
  program
    .command('undelete <user>')
    .description('bring back expunged messages still within the retention window (they get new UIDs)')
    .option('--mailbox <name>', 'only messages expunged from this mailbox')
    .option('--since <duration>', 'only messages expunged within this long, e.g. 2h or 3d')
    .action(
      action(async (user: string, options: { mailbox?: string; since?: string }) => {
        const since = options.since === undefined ? undefined : new Date(Date.now() - parseDuration(options.since));
        const { restored } = await withStore(program.opts<GlobalOptions>(), ({ store }) => store.admin.undelete(user, { mailbox: options.mailbox, since }));
        process.stdout.write(`${restored} message${restored === 1 ? '' : 's'} restored for ${user}\n`);
      }),
    );
}
