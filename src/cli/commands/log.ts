import type { Command } from 'commander';
import { anchorFile } from '../../security-log/anchor.js';
import { formatHistoryItem, loginHistory } from '../../security-log/login-history.js';
import { verifySecurityLog } from '../../security-log/verify.js';
import { action, withStore, type GlobalOptions } from '../session.js';
import { parseCount } from '../units.js';

export function registerLog(program: Command): void {
  const log = program.command('log').description('the tamper-evident security log: logins, app passwords, 2FA, admin actions, integrity findings');
  log
    .command('verify')
    .description('walk the hash chain and the anchor file; exit code 1 and where, if any entry was edited, deleted or reordered')
    .option('--json', 'print the report as JSON')
    .action(
      action(async (options: { json?: boolean }) => {
        const report = await withStore(program.opts<GlobalOptions>(), ({ store, config }) => verifySecurityLog(store.admin, anchorFile(config.dataDir)));
        if (options.json) {
          process.stdout.write(JSON.stringify(report, null, 2) + '\n');
        } else {
          for (const problem of report.problems) process.stdout.write(`entry ${problem.sequence}: ${problem.problem}\n`);
          if (report.problemCount > report.problems.length) process.stdout.write(`… and ${report.problemCount - report.problems.length} more problem(s)\n`);
          if (report.ok) {
            process.stdout.write(`${report.entries} entries, chain intact${report.head ? ` (last entry ${report.head.sequence}, hash ${report.head.hash})` : ''}\n`);
          } else {
            process.stdout.write(`${report.entries} entries, chain BROKEN: ${report.problemCount} problem(s)\n`);
          }
        }
        if (!report.ok) process.exitCode = 1;
      }),
    );
  log
    .command('show')
    .description("a user's login history, newest first: time, event, protocol, address, credential kind")
    .requiredOption('--user <login>', 'the account')
    .option('--limit <count>', 'at most this many entries', '50')
    .option('--all', 'every event about the account, not only logins')
    .option('--json', 'print JSON')
    .action(
      action(async (options: { user: string; limit: string; all?: boolean; json?: boolean }) => {
        const limit = parseCount(options.limit);
        const items = await withStore(program.opts<GlobalOptions>(), ({ store }) => loginHistory(store.admin, options.user, { limit, all: options.all }));
        if (options.json) {
          process.stdout.write(JSON.stringify(items, null, 2) + '\n');
          return;
        }
        if (items.length === 0) process.stdout.write(`no entries for ${options.user}\n`);
        for (const item of items) process.stdout.write(formatHistoryItem(item) + '\n');
      }),
    );
}
