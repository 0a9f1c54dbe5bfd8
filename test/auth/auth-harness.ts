// A real store with IMAP (implicit TLS) and SMTP submission (implicit TLS) on
// ephemeral 127.0.0.1 ports, pacing configured per test, and two real clients: a raw
// TLS socket for IMAP LOGIN (it can pick its source address among 127.0.0.0/8) and
// Python's smtplib for SMTP AUTH.
import * as net from 'node:net';
import * as tls from 'node:tls';
import { configureLoginPacing, defaultPacingSettings, type LoginPacing, type PacingSettings } from '../../src/auth/pacing.js';
import { hashPassword } from '../../src/auth/password.js';
import { configSchema } from '../../src/config/schema.js';
import { startImapServer, type ImapServer } from '../../src/imap/server.js';
import { ensureCertificate } from '../../src/server/certificate.js';
import { startSmtpService, type SmtpService } from '../../src/smtp/smtp-service.js';
import { staticResolver } from '../../src/smtp/dns-resolver.js';
import { runProcess } from '../helpers/run-process.js';
import { createTemporaryStore, type TemporaryStore } from '../helpers/temporary-store.js';

export const login = 'alice@example.com';
export const password = 'correct horse battery staple';

export interface AuthHarness extends TemporaryStore {
  imap: ImapServer;
  smtp: SmtpService;
  imapPort: number;
  smtpPort: number;
  pacing: LoginPacing;
  close(): Promise<void>;
}

let passwordHash: Promise<string> | undefined;

export async function startAuthHarness(pacing: Partial<PacingSettings> = { pacing: false }): Promise<AuthHarness> {
  const temporary = await createTemporaryStore();
  passwordHash ??= hashPassword(password);
  await temporary.store.admin.setPasswordHash(login, await passwordHash);
  const loginPacing = configureLoginPacing(temporary.store, { ...defaultPacingSettings, ...pacing });
  const files = await ensureCertificate({ dataDir: temporary.dataDir, hostname: 'localhost', certFile: '', keyFile: '', log: temporary.log });
  const imap = await startImapServer({ store: temporary.store, log: temporary.log, host: '127.0.0.1', port: null, tlsPort: 0, tls: files });
  const config = configSchema.parse({
    dataDir: temporary.dataDir,
    hostname: 'mx.example.com',
    smtp: { mx: { enabled: false }, submission: { enabled: false }, submissions: { port: 0 } },
  });
  const smtp = await startSmtpService(config, temporary.store, files, temporary.log, { resolver: staticResolver({}) });
  return {
    ...temporary,
    imap,
    smtp,
    imapPort: imap.tlsPort!,
    smtpPort: smtp.listeners.submissions!.port,
    pacing: loginPacing,
    async close() {
      await smtp.stop();
      await imap.stop();
      await temporary.dispose();
    },
  };
}

function quote(text: string): string {
  return `"${text.replace(/["\\]/g, (character) => `\\${character}`)}"`;
}

/** IMAP LOGIN over TLS from `from` (an address in 127.0.0.0/8); returns the tagged reply line. */
export async function imapLogin(harness: AuthHarness, user: string, secret: string, from = '127.0.0.1'): Promise<string> {
  const plain = net.connect({ host: '127.0.0.1', port: harness.imapPort, localAddress: from });
  const socket = tls.connect({ socket: plain, rejectUnauthorized: false });
  try {
    let received = '';
    const waitFor = (pattern: RegExp) =>
      new Promise<string>((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(received);
          if (match) {
            socket.off('data', onData);
            resolve(match[0]);
          }
        };
        const onData = (chunk: Buffer) => {
          received += chunk.toString('latin1');
          check();
        };
        socket.on('data', onData);
        socket.once('error', reject);
        socket.once('close', () => reject(new Error(`closed; received ${JSON.stringify(received)}`)));
        check();
      });
    await waitFor(/^\* OK[^\r\n]*\r\n/m);
    socket.write(`a1 LOGIN ${quote(user)} ${quote(secret)}\r\n`);
    const line = await waitFor(/^a1 (OK|NO|BAD)[^\r\n]*/m);
    socket.write('a2 LOGOUT\r\n');
    return line;
  } finally {
    socket.end();
  }
}

/** SMTP AUTH PLAIN over implicit TLS from `from`; returns the reply code. */
export async function smtpLogin(harness: AuthHarness, user: string, secret: string, from = '127.0.0.1'): Promise<number> {
  const script = `
import smtplib, ssl, sys
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
with smtplib.SMTP_SSL('127.0.0.1', ${harness.smtpPort}, context=context, source_address=(${JSON.stringify(from)}, 0), timeout=60) as client:
    client.ehlo()
    client.user, client.password = sys.argv[1], sys.argv[2]
    try:
        # One mechanism: login() would retry a refused PLAIN with LOGIN, two attempts for one.
        code, _ = client.auth('PLAIN', client.auth_plain)
    except smtplib.SMTPAuthenticationError as error:
        code = error.smtp_code
    print(code)
`;
  const result = await runProcess('python3', ['-c', script, user, secret]);
  if (result.code !== 0) throw new Error(`python3 failed: ${result.stderr}`);
  return Number(result.stdout.trim());
}

/** The auth.* events so far, as "event:reason-or-credential@address/protocol". */
export function authEvents(harness: AuthHarness): string[] {
  return harness.log.events
    .filter((event) => event.event.startsWith('auth.') && event.event !== 'auth.rehashed')
    .map((event) => `${event.event}:${event.fields.reason ?? event.fields.credential ?? ''}@${event.fields.address}/${event.fields.protocol ?? ''}`);
}
