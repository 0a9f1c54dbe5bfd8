// SIGTERM with attackers connected everywhere: handshakes never started, sessions
// idle before and after login, a DATA and an APPEND literal half sent. The process
// must exit within shutdown.timeoutSeconds (or 30 s when the server has no such
// key), exit 0, and leave its ports free for the next start.
import * as net from 'node:net';
import { setting, type Attack, type AttackContext } from '../attack.js';
import { quoted, sleep, Wire } from '../wire.js';

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function holdEverything(context: AttackContext): Promise<number> {
  const { ports } = context.server;
  const holders: Promise<unknown>[] = [];
  const from = () => context.sources.take();
  // Raw TCP on every port, not a byte sent.
  for (const port of Object.values(ports)) for (let index = 0; index < 3; index++) holders.push(Wire.open({ port, from: from(), registry: context.registry }));
  // Logged-in IMAP sessions, one of them in the middle of an APPEND literal.
  for (let index = 0; index < 3; index++) {
    holders.push(
      (async () => {
        const wire = await Wire.open({ port: ports.imaps, tls: true, from: from(), registry: context.registry });
        await wire.until(/^\* OK[^\r\n]*\r\n/m);
        wire.push(`l LOGIN ${quoted(context.attacker.login)} ${quoted(context.attacker.password)}\r\n`);
        await wire.until(/^l OK[^\r\n]*\r\n/m, 30_000);
        if (index === 0) {
          wire.push('a APPEND INBOX {1000000}\r\n');
          await wire.until(/^\+[^\r\n]*\r\n/m);
          wire.push(Buffer.alloc(400_000, 'h'));
        }
      })(),
    );
  }
  // An MX session in the middle of its DATA.
  holders.push(
    (async () => {
      const wire = await Wire.open({ port: ports.mx, from: from(), registry: context.registry });
      const reply = () => wire.until(/^\d{3} [^\r\n]*\r\n/m);
      await reply();
      wire.push('EHLO attacker.example\r\n');
      await reply();
      wire.push(`MAIL FROM:<spammer@attacker.example>\r\n`);
      await reply();
      wire.push(`RCPT TO:<${context.victim.login}>\r\n`);
      await reply();
      wire.push('DATA\r\n');
      await reply();
      wire.push('Subject: half\r\n\r\nhalf a message\r\n');
    })(),
  );
  const settled = await Promise.allSettled(holders);
  return settled.filter((result) => result.status === 'fulfilled').length;
}

const shutdownUnderAttack: Attack = {
  name: 'shutdown under attack (SIGTERM)',
  expected: 'exit 0 within shutdown.timeoutSeconds; ports free afterwards',
  timeoutSeconds: 120,
  legitimateDuring: false,
  stopsServer: true,
  async run(context) {
    const held = await holdEverything(context);
    await sleep(500);
    const bound = (setting(context.config, 'shutdown.timeoutSeconds') ?? 30) * 1000;
    // Waits a little past the bound before killing, to tell "late" from "never".
    const outcome = await context.server.stop(bound + 10_000);
    const ports = Object.values(context.server.ports);
    const free = (await Promise.all(ports.map(portIsFree))).filter(Boolean).length;
    const inTime = !outcome.killed && outcome.milliseconds <= bound;
    return {
      pass: inTime && outcome.code === 0 && free === ports.length,
      observed: `${held} attackers held; ${outcome.killed ? `still running after ${((bound + 10_000) / 1000).toFixed(0)} s, killed` : `exited ${outcome.code ?? outcome.signal} after ${(outcome.milliseconds / 1000).toFixed(1)} s`} (bound ${(bound / 1000).toFixed(0)} s); ${free}/${ports.length} ports free`,
    };
  },
};

export const shutdownAttacks: Attack[] = [shutdownUnderAttack];
