import type { Command } from 'commander';
import { action, withStore, type GlobalOptions } from '../session.js';

export function registerDomain(program: Command): void {
  const domain = program.command('domain').description('manage the domains this server receives mail for');
  domain
    .command('add <name>')
    .description('make a domain local')
    .action(
      action(async (name: string) => {
        await withStore(program.opts<GlobalOptions>(), ({ store }) => store.admin.addDomain(name));
        process.stdout.write(`domain ${name.toLowerCase()} added\n`);
      }),
    );
  domain
    .command('list')
    .description('list the local domains')
    .action(
      action(async () => {
        const domains = await withStore(program.opts<GlobalOptions>(), ({ store }) => store.admin.listDomains());
        for (const entry of domains) process.stdout.write(`${entry.name}\n`);
      }),
    );
}
