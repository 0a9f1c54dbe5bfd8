// The server process: config in, store opened, TLS ready, background jobs
// running, and a clean stop on SIGINT/SIGTERM. Protocol listeners plug in here.
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { openConfiguredStore } from '../store/open-store.js';
import type { MailStore } from '../store/types.js';
import { ensureCertificate, type TlsFiles } from './certificate.js';
import { startScrub } from '../integrity/scrub.js';
import { startSmtpService, type SmtpService, type SmtpServiceOptions } from '../smtp/smtp-service.js';
import { startImapServer, type ImapServer } from '../imap/server.js';

export interface RunningServer {
  store: MailStore;
  tls: TlsFiles;
  smtp: SmtpService;
  /** Null when `imap.enabled` is false. */
  imap: ImapServer | null;
  stop(): Promise<void>;
}

export async function startServer(config: Config, log: Logger, options: { smtp?: SmtpServiceOptions } = {}): Promise<RunningServer> {
  const store = await openConfiguredStore(config, log);
  const tls = await ensureCertificate({ dataDir: config.dataDir, hostname: config.hostname, certFile: config.tls.certFile, keyFile: config.tls.keyFile, log });
  const smtp = await startSmtpService(config, store, tls, log, options.smtp).catch(async (error) => {
    await store.close();
    throw error;
  });
  const { enabled: imapEnabled, host: imapHost, port: imapPort, tlsPort: imapTlsPort, ...imapLimits } = config.imap;
  const imap = imapEnabled
    ? await startImapServer({ store, log, host: imapHost, port: imapPort, tlsPort: imapTlsPort, tls, limits: imapLimits, spoolDirectory: `${config.dataDir}/imap-spool` }).catch(async (error) => {
        await smtp.stop();
        await store.close();
        throw error;
      })
    : null;
  const collect = () => store.admin.collectGarbage().catch((error) => log.error('store.garbage_collection_failed', { error: String(error) }));
  // Not unref'd: until stop(), this timer is (also) what keeps the process alive.
  const timer = setInterval(collect, config.store.garbageCollectionHours * 3_600_000);
  const scrub = config.store.scrubDays > 0 ? startScrub(store.context, { periodDays: config.store.scrubDays, megabytesPerSecond: config.store.scrubMegabytesPerSecond, log }) : null;
  log.info('server.started', { dataDir: config.dataDir, hostname: config.hostname, pid: process.pid });
  let stopped = false;
  return {
    store,
    tls,
    smtp,
    imap,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await scrub?.stop();
      await smtp.stop();
      await imap?.stop();
      await store.close();
      log.info('server.stopped', {});
    },
  };
}
