import type { Command } from 'commander';
import { exportMail } from '../../transfer/export.js';
import { importMail } from '../../transfer/import.js';
import { createProgress } from '../progress.js';
import { action, withStore, type GlobalOptions } from '../session.js';

export function registerTransfer(program: Command): void {
  program
    .command('import <user> <path>')
    .description('import an mbox file or a Maildir (Maildir++) tree, keeping flags and dates; re-running adds no duplicates')
    .option('--mailbox <name>', 'import an mbox into this mailbox instead of INBOX')
    .action(
      action(async (user: string, source: string, options: { mailbox?: string }) => {
        const progress = createProgress('importing');
        // No exclusive lock: every message goes in through the store's own transactions,
        // safe beside a running server (whose IDLE sessions should see the import).
        const result = await withStore(program.opts<GlobalOptions>(), async ({ store }) =>
          importMail(await store.account(user), source, { mailbox: options.mailbox, onProgress: progress.update }),
        );
        progress.finish();
        process.stdout.write(`${result.format}: ${result.imported} imported, ${result.skipped} already present, into ${result.mailboxes.length} mailbox(es)\n`);
      }),
    );
  program
    .command('export <user> <directory>')
    .description("write an account's mail as a Maildir++ tree")
    .action(
      action(async (user: string, directory: string) => {
        const progress = createProgress('exporting');
        const result = await withStore(program.opts<GlobalOptions>(), async ({ store }) => exportMail(await store.account(user), directory, { onProgress: progress.update }));
        progress.finish();
        process.stdout.write(`${result.exported} messages exported from ${result.mailboxes} mailbox(es)\n`);
        for (const failure of result.failed) process.stderr.write(`postkeep: skipped ${failure.mailbox} UID ${failure.uid}: ${failure.reason}\n`);
        if (result.failed.length > 0) process.exitCode = 1;
      }),
    );
}
