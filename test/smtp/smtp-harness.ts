// A real store and real SMTP listeners on ephemeral 127.0.0.1 ports, with a fixed
// DNS zone, plus runners for the real clients (swaks, Python's smtplib).
import * as path from 'node:path';
import { configSchema, type Config } from '../../src/config/schema.js';
import { ensureCertificate } from '../../src/server/certificate.js';
import { staticResolver, type DnsRecordType } from '../../src/smtp/dns-resolver.js';
import { startSmtpService, type SmtpService } from '../../src/smtp/smtp-service.js';
import { hashPassword } from '../../src/auth/password.js';
import { createTemporaryStore, type TemporaryStore } from '../helpers/temporary-store.js';
import { runProcess, type ProcessResult } from '../helpers/run-process.js';

export const password = 'correct horse battery staple';

export interface Harness extends TemporaryStore {
  smtp: SmtpService;
  config: Config;
  mxPort: number;
  submissionPort: number;
  submissionsPort: number;
  close(): Promise<void>;
}

export async function startHarness(
  options: { smtp?: Record<string, unknown>; outbound?: Record<string, unknown>; zone?: Record<string, Partial<Record<DnsRecordType, unknown[]>>>; quotaBytes?: number } = {},
): Promise<Harness> {
  const temporary = await createTemporaryStore({ quotaBytes: options.quotaBytes });
  await temporary.store.admin.setPasswordHash('alice@example.com', await hashPassword(password));
  await temporary.store.admin.addAlias('postmaster@example.com', 'alice@example.com');
  await temporary.store.admin.addAccount('bob@example.com', await hashPassword(password));
  const config = configSchema.parse({
    dataDir: temporary.dataDir,
    hostname: 'mx.example.com',
    smtp: { mx: { port: 0 }, submission: { port: 0 }, submissions: { port: 0 }, ...options.smtp },
    outbound: { ...options.outbound },
  });
  const tls = await ensureCertificate({ dataDir: temporary.dataDir, hostname: 'localhost', certFile: '', keyFile: '', log: temporary.log });
  const smtp = await startSmtpService(config, temporary.store, tls, temporary.log, { resolver: staticResolver(options.zone ?? {}) });
  return {
    ...temporary,
    smtp,
    config,
    mxPort: smtp.listeners.mx!.port,
    submissionPort: smtp.listeners.submission!.port,
    submissionsPort: smtp.listeners.submissions!.port,
    async close() {
      await smtp.stop();
      await temporary.dispose();
    },
  };
}

export type { ProcessResult };

export function run(command: string, args: string[], input?: string | Buffer): Promise<ProcessResult> {
  return runProcess(command, args, { input });
}

/** swaks against 127.0.0.1:`port`; its transcript (stdout) carries every reply. */
export function swaks(port: number, args: string[]): Promise<ProcessResult> {
  return run('swaks', ['--server', '127.0.0.1', '--port', String(port), '--helo', 'client.example.org', '--timeout', '20', ...args]);
}

/** Runs a Python smtplib script; `script` sees PORT. */
export function python(script: string, port: number): Promise<ProcessResult> {
  return run('python3', ['-c', `import smtplib, ssl, sys\nPORT = ${port}\n${script}`]);
}

export const harnessFile = path.basename(import.meta.url);
