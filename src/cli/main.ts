// The `postkeep` command.
import { Command } from 'commander';
import { registerAdmin } from './commands/admin.js';
import { registerAlias } from './commands/alias.js';
import { registerAppPassword } from './commands/app-password.js';
import { registerAudit } from './commands/audit.js';
import { registerBackup } from './commands/backup.js';
import { registerDomain } from './commands/domain.js';
import { registerDkim } from './commands/dkim.js';
import { registerInit } from './commands/init.js';
import { registerLog } from './commands/log.js';
import { registerQueue } from './commands/queue.js';
import { registerStart } from './commands/start.js';
import { registerTransfer } from './commands/transfer.js';
import { registerUndelete } from './commands/undelete.js';
import { registerUser } from './commands/user.js';
import { restrictiveUmask } from '../server/file-permissions.js';

// Before any file is made: the database, keys, spool and blobs are this user's alone.
process.umask(restrictiveUmask);

const program = new Command('postkeep')
  .description('a mail server that keeps mail confidential, intact and available')
  .option('-c, --config <file>', 'the TOML config file (default: $POSTKEEP_CONFIG, else ./postkeep.toml if present)')
  // -c/--config is recognised after the subcommand too (`postkeep start -c f`,
  // `npm start -- -c f`): no enablePositionalOptions(), no subcommand has a -c of its own.
  .showHelpAfterError()
  // Commander's own refusals (an unknown option, a missing argument) read like every
  // other error; set before the subcommands are registered, which copy it.
  .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'postkeep: ')) });

registerStart(program);
registerInit(program);
registerUser(program);
registerAppPassword(program);
registerDomain(program);
registerAlias(program);
registerTransfer(program);
registerUndelete(program);
registerDkim(program);
registerQueue(program);
registerAudit(program);
registerBackup(program);
registerLog(program);
registerAdmin(program);

await program.parseAsync(process.argv);
