// The server process: config in, store opened, TLS ready, background jobs
// running, and a clean stop on SIGINT/SIGTERM. Protocol listeners plug in here.
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { openStore } from '../store/open-store.js';
import type { MailStore } from '../store/types.js';
import { ensureCertificate, type TlsFiles } from './certificate.js';

export interface RunningServer {
  store: MailStore;
  tls: TlsFiles;
  stop(): Promise<void>;
}

export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  const store = await openStore({ dataDir: config.dataDir, log, retentionDays: config.store.retentionDays });
  const tls = await ensureCertificate({ dataDir: config.dataDir, hostname: config.hostname, certFile: config.tls.certFile, keyFile: config.tls.keyFile, log });
  const collect = () => store.admin.collectGarbage().catch((error) => log.error('store.garbage_collection_failed', { error: String(error) }));
  // Not unref'd: until stop(), this timer is (also) what keeps the process alive.
  const timer = setInterval(collect, config.store.garbageCollectionHours * 3_600_000);
  log.info('server.started', { dataDir: config.dataDir, hostname: config.hostname, pid: process.pid });
  let stopped = false;
  return {
    store,
    tls,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await store.close();
      log.info('server.stopped', {});
    },
  };
}
