// The user the server must go on serving while an attack runs: from 127.0.0.1, one
// round after another, an IMAP session over implicit TLS (LOGIN, SELECT INBOX,
// FETCH 1 BODY.PEEK[], LOGOUT) and one SMTP delivery to the MX. Each round's time
// is what the worst-latency column reports.
import { quoted, sleep, Wire } from './wire.js';

export interface LegitimateAccount {
  login: string;
  password: string;
}

export interface LegitimateReport {
  rounds: number;
  failures: number;
  /** Slowest IMAP session or SMTP delivery, in milliseconds (a failed one counts with its time). */
  worstMilliseconds: number;
  firstError: string | null;
}

const stepTimeout = 20_000;

export async function imapRound(port: number, account: LegitimateAccount): Promise<void> {
  const wire = await Wire.open({ port, tls: true, from: '127.0.0.1', connectTimeoutMilliseconds: stepTimeout });
  try {
    await wire.until(/^\* OK[^\r\n]*\r\n/m, stepTimeout);
    wire.push(`a LOGIN ${quoted(account.login)} ${quoted(account.password)}\r\n`);
    await expectTagged(wire, 'a');
    wire.push('b SELECT INBOX\r\n');
    await expectTagged(wire, 'b');
    wire.push('c FETCH 1 BODY.PEEK[]\r\n');
    await expectTagged(wire, 'c');
    wire.push('d LOGOUT\r\n');
    await expectTagged(wire, 'd');
  } finally {
    wire.destroy();
  }
}

async function expectTagged(wire: Wire, tag: string): Promise<void> {
  const line = await wire.until(new RegExp(`^${tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n`, 'm'), stepTimeout);
  if (!line.startsWith(`${tag} OK`)) throw new Error(`IMAP: ${line.trim()}`);
}

export async function smtpRound(port: number, recipient: string, sequence: number): Promise<void> {
  const wire = await Wire.open({ port, from: '127.0.0.1', connectTimeoutMilliseconds: stepTimeout });
  const reply = async (expected: RegExp) => {
    // The last line of a reply is "ddd text" (a space after the code, RFC 5321 §4.2.1).
    const line = await wire.until(/^\d{3} [^\r\n]*\r\n/m, stepTimeout);
    if (!expected.test(line)) throw new Error(`SMTP: ${line.trim()}`);
  };
  try {
    await reply(/^220 /);
    wire.push('EHLO legitimate.example\r\n');
    await reply(/^250 /);
    wire.push('MAIL FROM:<friend@legitimate.example>\r\n');
    await reply(/^250 /);
    wire.push(`RCPT TO:<${recipient}>\r\n`);
    await reply(/^250 /);
    wire.push('DATA\r\n');
    await reply(/^354 /);
    wire.push(`From: <friend@legitimate.example>\r\nTo: <${recipient}>\r\nSubject: still served ${sequence}\r\nMessage-ID: <round-${sequence}-${Date.now()}@legitimate.example>\r\n\r\nHello while under attack.\r\n.\r\n`);
    await reply(/^250 /);
    wire.push('QUIT\r\n');
  } finally {
    wire.destroy();
  }
}

/** Runs rounds until stop() (each finished round, then a short pause). */
export function startLegitimateClient(ports: { imaps: number; mx: number }, account: LegitimateAccount): { stop(): Promise<LegitimateReport> } {
  const report: LegitimateReport = { rounds: 0, failures: 0, worstMilliseconds: 0, firstError: null };
  let running = true;
  let sequence = 0;
  const timed = async (work: () => Promise<void>) => {
    const started = Date.now();
    try {
      await work();
    } catch (error) {
      report.failures++;
      report.firstError ??= (error as Error).message.slice(0, 200);
    }
    report.worstMilliseconds = Math.max(report.worstMilliseconds, Date.now() - started);
    report.rounds++;
  };
  const loop = (async () => {
    while (running) {
      await timed(() => imapRound(ports.imaps, account));
      if (!running) break;
      await timed(() => smtpRound(ports.mx, account.login, sequence++));
      await sleep(200);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return report;
    },
  };
}
