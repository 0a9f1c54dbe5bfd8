import type { Command } from 'commander';
import * as path from 'node:path';
import { storeExists } from '../../store/open-store.js';
import { action, commandConfig, withStore, type GlobalOptions } from '../session.js';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('make an empty store in the data folder (`start` does this too); every other command needs one')
    .action(
      action(async () => {
        const { config } = commandConfig(program.opts<GlobalOptions>());
        const existed = storeExists(config.dataDir);
        await withStore(program.opts<GlobalOptions>(), async () => undefined, { create: true });
        process.stdout.write(`${existed ? 'a store already exists' : 'made a new store'} in ${path.resolve(config.dataDir)}\n`);
      }),
    );
}
