import type { Command } from 'commander';
import { cliActor, logAdminAction } from '../../admin/admin-action.js';
import { hashPassword } from '../../auth/password.js';
import { InvalidInput, NotFound } from '../../errors.js';
import type { Logger } from '../../log.js';
import { readNewPassword } from '../password-input.js';
import { registerUserImportPasswd } from './user-import-passwd.js';
import { registerUserSecondFactor } from './user-second-factor.js';
import { action, withStore, type GlobalOptions } from '../session.js';
import { parseCount, parseSize } from '../units.js';

/** The account.* event and the admin.* action for a change made from the CLI (security log). */
function logAccountChange(log: Logger, event: string, adminAction: string, address: string): void {
  const actor = cliActor();
  const login = address.trim().toLowerCase();
  log.info(event, { login, protocol: 'cli', actor });
  logAdminAction(log, actor, adminAction, { login, protocol: 'cli' });
}

function formatQuota(used: number, limit: number | null, unit = ''): string {
  return `${used}${unit}${limit === null ? '' : ` of ${limit}${unit}`}`;
}

export function registerUser(program: Command): void {
  const user = program.command('user').description('manage accounts');
  user
    .command('add <address>')
    .description('create an account; the password is asked on a terminal, else read from the first line of stdin')
    .option('--quota <size>', 'storage quota, e.g. 2G (default: none)')
    .option('--quota-messages <count>', 'message count quota (default: none)')
    .action(
      action(async (address: string, options: { quota?: string; quotaMessages?: string }) => {
        const quotaBytes = options.quota === undefined ? null : parseSize(options.quota);
        const quotaMessages = options.quotaMessages === undefined ? null : parseCount(options.quotaMessages);
        const passwordHash = await hashPassword(await readNewPassword());
        await withStore(program.opts<GlobalOptions>(), async ({ store, log }) => {
          await store.admin.addAccount(address, passwordHash, { quotaBytes, quotaMessages });
          logAccountChange(log, 'account.created', 'account_create', address);
        });
        process.stdout.write(`user ${address} added\n`);
      }),
    );
  user
    .command('list')
    .description('list accounts with their addresses and quota usage')
    .action(
      action(async () => {
        const accounts = await withStore(program.opts<GlobalOptions>(), ({ store }) => store.admin.listAccounts());
        for (const account of accounts) {
          process.stdout.write(
            `${account.login}\taddresses: ${account.addresses.join(', ')}\tstorage: ${formatQuota(account.usedBytes, account.quotaBytes, ' B')}\tmessages: ${formatQuota(account.usedMessages, account.quotaMessages)}\n`,
          );
        }
      }),
    );
  user
    .command('passwd <address>')
    .description("set an account's password (asked, or read from stdin)")
    .action(
      action(async (address: string) => {
        // Before the password is asked for (twice): a typo in the address is said at once.
        if ((await withStore(program.opts<GlobalOptions>(), ({ store }) => store.admin.getPasswordHash(address))) === null) {
          throw new NotFound(`there is no account ${JSON.stringify(address.trim())}`);
        }
        const passwordHash = await hashPassword(await readNewPassword());
        await withStore(program.opts<GlobalOptions>(), async ({ store, log }) => {
          await store.admin.setPasswordHash(address, passwordHash);
          logAccountChange(log, 'account.password_changed', 'password_set', address);
        });
        process.stdout.write(`password of ${address} changed\n`);
      }),
    );
  user
    .command('quota <address>')
    .description("change an account's quota ('none' removes a limit)")
    .option('--quota <size>', 'storage quota, e.g. 2G, or none')
    .option('--quota-messages <count>', 'message count quota, or none')
    .action(
      action(async (address: string, options: { quota?: string; quotaMessages?: string }) => {
        if (options.quota === undefined && options.quotaMessages === undefined) throw new InvalidInput('give --quota and/or --quota-messages');
        const quotaBytes = options.quota === undefined ? undefined : options.quota === 'none' ? null : parseSize(options.quota);
        const quotaMessages = options.quotaMessages === undefined ? undefined : options.quotaMessages === 'none' ? null : parseCount(options.quotaMessages);
        await withStore(program.opts<GlobalOptions>(), async ({ store, log }) => {
          await store.admin.setQuota(address, { quotaBytes, quotaMessages });
          logAdminAction(log, cliActor(), 'quota_set', { login: address.trim().toLowerCase(), protocol: 'cli', quotaBytes, quotaMessages });
        });
        process.stdout.write(`quota of ${address} changed\n`);
      }),
    );
  user
    .command('delete <address>')
    .description('delete an account and all its mail (asks for --yes)')
    .option('--yes', 'confirm: the mail cannot be undeleted afterwards')
    .action(
      action(async (address: string, options: { yes?: boolean }) => {
        if (!options.yes) throw new InvalidInput(`deleting ${address} removes all its mail for good: repeat with --yes to confirm`);
        await withStore(program.opts<GlobalOptions>(), async ({ store, log }) => {
          await store.admin.deleteAccount(address);
          logAccountChange(log, 'account.deleted', 'account_delete', address);
        });
        process.stdout.write(`user ${address} deleted\n`);
      }),
    );
  user
    .command('admin <address> <state>')
    .description("turn the account's admin API login (password + TOTP, POST /session) on or off")
    .action(
      action(async (address: string, state: string) => {
        if (state !== 'on' && state !== 'off') throw new InvalidInput(`say on or off, not ${JSON.stringify(state)}`);
        await withStore(program.opts<GlobalOptions>(), async ({ store, log }) => {
          await store.admin.setAdmin(address, state === 'on');
          logAdminAction(log, cliActor(), state === 'on' ? 'admin_grant' : 'admin_revoke', { login: address.trim().toLowerCase(), protocol: 'cli' });
        });
        process.stdout.write(`admin API login for ${address} is ${state}\n`);
      }),
    );
  registerUserSecondFactor(user, program);
  registerUserImportPasswd(user, program);
}
