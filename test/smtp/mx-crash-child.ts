// Child process for the MX crash test: runs the MX (SPF/DKIM/DMARC on, a fixed
// empty DNS zone) on the store in the folder given as the first argument and
// prints `ready <port>`. The parent sends mail to it and kills it with SIGKILL.
import { configSchema } from '../../src/config/schema.js';
import { createLogger } from '../../src/log.js';
import { ensureCertificate } from '../../src/server/certificate.js';
import { staticResolver } from '../../src/smtp/dns-resolver.js';
import { startSmtpService } from '../../src/smtp/smtp-service.js';
import { openStore } from '../../src/store/open-store.js';

const dataDir = process.argv[2]!;
const log = createLogger({ level: 'error' });
const store = await openStore({ dataDir, log });
const config = configSchema.parse({
  dataDir,
  hostname: 'mx.example.com',
  smtp: { mx: { port: 0, greetingDelayMilliseconds: 0 }, submission: { enabled: false }, submissions: { enabled: false }, maxMessagesPerIpPerMinute: 1_000_000, maxConnectionsPerIp: 100 },
});
const tls = await ensureCertificate({ dataDir, hostname: 'localhost', certFile: '', keyFile: '', log });
const smtp = await startSmtpService(config, store, tls, log, { resolver: staticResolver({}) });
process.stdout.write(`ready ${smtp.listeners.mx!.port}\n`);
