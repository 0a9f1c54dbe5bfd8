import type { Command } from 'commander';
import { cliActor, logAdminAction } from '../../admin/admin-action.js';
import { generateAdminToken } from '../../admin/admin-token.js';
import { InvalidInput, NotFound } from '../../errors.js';
import { action, withStore, type GlobalOptions } from '../session.js';

export function registerAdmin(program: Command): void {
  const admin = program.command('admin').description('the admin HTTPS API: its access tokens');
  const token = admin.command('token').description('tokens for `Authorization: Bearer` on the admin API');
  token
    .command('create')
    .description('make a token and print it once (only its SHA-256 is stored)')
    .requiredOption('--name <name>', 'what the token is for, e.g. "monitoring"')
    .action(
      action(async (options: { name: string }) => {
        const name = options.name.trim();
        if (name.length === 0 || name.length > 100 || /^[0-9]+$/.test(name)) throw new InvalidInput('give a --name of 1 to 100 characters that is not just digits');
        const { token: secret, tokenHash } = generateAdminToken();
        const info = await withStore(program.opts<GlobalOptions>(), async ({ store, log }) => {
          const created = await store.admin.createAdminToken(name, tokenHash);
          logAdminAction(log, cliActor(), 'token_create', { protocol: 'cli', id: created.id, name });
          return created;
        });
        process.stdout.write(`admin token ${info.id} "${info.name}" created; it is shown only this once:\n${secret}\n`);
      }),
    );
  token
    .command('list')
    .description('list tokens with their creation, last use and revocation times (never the tokens)')
    .action(
      action(async () => {
        const tokens = await withStore(program.opts<GlobalOptions>(), ({ store }) => store.admin.listAdminTokens());
        if (tokens.length === 0) process.stdout.write('no admin tokens\n');
        for (const info of tokens) {
          const state = info.revokedAt ? `revoked ${info.revokedAt.toISOString()}` : 'active';
          process.stdout.write(`${info.id}\t${info.name}\tcreated ${info.createdAt.toISOString()}\tlast used ${info.lastUsedAt?.toISOString() ?? 'never'}\t${state}\n`);
        }
      }),
    );
  token
    .command('revoke <idOrName>')
    .description('revoke a token (by id or name) at once')
    .action(
      action(async (idOrName: string) => {
        const revoked = await withStore(program.opts<GlobalOptions>(), async ({ store, log }) => {
          const done = await store.admin.revokeAdminToken(idOrName);
          if (done) logAdminAction(log, cliActor(), 'token_revoke', { protocol: 'cli', idOrName });
          return done;
        });
        if (!revoked) throw new NotFound(`there is no active admin token ${JSON.stringify(idOrName)}`);
        process.stdout.write(`admin token ${idOrName} revoked\n`);
      }),
    );
}
