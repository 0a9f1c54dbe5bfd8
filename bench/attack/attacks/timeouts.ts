// Clients that connect and then sit, silent or trickling commands without ever
// logging in: each must be ended after the configured time, with its protocol's
// goodbye where there is one (IMAP * BYE, SMTP 421).
import { setting, type Attack, type AttackContext } from '../attack.js';
import { sleep, Wire } from '../wire.js';

interface Loiterer {
  name: string;
  port: (context: AttackContext) => number;
  timeoutKey: string;
  greeting: RegExp;
  goodbye: RegExp;
  /** Sent every second to look busy; null: silent. */
  trickle: string | null;
}

const loiterers: Loiterer[] = [
  { name: 'imap silent', port: (context) => context.server.ports.imap, timeoutKey: 'imap.preLoginTimeoutSeconds', greeting: /^\* OK[^\r\n]*\r\n/m, goodbye: /^\* BYE/m, trickle: null },
  { name: 'imap NOOPs', port: (context) => context.server.ports.imap, timeoutKey: 'imap.preLoginTimeoutSeconds', greeting: /^\* OK[^\r\n]*\r\n/m, goodbye: /^\* BYE/m, trickle: 'n NOOP\r\n' },
  { name: 'mx silent', port: (context) => context.server.ports.mx, timeoutKey: 'smtp.idleTimeoutSeconds', greeting: /^220 [^\r\n]*\r\n/m, goodbye: /^421 /m, trickle: null },
  { name: 'submission NOOPs', port: (context) => context.server.ports.submission, timeoutKey: 'smtp.preAuthenticationTimeoutSeconds', greeting: /^220 [^\r\n]*\r\n/m, goodbye: /^421 /m, trickle: 'NOOP\r\n' },
];

const idleTimeouts: Attack = {
  name: 'idle / pre-login timeouts',
  expected: 'ended within the configured time (+5 s): IMAP * BYE, SMTP 421',
  timeoutSeconds: 120,
  legitimateDuring: true,
  async run(context) {
    const results = await Promise.all(
      loiterers.map(async (loiterer) => {
        const timeout = setting(context.config, loiterer.timeoutKey);
        // Without the key the server has no such limit: give up after 60 s.
        const bound = ((timeout ?? 55) + 5) * 1000;
        const wires = await Promise.all(Array.from({ length: 3 }, () => Wire.open({ port: loiterer.port(context), from: context.sources.take(), registry: context.registry })));
        await Promise.all(wires.map((wire) => wire.until(loiterer.greeting, 10_000)));
        const trickling = loiterer.trickle
          ? (async () => {
              while (!context.signal.aborted && wires.some((wire) => !wire.isClosed)) {
                for (const wire of wires) wire.push(loiterer.trickle!);
                await sleep(1_000);
              }
            })()
          : Promise.resolve();
        const closed = await Promise.all(wires.map((wire) => wire.closesWithin(bound)));
        await trickling;
        const goodbyes = wires.filter((wire) => loiterer.goodbye.test(wire.received)).length;
        const slowest = Math.max(...wires.map((wire) => wire.lifetime ?? bound));
        const count = closed.filter(Boolean).length;
        return {
          pass: timeout !== undefined && count === wires.length && goodbyes === wires.length,
          text: `${loiterer.name}: ${count}/${wires.length} ended after ≤${(slowest / 1000).toFixed(1)} s (limit ${timeout ?? 'none'} s), ${goodbyes} with a goodbye`,
        };
      }),
    );
    return { pass: results.every((result) => result.pass), observed: results.map((result) => result.text).join('; ') };
  },
};

export const timeoutAttacks: Attack[] = [idleTimeouts];
