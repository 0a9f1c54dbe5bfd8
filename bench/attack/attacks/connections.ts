// Connection limits (DESIGN.md invariant 7): the total per protocol, and per source
// address counted at accept, before any TLS handshake, on every port.
import { setting, type Attack, type AttackContext } from '../attack.js';
import { sleep, Wire } from '../wire.js';

/** What became of one connection within `milliseconds`: greeted, refused with a line, or closed silently. */
async function fate(wire: Wire, greeting: RegExp, refusal: RegExp, milliseconds: number): Promise<'greeted' | 'refused' | 'closed' | 'silent'> {
  try {
    const line = await wire.until(new RegExp(`${greeting.source}|${refusal.source}`, 'm'), milliseconds);
    return greeting.test(line) ? 'greeted' : 'refused';
  } catch {
    return wire.isClosed ? 'closed' : 'silent';
  }
}

/** Opens `count` connections spread over addresses holding at most `perAddress` each. */
async function openSpread(context: AttackContext, port: number, count: number, perAddress: number): Promise<Wire[]> {
  const addresses = context.sources.many(Math.ceil(count / perAddress));
  const opened = await Promise.allSettled(Array.from({ length: count }, (_, index) => Wire.open({ port, from: addresses[Math.floor(index / perAddress)]!, registry: context.registry })));
  return opened.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
}

function totalConnections(protocol: 'imap' | 'smtp'): Attack {
  const greeting = protocol === 'imap' ? /^\* OK/ : /^220 /;
  const refusal = protocol === 'imap' ? /^\* BYE/ : /^421 /;
  return {
    name: `${protocol.toUpperCase()} total connections`,
    expected: protocol === 'imap' ? 'past maxConnections: * BYE' : 'past maxConnections: 421',
    timeoutSeconds: 60,
    legitimateDuring: false,
    async run(context) {
      const maximum = setting(context.config, `${protocol}.maxConnections`)!;
      const perAddress = Math.max(1, setting(context.config, `${protocol}.maxConnectionsPerIp`)! - 1);
      const port = protocol === 'imap' ? context.server.ports.imap : context.server.ports.mx;
      const extra = 20;
      const wires = await openSpread(context, port, maximum + extra, perAddress);
      const fates = await Promise.all(wires.map((wire) => fate(wire, greeting, refusal, 10_000)));
      const count = (which: string) => fates.filter((value) => value === which).length;
      const greeted = count('greeted');
      const refused = count('refused') + count('closed') + (maximum + extra - wires.length);
      return {
        pass: greeted <= maximum && refused >= 1 && count('silent') === 0,
        observed: `${greeted} greeted (max ${maximum}), ${count('refused')} ${protocol === 'imap' ? 'BYE' : '421'}, ${count('closed') + maximum + extra - wires.length} closed, ${count('silent')} silent`,
      };
    },
  };
}

interface PortUnderTest {
  name: string;
  port: (context: AttackContext) => number;
  limitKey: string;
  /** The refusal line on a cleartext port; null where only a close can be expected. */
  refusal: RegExp | null;
}

const everyPort: PortUnderTest[] = [
  { name: 'imap', port: (context) => context.server.ports.imap, limitKey: 'imap.maxConnectionsPerIp', refusal: /^\* BYE/ },
  { name: 'imaps', port: (context) => context.server.ports.imaps, limitKey: 'imap.maxConnectionsPerIp', refusal: null },
  { name: 'mx', port: (context) => context.server.ports.mx, limitKey: 'smtp.maxConnectionsPerIp', refusal: /^421 / },
  { name: 'submission', port: (context) => context.server.ports.submission, limitKey: 'smtp.maxConnectionsPerIp', refusal: /^421 / },
  { name: 'submissions', port: (context) => context.server.ports.submissions, limitKey: 'smtp.maxConnectionsPerIp', refusal: null },
  { name: 'admin', port: (context) => context.server.ports.admin, limitKey: 'admin.maxConnectionsPerIp', refusal: null },
];

const perAddress: Attack = {
  name: 'per-IP connections, every port',
  expected: 'past maxConnectionsPerIp, at accept (TLS ports before any handshake): closed; 143 * BYE, 25/587 421',
  timeoutSeconds: 60,
  legitimateDuring: true,
  async run(context) {
    const results = await Promise.all(
      everyPort.map(async (port) => {
        const limit = setting(context.config, port.limitKey);
        if (limit === undefined) return { pass: false, text: `${port.name}: no ${port.limitKey}` };
        const extra = 5;
        const from = context.sources.take();
        // Raw TCP: not a byte sent, so on a TLS port no handshake is ever started.
        const opened = await Promise.allSettled(Array.from({ length: limit + extra }, () => Wire.open({ port: port.port(context), from, registry: context.registry })));
        const wires = opened.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
        const notAccepted = opened.length - wires.length;
        // Well before any handshake or pre-login timeout: only a refusal closes a socket this soon.
        await sleep(2_000);
        const closedEarly = wires.filter((wire) => wire.isClosed).length + notAccepted;
        const refusalLines = port.refusal ? wires.filter((wire) => port.refusal!.test(wire.received)).length : 0;
        const pass = closedEarly >= extra && closedEarly <= extra + 1 && (port.refusal === null || refusalLines >= extra);
        for (const wire of wires) wire.destroy();
        return { pass, text: `${port.name} ${closedEarly}/${limit + extra} refused${port.refusal ? ` (${refusalLines} with a line)` : ''}` };
      }),
    );
    return { pass: results.every((result) => result.pass), observed: results.map((result) => result.text).join('; ') };
  },
};

export const connectionAttacks: Attack[] = [totalConnections('imap'), totalConnections('smtp'), perAddress];
