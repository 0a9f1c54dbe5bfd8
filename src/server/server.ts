// The server process: config in, store opened, TLS ready, background jobs
// running, and a clean stop on SIGINT/SIGTERM. Protocol listeners plug in here.
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { openConfiguredStore } from '../store/open-store.js';
import type { MailStore } from '../store/types.js';
import { ensureCertificate, type TlsFiles } from './certificate.js';
import { TlsCredentials } from './tls-credentials.js';
import { startScrub } from '../integrity/scrub.js';
import { startSmtpService, type SmtpService, type SmtpServiceOptions } from '../smtp/smtp-service.js';
import { startImapServer, type ImapServer } from '../imap/server.js';
import { prepareAuthentication } from '../auth/authenticate.js';
import { configureLoginPacing } from '../auth/pacing.js';
import { configurePasswordHashing } from '../auth/hash-limiter.js';
import { startAdminServer, type AdminServer } from '../admin/admin-server.js';
import { SecurityLog } from '../security-log/security-log.js';
import { teeSecurityEvents } from '../security-log/security-log-tee.js';
import { countEvents } from '../metrics/event-metrics.js';
import { createHealthProbes } from './health-probes.js';
import { Readiness } from './readiness.js';
import { spoolDirectoryName } from './spool-folder.js';

export interface RunningServer {
  store: MailStore;
  tls: TlsFiles;
  /** The pair in service for every TLS listener; reloads on SIGHUP and when the files change. */
  credentials: TlsCredentials;
  smtp: SmtpService;
  /** Null when `imap.enabled` is false. */
  imap: ImapServer | null;
  /** The admin HTTPS API; null when `admin.enabled` is false. */
  admin: AdminServer | null;
  securityLog: SecurityLog;
  stop(): Promise<void>;
}

export async function startServer(config: Config, log: Logger, options: { smtp?: SmtpServiceOptions } = {}): Promise<RunningServer> {
  // Security events (auth.*, admin.*, integrity.* …) also go to the tamper-evident log.
  const securityLog = new SecurityLog({ dataDir: config.dataDir, log });
  log = teeSecurityEvents(log, securityLog);
  // Logins, deliveries, refused connections and integrity.* events are counted for /metrics.
  log = countEvents(log);
  const store = await openConfiguredStore(config, log);
  const readiness = new Readiness();
  securityLog.attach(store);
  // Brute-force pacing from [auth]; the decoy hash is made now so no first login pays for it.
  configureLoginPacing(store, config.auth);
  // At most maxConcurrentHashes × 64 MiB for password checks, whatever the number of logins.
  configurePasswordHashing({ maxConcurrent: config.auth.maxConcurrentHashes, queueLimit: config.auth.hashQueueLimit });
  await prepareAuthentication();
  const tls = await ensureCertificate({ dataDir: config.dataDir, hostname: config.hostname, certFile: config.tls.certFile, keyFile: config.tls.keyFile, log });
  let credentials: TlsCredentials;
  try {
    credentials = TlsCredentials.load(tls, log);
  } catch (error) {
    await store.close();
    throw error;
  }
  const smtp = await startSmtpService(config, store, credentials, log, options.smtp).catch(async (error) => {
    await store.close();
    throw error;
  });
  const { enabled: imapEnabled, host: imapHost, port: imapPort, tlsPort: imapTlsPort, ...imapLimits } = config.imap;
  const imap = imapEnabled
    ? await startImapServer({ store, log, host: imapHost, port: imapPort, tlsPort: imapTlsPort, tls: credentials, limits: imapLimits, spoolDirectory: `${config.dataDir}/${spoolDirectoryName}`, shutdownGraceSeconds: config.shutdown.graceSeconds }).catch(async (error) => {
        await smtp.stop();
        await store.close();
        throw error;
      })
    : null;
  // The admin API gets the same TLS policy and certificate reloads as the mail listeners.
  const admin = config.admin.enabled
    ? await startAdminServer({ store, log, credentials, host: config.admin.host, port: config.admin.port, anchorFile: securityLog.anchorFile, sessionMinutes: config.admin.sessionMinutes, maxConnections: config.admin.maxConnections, maxConnectionsPerIp: config.admin.maxConnectionsPerIp, handshakeTimeoutSeconds: config.admin.handshakeTimeoutSeconds, shutdownGraceSeconds: config.shutdown.graceSeconds, probes: createHealthProbes(store, readiness) }).catch(async (error) => {
        await imap?.stop();
        await smtp.stop();
        await securityLog.close();
        await store.close();
        throw error;
      })
    : null;
  const collect = () => store.admin.collectGarbage().catch((error) => log.error('store.garbage_collection_failed', { error: String(error) }));
  // Not unref'd: until stop(), this timer is (also) what keeps the process alive.
  const timer = setInterval(collect, config.store.garbageCollectionHours * 3_600_000);
  const scrub = config.store.scrubDays > 0 ? startScrub(store.integrity, { periodDays: config.store.scrubDays, megabytesPerSecond: config.store.scrubMegabytesPerSecond, log }) : null;
  credentials.watch();
  // SIGHUP: the admin's "reload the certificate now" (e.g. a certbot deploy hook).
  const onHangup = () => void credentials.reload('signal');
  process.on('SIGHUP', onHangup);
  log.info('server.started', { dataDir: config.dataDir, hostname: config.hostname, pid: process.pid });
  readiness.markReady();
  let stopped = false;
  return {
    store,
    tls,
    credentials,
    smtp,
    imap,
    admin,
    securityLog,
    async stop() {
      if (stopped) return;
      stopped = true;
      // First of all: /healthz/ready answers 503 for the whole drain.
      readiness.markStopping();
      process.off('SIGHUP', onHangup);
      credentials.close();
      clearInterval(timer);
      await scrub?.stop();
      // All at once: each closes its ports at the start and is bounded by the grace
      // period, so no listener waits for another's peers (one never-finished handshake
      // used to keep every later port open).
      await Promise.all([smtp.stop(), imap?.stop(), admin?.stop()]);
      await securityLog.close();
      await store.close();
      log.info('server.stopped', {});
    },
  };
}
