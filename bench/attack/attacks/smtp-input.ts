// Unauthenticated senders streaming DATA: one that never ends (past
// smtp.maxMessageSize), and many at once (past the total spool, smtp.spoolLimit).
import { mebibyte, setting, type Attack, type AttackContext } from '../attack.js';
import { directoryBytes, sampleMaximum } from '../server-process.js';
import { sleep, Wire } from '../wire.js';

/** An MX session up to the 354 after DATA; the reply line instead when DATA is refused. */
async function startData(context: AttackContext, from: string, recipient: string): Promise<{ wire: Wire; refusal: string | null }> {
  const wire = await Wire.open({ port: context.server.ports.mx, from, registry: context.registry });
  const reply = async () => (await wire.until(/^\d{3} [^\r\n]*\r\n/m, 15_000)).trim();
  await reply();
  wire.push('EHLO attacker.example\r\n');
  await reply();
  wire.push('MAIL FROM:<spammer@attacker.example>\r\n');
  const mail = await reply();
  if (!mail.startsWith('250')) return { wire, refusal: mail };
  wire.push(`RCPT TO:<${recipient}>\r\n`);
  const rcpt = await reply();
  if (!rcpt.startsWith('250')) return { wire, refusal: rcpt };
  wire.push('DATA\r\n');
  const data = await reply();
  return { wire, refusal: data.startsWith('354') ? null : data };
}

const line = Buffer.from(`${'d'.repeat(998)}\r\n`);

/** Streams message lines while the socket takes them, up to `bytes` or the time; bytes sent. */
async function stream(context: AttackContext, wire: Wire, bytes: number, milliseconds: number): Promise<number> {
  const chunk = Buffer.concat(Array.from({ length: 64 }, () => line));
  const until = Date.now() + milliseconds;
  let sent = 0;
  while (sent < bytes && Date.now() < until && !wire.isClosed && !context.signal.aborted) {
    if (/^[45]\d\d /m.test(wire.received)) break;
    if (!(await wire.write(chunk))) break;
    sent += chunk.length;
  }
  return sent;
}

const endlessData: Attack = {
  name: 'never-ending SMTP DATA',
  expected: 'spool stops at smtp.maxMessageSize; 552 5.3.4 at the end',
  timeoutSeconds: 60,
  legitimateDuring: true,
  async run(context) {
    const maximum = setting(context.config, 'smtp.maxMessageSize')!;
    const spoolDirectory = `${context.dataDir}/tmp/smtp`;
    const { wire, refusal } = await startData(context, context.sources.take(), context.victim.login);
    if (refusal) return { pass: false, observed: `DATA refused: ${refusal}` };
    const spool = sampleMaximum(() => directoryBytes(spoolDirectory), 50);
    const sent = await stream(context, wire, 10 * maximum, 15_000);
    wire.push('\r\n.\r\n');
    let reply: string;
    try {
      reply = (await wire.until(/^\d{3} [^\r\n]*/m, 20_000)).trim();
    } catch {
      reply = wire.isClosed ? 'closed' : 'no reply';
    }
    const peak = spool.stop();
    wire.destroy();
    const slack = mebibyte;
    return {
      pass: /^552/.test(reply) && peak <= maximum + slack,
      observed: `${reply.slice(0, 40)} after ${(sent / mebibyte).toFixed(0)} MiB; spool peak ${(peak / mebibyte).toFixed(1)} MiB (max message ${(maximum / mebibyte).toFixed(0)} MiB)`,
    };
  },
};

const spoolTotal: Attack = {
  name: 'SMTP spool total',
  expected: 'many DATA at once past smtp.spoolLimit: 452 4.3.1 for some (at DATA or after the dot), the rest 250; spool bounded',
  timeoutSeconds: 90,
  legitimateDuring: true,
  async run(context) {
    const maximum = setting(context.config, 'smtp.maxMessageSize')!;
    const limit = setting(context.config, 'smtp.spoolLimit');
    if (limit === undefined) return { pass: false, observed: 'no smtp.spoolLimit: the total spool has no bound' };
    const spoolDirectory = `${context.dataDir}/tmp/smtp`;
    const senders = Math.ceil(limit / (0.9 * maximum)) + 3;
    const spool = sampleMaximum(() => directoryBytes(spoolDirectory), 50);
    const sessions = await Promise.all(Array.from({ length: senders }, () => startData(context, context.sources.take(), context.victim.login)));
    const refusedAtData = sessions.filter((session) => session.refusal !== null).map((session) => session.refusal!);
    // Each streams 90 % of the largest message at once, all together, then ends it.
    const streaming = sessions.filter((session) => session.refusal === null);
    await Promise.all(streaming.map((session) => stream(context, session.wire, 0.9 * maximum, 20_000)));
    await sleep(500);
    const peak = spool.stop();
    // RFC 5321 §4.2.5: the verdict on a message comes after its final dot.
    const verdicts = await Promise.all(
      streaming.map(async (session) => {
        session.wire.push('\r\n.\r\n');
        try {
          return (await session.wire.until(/^\d{3} [^\r\n]*/m, 30_000)).trim();
        } catch {
          return session.wire.isClosed ? 'closed' : 'no reply';
        }
      }),
    );
    for (const session of sessions) session.wire.destroy();
    const refusals = [...refusedAtData, ...verdicts.filter((reply) => !reply.startsWith('250'))];
    const accepted = verdicts.filter((reply) => reply.startsWith('250')).length;
    return {
      pass: refusals.length >= 1 && refusals.every((reply) => /^452 4\.3\.1/.test(reply)) && peak <= limit + mebibyte,
      observed: `${senders} senders: ${accepted} × 250, ${refusals.length} refused (${refusedAtData.length} at DATA${refusals[0] ? `; ${refusals[0].slice(0, 30)}` : ''}); spool peak ${(peak / mebibyte).toFixed(1)} MiB (limit ${(limit / mebibyte).toFixed(0)} MiB)`,
    };
  },
};

export const smtpInputAttacks: Attack[] = [endlessData, spoolTotal];
