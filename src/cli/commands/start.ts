import type { Command } from 'commander';
import { createLogger } from '../../log.js';
import { refuseRoot } from '../root-refusal.js';
import { action, commandConfig, prepareDataFolder, type GlobalOptions } from '../session.js';

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run the server in the foreground until SIGINT or SIGTERM')
    .action(
      action(async () => {
        const { config } = commandConfig(program.opts<GlobalOptions>());
        const log = createLogger({ level: config.log.level });
        refuseRoot(config);
        // Made if missing, private to this user, and ours alone until the process exits.
        const lock = prepareDataFolder(config.dataDir, log, { create: true, exclusive: 'start', blobMirrors: config.store.blobMirrors });
        // Loaded here, not at the top: the protocol stacks take a second or more to load,
        // which every other `postkeep` command would otherwise pay for nothing.
        const { startServer } = await import('../../server/server.js');
        const server = await startServer(config, log).catch((error: unknown) => {
          lock?.release();
          throw error;
        });
        const accounts = await server.store.admin.listAccounts();
        // Before anything is printed: stdout to a pipe is written synchronously, so whoever
        // waits for "Postkeep is running" may signal before the next line runs. (The
        // handlers run later, once `shutdown` below is defined.)
        process.once('SIGINT', () => shutdown('SIGINT'));
        process.once('SIGTERM', () => shutdown('SIGTERM'));
        process.stdout.write(`Postkeep is running. Data: ${config.dataDir}\nTLS certificate: ${server.tls.certFile}${server.tls.selfSigned ? ' (self-signed)' : ''}\n`);
        const smtp = server.smtp.listeners;
        const where = (role: keyof typeof smtp, note: string) => (smtp[role] ? [`${role} ${smtp[role].address}:${smtp[role].port}${note}`] : []);
        const listening = [...where('mx', ''), ...where('submission', ' (STARTTLS)'), ...where('submissions', ' (TLS)')];
        if (listening.length > 0) process.stdout.write(`SMTP: ${listening.join(', ')}\n`);
        if (accounts.length === 0) {
          process.stdout.write(
            'No users yet. Add the first one with:\n  postkeep domain add example.com\n  postkeep user add alice@example.com\n',
          );
        }
        const shutdown = (signal: string) => {
          log.info('server.stopping', { signal });
          // stop() is bounded by shutdown.graceSeconds; this is the bound on everything
          // else (a store that does not close, a bug): the process goes, so its ports do.
          setTimeout(() => {
            log.error('server.stop_timeout', { signal, timeoutSeconds: config.shutdown.timeoutSeconds });
            process.exit(1);
          }, config.shutdown.timeoutSeconds * 1000).unref();
          server.stop().then(
            () => process.exit(0),
            (error) => {
              log.error('server.stop_failed', { error: String(error) });
              process.exit(1);
            },
          );
        };
      }),
    );
}
