// `postkeep app-password add|list|revoke`: per-device passwords for IMAP and SMTP.
import type { Command } from 'commander';
import { cliActor, logAdminAction } from '../../admin/admin-action.js';
import { appPasswordScopes, createAppPassword, listAppPasswords, revokeAppPassword } from '../../auth/app-passwords.js';
import { InvalidInput } from '../../errors.js';
import { action, withStore, type GlobalOptions } from '../session.js';

export function registerAppPassword(program: Command): void {
  const command = program.command('app-password').description('passwords for one device each, limited to some protocols, revocable one by one');
  command
    .command('add <user>')
    .description('make an app password and print it once (only a hash is stored)')
    .requiredOption('--name <name>', 'which device it is for, e.g. "Phone"')
    .option('--scope <protocols>', `comma-separated: ${appPasswordScopes.join(', ')}`, appPasswordScopes.join(','))
    .action(
      action(async (user: string, options: { name: string; scope: string }) => {
        const created = await withStore(program.opts<GlobalOptions>(), async ({ store, log }) => {
          const result = await createAppPassword(store, user, { name: options.name, scopes: options.scope }, log);
          logAdminAction(log, cliActor(), 'app_password_create', { login: user.trim().toLowerCase(), protocol: 'cli', id: result.id });
          return result;
        });
        process.stdout.write(
          `app password ${created.id} "${created.info.name}" for ${user} (${created.info.scopes.join(', ')}); it is shown only this once:\n\n    ${created.password}\n\n` +
            'Type it as the password in the mail app (the dashes are optional).\n',
        );
      }),
    );
  command
    .command('list <user>')
    .description('list app passwords: name, scopes, created, last used (time and address), revoked')
    .action(
      action(async (user: string) => {
        const entries = await withStore(program.opts<GlobalOptions>(), ({ store }) => listAppPasswords(store, user));
        if (entries.length === 0) process.stdout.write(`${user} has no app passwords\n`);
        for (const entry of entries) {
          const lastUsed = entry.lastUsedAt ? `${entry.lastUsedAt.toISOString()} from ${entry.lastUsedAddress ?? 'unknown'}` : 'never';
          const state = entry.revokedAt ? `revoked ${entry.revokedAt.toISOString()}` : 'active';
          process.stdout.write(`${entry.id}\t${entry.name}\tscopes: ${entry.scopes.join(',')}\tcreated ${entry.createdAt.toISOString()}\tlast used ${lastUsed}\t${state}\n`);
        }
      }),
    );
  command
    .command('revoke <user> <id>')
    .description('revoke one app password at once')
    .action(
      action(async (user: string, idText: string) => {
        if (!/^\d{1,15}$/.test(idText)) throw new InvalidInput(`an app password id is a number (see app-password list ${user})`);
        const revoked = await withStore(program.opts<GlobalOptions>(), async ({ store, log }) => {
          const entry = await revokeAppPassword(store, user, Number(idText), log);
          logAdminAction(log, cliActor(), 'app_password_revoke', { login: user.trim().toLowerCase(), protocol: 'cli', id: entry.id });
          return entry;
        });
        process.stdout.write(`app password ${revoked.id} "${revoked.name}" of ${user} revoked\n`);
      }),
    );
}
