// A storm of wrong passwords (issue 11 item 11): hundreds of IMAP connections and
// SMTP AUTHs at once from many addresses. Each argon2id check holds 64 MiB, so the
// server's peak RSS may grow by at most auth.maxConcurrentHashes × 64 MiB (+ slack).
import { mebibyte, setting, type Attack, type AttackContext } from '../attack.js';
import { quoted, Wire } from '../wire.js';

async function imapAttempts(context: AttackContext, count: number, perAddress: number): Promise<string[]> {
  const addresses = context.sources.many(Math.ceil(count / perAddress));
  const opened = await Promise.allSettled(
    Array.from({ length: count }, async (_, index) => {
      const wire = await Wire.open({ port: context.server.ports.imaps, tls: true, from: addresses[Math.floor(index / perAddress)]!, registry: context.registry });
      await wire.until(/^\* OK[^\r\n]*\r\n/m, 30_000);
      return wire;
    }),
  );
  const wires = opened.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  // Every connection greeted first, then all the LOGINs together.
  return Promise.all(
    wires.map(async (wire, index) => {
      const user = index % 2 === 0 ? context.victim.login : `nobody${index}@example.com`;
      wire.push(`a LOGIN ${quoted(user)} ${quoted(`guess ${index}`)}\r\n`);
      try {
        // A BYE is the pre-login timeout ending a session whose check was still queued.
        return (await wire.until(/^(a (OK|NO|BAD)|\* BYE)[^\r\n]*/m, 60_000)).trim();
      } catch (error) {
        return wire.isClosed ? 'closed' : `no reply (${(error as Error).message.slice(0, 40)})`;
      } finally {
        wire.destroy();
      }
    }),
  ).then((replies) => [...replies, ...Array.from({ length: count - wires.length }, () => 'not connected')]);
}

async function smtpAttempts(context: AttackContext, count: number, perAddress: number): Promise<string[]> {
  const addresses = context.sources.many(Math.ceil(count / perAddress));
  return Promise.all(
    Array.from({ length: count }, async (_, index) => {
      let wire: Wire | null = null;
      try {
        wire = await Wire.open({ port: context.server.ports.submissions, tls: true, from: addresses[Math.floor(index / perAddress)]!, registry: context.registry });
        const reply = async () => (await wire!.until(/^\d{3} [^\r\n]*/m, 60_000)).trim();
        await reply();
        wire.push('EHLO attacker.example\r\n');
        await reply();
        wire.push(`AUTH PLAIN ${Buffer.from(`\0${context.victim.login}\0guess ${index}`).toString('base64')}\r\n`);
        return await reply();
      } catch (error) {
        return wire?.isClosed ? 'closed' : `no reply (${(error as Error).message.slice(0, 40)})`;
      } finally {
        wire?.destroy();
      }
    }),
  );
}

function tally(replies: string[], patterns: Record<string, RegExp>): { counts: Record<string, number>; other: string[] } {
  const counts: Record<string, number> = Object.fromEntries(Object.keys(patterns).map((name) => [name, 0]));
  const other: string[] = [];
  for (const reply of replies) {
    const name = Object.keys(patterns).find((key) => patterns[key]!.test(reply));
    if (name) counts[name]!++;
    else other.push(reply);
  }
  return { counts, other };
}

const loginStorm: Attack = {
  name: 'login storm, wrong passwords',
  expected: 'NO [AUTHENTICATIONFAILED] or NO [UNAVAILABLE]; SMTP 535 or 454; peak RSS ≤ +maxConcurrentHashes × 64 MiB + 96 MiB',
  timeoutSeconds: 150,
  legitimateDuring: true,
  async run(context) {
    const maxConnections = setting(context.config, 'imap.maxConnections')!;
    const imapPerAddress = Math.max(1, setting(context.config, 'imap.maxConnectionsPerIp')! - 5);
    const smtpPerAddress = Math.max(1, setting(context.config, 'smtp.maxConnectionsPerIp')! - 2);
    const imapCount = Math.min(450, maxConnections - 20);
    const [imap, smtp] = await Promise.all([imapAttempts(context, imapCount, imapPerAddress), smtpAttempts(context, 50, smtpPerAddress)]);
    const imapTally = tally(imap, { failed: /^a NO \[AUTHENTICATIONFAILED\]/, unavailable: /^a NO \[UNAVAILABLE\]/, timedOut: /^\* BYE/ });
    const smtpTally = tally(smtp, { failed: /^535 /, unavailable: /^454 /, timedOut: /^421 / });
    const hashes = setting(context.config, 'auth.maxConcurrentHashes');
    // Without a limit, assume libuv's pool (`postkeep start` sets 64 threads) is the only bound.
    const bound = (hashes ?? 64) * 64 * mebibyte + 96 * mebibyte;
    const other = [...imapTally.other, ...smtpTally.other];
    return {
      pass: other.length === 0 && hashes !== undefined,
      observed: `IMAP ${imapTally.counts.failed} failed / ${imapTally.counts.unavailable} UNAVAILABLE / ${imapTally.counts.timedOut} BYE, SMTP ${smtpTally.counts.failed} 535 / ${smtpTally.counts.unavailable} 454 / ${smtpTally.counts.timedOut} 421${other.length ? `, ${other.length} other (${other[0]!.slice(0, 40)})` : ''}${hashes === undefined ? ', no auth.maxConcurrentHashes' : ''}`,
      peakGrowthBound: bound,
    };
  },
};

export const loginAttacks: Attack[] = [loginStorm];
