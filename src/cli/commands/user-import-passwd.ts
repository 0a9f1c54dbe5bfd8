// `postkeep user import-passwd <file>`: Dovecot passwd-file lines
// (user:{SCHEME}hash:uid:gid:gecos:home:shell:extra; only the first two fields
// matter). Creates missing accounts, replaces the hash of existing ones, and says
// what it did with each line; it never prints a hash.
import * as fs from 'node:fs/promises';
import type { Command } from 'commander';
import { cliActor, logAdminAction } from '../../admin/admin-action.js';
import { importHash } from '../../auth/password-schemes.js';
import { InvalidInput, PostkeepError } from '../../errors.js';
import { action, withStore, type GlobalOptions } from '../session.js';

export function registerUserImportPasswd(user: Command, program: Command): void {
  user
    .command('import-passwd <file>')
    .description('import accounts and password hashes ({ARGON2ID}, {SHA512-CRYPT}, {BLF-CRYPT}, {SSHA512}) from a Dovecot passwd-file')
    .action(
      action(async (file: string) => {
        let text: string;
        try {
          text = await fs.readFile(file, 'utf8');
        } catch (error) {
          throw new InvalidInput(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
        }
        const counts = { created: 0, updated: 0, skipped: 0 };
        await withStore(program.opts<GlobalOptions>(), async ({ store, log }) => {
          const actor = cliActor();
          const lines = text.split(/\r?\n/);
          for (const [index, line] of lines.entries()) {
            const number = index + 1;
            if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
            const report = (message: string) => process.stdout.write(`line ${number}: ${message}\n`);
            const fields = line.split(':');
            const login = (fields[0] ?? '').trim();
            if (fields.length < 2 || login === '' || /\s/.test(login)) {
              counts.skipped++;
              report('skipped: malformed line (expected user:{SCHEME}hash:…)');
              continue;
            }
            const name = JSON.stringify(login.slice(0, 200));
            if (!login.includes('@')) {
              counts.skipped++;
              report(`${name} skipped: not a full address (user@domain)`);
              continue;
            }
            const imported = importHash(fields[1]!);
            if (!imported.ok) {
              counts.skipped++;
              report(`${name} skipped: ${imported.reason}`);
              continue;
            }
            try {
              const exists = (await store.admin.getPasswordHash(login)) !== null;
              if (exists) {
                await store.admin.setPasswordHash(login, imported.stored);
                counts.updated++;
                log.info('account.password_changed', { login: login.toLowerCase(), protocol: 'cli', actor, scheme: imported.scheme });
                report(`${login} updated (${imported.scheme})`);
              } else {
                await store.admin.addAccount(login, imported.stored);
                counts.created++;
                log.info('account.created', { login: login.toLowerCase(), protocol: 'cli', actor, scheme: imported.scheme });
                report(`${login} imported, new account (${imported.scheme})`);
              }
              logAdminAction(log, actor, 'account_import', { login: login.toLowerCase(), protocol: 'cli', scheme: imported.scheme });
            } catch (error) {
              if (!(error instanceof PostkeepError)) throw error;
              counts.skipped++;
              report(`${name} skipped: ${error.message}`);
            }
          }
        });
        process.stdout.write(`${counts.created} created, ${counts.updated} updated, ${counts.skipped} skipped\n`);
        // Something was left behind: a script should notice.
        if (counts.skipped > 0) process.exitCode = 1;
      }),
    );
}
