// Clients that never finish a TLS handshake, or send garbage where one should be,
// on every implicit-TLS port and after STARTTLS: each must be closed within the
// handshake timeout, never held.
import { randomBytes } from 'node:crypto';
import { setting, type Attack, type AttackContext } from '../attack.js';
import { Wire } from '../wire.js';

interface TlsPort {
  name: string;
  port: (context: AttackContext) => number;
  timeoutKey: string;
  perAddressKey: string;
}

const tlsPorts: TlsPort[] = [
  { name: 'imaps', port: (context) => context.server.ports.imaps, timeoutKey: 'imap.handshakeTimeoutSeconds', perAddressKey: 'imap.maxConnectionsPerIp' },
  { name: 'submissions', port: (context) => context.server.ports.submissions, timeoutKey: 'smtp.handshakeTimeoutSeconds', perAddressKey: 'smtp.maxConnectionsPerIp' },
  { name: 'admin', port: (context) => context.server.ports.admin, timeoutKey: 'admin.handshakeTimeoutSeconds', perAddressKey: 'admin.maxConnectionsPerIp' },
];

/** The first bytes of a TLS record carrying a ClientHello, and then nothing: the slowloris of TLS. */
const partialClientHello = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00]);

const slowHandshakes: Attack = {
  name: 'never-finished TLS handshakes',
  expected: 'closed by the server within handshakeTimeoutSeconds (+5 s)',
  timeoutSeconds: 90,
  legitimateDuring: true,
  async run(context) {
    const results = await Promise.all(
      tlsPorts.map(async (port) => {
        const timeout = setting(context.config, port.timeoutKey);
        const bound = ((timeout ?? 30) + 5) * 1000;
        const perAddress = Math.max(1, (setting(context.config, port.perAddressKey) ?? 10) - 1);
        const from = context.sources.take();
        const wires = await Promise.all(Array.from({ length: perAddress }, () => Wire.open({ port: port.port(context), from, registry: context.registry })));
        // Half say nothing at all; half start a ClientHello and stop.
        wires.forEach((wire, index) => index % 2 === 1 && wire.push(partialClientHello));
        const closed = await Promise.all(wires.map((wire) => wire.closesWithin(bound)));
        const count = closed.filter(Boolean).length;
        const slowest = Math.max(...wires.map((wire) => wire.lifetime ?? bound));
        return { pass: timeout !== undefined && count === wires.length, text: `${port.name} ${count}/${wires.length} closed (slowest ${(slowest / 1000).toFixed(1)} s${timeout === undefined ? `, no ${port.timeoutKey}` : ''})` };
      }),
    );
    return { pass: results.every((result) => result.pass), observed: results.map((result) => result.text).join('; ') };
  },
};

/** Bytes that are not a TLS handshake. */
function garbage(index: number): Buffer {
  switch (index % 4) {
    case 0:
      return randomBytes(4096);
    case 1:
      return Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
    case 2:
      // An SSLv2-style ClientHello (refused: TLS 1.2+ only).
      return Buffer.from('802e0100020015000000100100800700c0030080060040020080040080', 'hex');
    default:
      // A TLS record header announcing 16 MB (more than any record may hold), then junk.
      return Buffer.concat([Buffer.from([0x16, 0x03, 0x03, 0xff, 0xff]), randomBytes(1024)]);
  }
}

/**
 * Garbage is refused at once, except a record header that announces more bytes than
 * come: to TLS that is a handshake still arriving, so the handshake timeout (implicit
 * TLS) or the pre-login timeout (after STARTTLS) must end it.
 */
async function garbageAt(context: AttackContext, port: number, count: number, boundMilliseconds: number, before?: { command: string; ready: RegExp; greeting: RegExp }): Promise<{ closed: number; total: number; missing: string[] }> {
  const from = context.sources.take();
  const missing: string[] = [];
  const results = await Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const wire = await Wire.open({ port, from, registry: context.registry });
      if (before) {
        try {
          await wire.until(before.greeting, 10_000);
          wire.push(before.command);
          await wire.until(before.ready, 10_000);
        } catch (error) {
          missing.push((error as Error).message.slice(0, 80));
          wire.destroy();
          return false;
        }
      }
      wire.push(garbage(index));
      return wire.closesWithin(boundMilliseconds);
    }),
  );
  return { closed: results.filter(Boolean).length, total: count, missing };
}

const badTls: Attack = {
  name: 'bad-TLS garbage',
  expected: 'closed on 993, 465, admin within handshakeTimeoutSeconds, after STARTTLS on 143/587 within the pre-login timeout (+5 s)',
  timeoutSeconds: 60,
  legitimateDuring: true,
  async run(context) {
    const { ports } = context.server;
    const bound = (key: string) => ((setting(context.config, key) ?? 30) + 5) * 1000;
    const runs = await Promise.all([
      garbageAt(context, ports.imaps, 8, bound('imap.handshakeTimeoutSeconds')).then((result) => ({ name: 'imaps', ...result })),
      garbageAt(context, ports.submissions, 8, bound('smtp.handshakeTimeoutSeconds')).then((result) => ({ name: 'submissions', ...result })),
      garbageAt(context, ports.admin, 8, bound('admin.handshakeTimeoutSeconds')).then((result) => ({ name: 'admin', ...result })),
      garbageAt(context, ports.imap, 4, bound('imap.preLoginTimeoutSeconds'), { greeting: /^\* OK[^\r\n]*\r\n/m, command: 's STARTTLS\r\n', ready: /^s OK[^\r\n]*\r\n/m }).then((result) => ({ name: 'imap STARTTLS', ...result })),
      garbageAt(context, ports.submission, 4, bound('smtp.preAuthenticationTimeoutSeconds'), { greeting: /^220 [^\r\n]*\r\n/m, command: 'EHLO attacker.example\r\nSTARTTLS\r\n', ready: /^220 [^\r\n]*\r\n/m }).then((result) => ({ name: 'submission STARTTLS', ...result })),
    ]);
    return {
      pass: runs.every((run) => run.closed === run.total),
      observed: runs.map((run) => `${run.name} ${run.closed}/${run.total}${run.missing.length ? ` (${run.missing[0]})` : ''}`).join('; '),
    };
  },
};

export const handshakeAttacks: Attack[] = [slowHandshakes, badTls];
