import type { Command } from 'commander';
import { action, withStore, type GlobalOptions } from '../session.js';

export function registerAlias(program: Command): void {
  const alias = program.command('alias').description('manage extra addresses that deliver to an account');
  alias
    .command('add <address> <user>')
    .description('deliver mail for <address> to <user>')
    .action(
      action(async (address: string, user: string) => {
        await withStore(program.opts<GlobalOptions>(), ({ store }) => store.admin.addAlias(address, user));
        process.stdout.write(`alias ${address} → ${user} added\n`);
      }),
    );
  alias
    .command('list')
    .description('list aliases')
    .action(
      action(async () => {
        const aliases = await withStore(program.opts<GlobalOptions>(), ({ store }) => store.admin.listAliases());
        for (const entry of aliases) process.stdout.write(`${entry.address}\t${entry.login}\n`);
      }),
    );
  alias
    .command('delete <address>')
    .description('remove an alias')
    .action(
      action(async (address: string) => {
        await withStore(program.opts<GlobalOptions>(), ({ store }) => store.admin.deleteAlias(address));
        process.stdout.write(`alias ${address} deleted\n`);
      }),
    );
}
