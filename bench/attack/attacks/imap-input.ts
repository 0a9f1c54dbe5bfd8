// Hostile input from IMAP clients, most of them logged in (the attacker has an
// account): long lines, APPEND past APPENDLIMIT and quota, LITERAL+ floods, commands
// pipelined without reading a reply, and a COMPRESS=DEFLATE inflate bomb.
import { deflateRawSync, constants as zlibConstants } from 'node:zlib';
import { mebibyte, setting, type Account, type Attack, type AttackContext } from '../attack.js';
import { directoryBytes, sampleMaximum } from '../server-process.js';
import { quoted, sleep, Wire } from '../wire.js';

async function loggedIn(context: AttackContext, options: { read?: boolean; account?: Account } = {}): Promise<Wire> {
  const account = options.account ?? context.attacker;
  const wire = await Wire.open({ port: context.server.ports.imaps, tls: true, from: context.sources.take(), registry: context.registry });
  await wire.until(/^\* OK[^\r\n]*\r\n/m);
  wire.push(`l LOGIN ${quoted(account.login)} ${quoted(account.password)}\r\n`);
  const line = await wire.until(/^l (OK|NO|BAD)[^\r\n]*\r\n/m, 30_000);
  if (!line.startsWith('l OK')) throw new Error(`attacker login: ${line.trim()}`);
  if (options.read === false) wire.socket.pause();
  return wire;
}

/** The first tagged reply for `tag`, a `+` continuation, a BYE, or the close. */
async function answer(wire: Wire, tag: string, milliseconds = 15_000): Promise<string> {
  try {
    return (await wire.until(new RegExp(`^(${tag} (OK|NO|BAD)|\\+|\\* BYE)[^\\r\\n]*`, 'm'), milliseconds)).trim();
  } catch {
    return wire.isClosed ? 'closed' : 'nothing';
  }
}

const longLines: Attack = {
  name: 'long command lines',
  expected: 'past imap.lineLimit: BAD or BYE; SMTP 500 or close',
  timeoutSeconds: 60,
  legitimateDuring: true,
  async run(context) {
    const lineLimit = setting(context.config, 'imap.lineLimit')!;
    const outcomes: string[] = [];
    let pass = true;
    // 1. One line 4 × the limit, before login, then a NOOP: refused, and the connection answers or is gone.
    {
      const wire = await Wire.open({ port: context.server.ports.imap, from: context.sources.take(), registry: context.registry });
      await wire.until(/^\* OK[^\r\n]*\r\n/m);
      await wire.write(`a NOOP ${'x'.repeat(lineLimit * 4)}\r\n`);
      const reply = await answer(wire, '(a|\\*)');
      const refused = /^(a BAD|\* BAD|\* BYE|closed)/.test(reply) || /BAD|BYE/.test(reply);
      pass &&= refused;
      outcomes.push(`4×limit line: ${reply.slice(0, 50)}`);
      wire.destroy();
    }
    // 2. A line that never ends: 64 MiB without CRLF as fast as the server takes it.
    {
      const wire = await Wire.open({ port: context.server.ports.imap, from: context.sources.take(), registry: context.registry });
      await wire.until(/^\* OK[^\r\n]*\r\n/m);
      const chunk = Buffer.alloc(64 * 1024, 'y');
      let sent = 0;
      wire.push('b NOOP ');
      while (sent < 64 * mebibyte && !wire.isClosed && !context.signal.aborted && !/BAD|BYE/.test(wire.received)) {
        if (!(await wire.write(chunk))) break;
        sent += chunk.length;
      }
      const stopped = wire.isClosed || /BAD|BYE/.test(wire.received);
      pass &&= stopped;
      outcomes.push(`endless line: ${stopped ? `stopped after ${(sent / mebibyte).toFixed(1)} MiB` : 'all 64 MiB taken'}`);
      wire.destroy();
    }
    // 3. SMTP: an EHLO of 1 MiB.
    {
      const wire = await Wire.open({ port: context.server.ports.mx, from: context.sources.take(), registry: context.registry });
      await wire.until(/^220 [^\r\n]*\r\n/m);
      await wire.write(`EHLO ${'z'.repeat(mebibyte)}\r\n`);
      let reply: string;
      try {
        reply = (await wire.until(/^\d{3} [^\r\n]*/m, 15_000)).trim();
      } catch {
        reply = wire.isClosed ? 'closed' : 'nothing';
      }
      const refused = /^(5\d\d|421)/.test(reply) || reply === 'closed';
      pass &&= refused;
      outcomes.push(`SMTP 1 MiB EHLO: ${reply.slice(0, 40)}`);
      wire.destroy();
    }
    return { pass, observed: outcomes.join('; ') };
  },
};

const appendLimits: Attack = {
  name: 'APPEND over APPENDLIMIT and quota',
  expected: 'NO [TOOBIG] / NO [OVERQUOTA] before any "+" (LITERAL+: NO/BAD/BYE)',
  timeoutSeconds: 60,
  legitimateDuring: true,
  async run(context) {
    const appendLimit = setting(context.config, 'imap.appendLimit')!;
    const outcomes: string[] = [];
    let pass = true;
    const cases = [
      { label: 'over APPENDLIMIT', size: appendLimit + 1, plus: false, expected: /^t NO \[(TOOBIG|LIMIT)\]/ },
      { label: 'over quota', size: 15 * 1000 * 1000, plus: false, expected: /^t NO \[OVERQUOTA\]/ },
      { label: 'LITERAL+ over APPENDLIMIT', size: appendLimit + 1, plus: true, expected: /^(t NO|t BAD|\* BYE|closed)/ },
    ];
    for (const item of cases) {
      const wire = await loggedIn(context);
      wire.push(`t APPEND INBOX {${item.size}${item.plus ? '+' : ''}}\r\n`);
      // A LITERAL+ client sends the bytes at once; 1 MiB of them is enough to see the refusal.
      if (item.plus) await wire.write(Buffer.alloc(mebibyte, 'q'));
      const reply = await answer(wire, 't');
      const ok = item.expected.test(reply);
      pass &&= ok;
      outcomes.push(`${item.label}: ${reply.slice(0, 45)}`);
      wire.destroy();
    }
    return { pass, observed: outcomes.join('; ') };
  },
};

/** The imap spool's bound from the config: a key with "spool" in its name, else quota + APPENDLIMIT. */
function imapSpoolBound(context: AttackContext): { bytes: number; key: string } {
  const imap = context.config.imap as Record<string, unknown>;
  const key = Object.keys(imap).find((name) => /spool/i.test(name) && typeof imap[name] === 'number');
  if (key) return { bytes: imap[key] as number, key: `imap.${key}` };
  return { bytes: 10 * 1000 * 1000 + setting(context.config, 'imap.appendLimit')!, key: 'quota + appendLimit' };
}

const literalFlood: Attack = {
  name: 'MULTIAPPEND LITERAL+ flood',
  expected: '30 × 5 MB LITERAL+ (150 MB, quota 10 MB): refused (NO/BAD/BYE) early, imap-spool bounded',
  timeoutSeconds: 60,
  legitimateDuring: true,
  async run(context) {
    const spoolDirectory = `${context.dataDir}/imap-spool`;
    const bound = imapSpoolBound(context);
    const wire = await loggedIn(context);
    const literal = Buffer.alloc(5 * 1000 * 1000, 'm');
    const header = Buffer.from('From: a@b\r\nSubject: flood\r\n\r\n');
    literal.set(header);
    const spool = sampleMaximum(() => directoryBytes(spoolDirectory), 50);
    let sent = 0;
    wire.push('m APPEND INBOX');
    for (let index = 0; index < 30 && !wire.isClosed && !context.signal.aborted; index++) {
      if (/^(m (NO|BAD)|\* BYE)/m.test(wire.received)) break;
      await wire.write(` {${literal.length}+}\r\n`);
      if (!(await wire.write(literal))) break;
      sent += literal.length;
    }
    // Never the final CRLF: the command stays unfinished while we look.
    await sleep(1_000);
    const peak = spool.stop();
    const reply = /^(m (NO|BAD)|\* BYE)[^\r\n]*/m.exec(wire.received)?.[0] ?? (wire.isClosed ? 'closed' : 'no reply');
    wire.destroy();
    await sleep(1_000);
    const left = directoryBytes(spoolDirectory);
    const refused = reply !== 'no reply';
    return {
      pass: refused && peak <= bound.bytes && left === 0,
      observed: `${reply.slice(0, 40)} after ${(sent / 1e6).toFixed(0)} MB sent; spool peak ${(peak / 1e6).toFixed(1)} MB (bound ${(bound.bytes / 1e6).toFixed(0)} MB, ${bound.key}), ${(left / 1e6).toFixed(1)} MB left after close`,
    };
  },
};

/**
 * Synchronizing literals of one unfinished MULTIAPPEND, one after another while
 * each gets its "+": the reply that stopped it (or null) and the bytes sent.
 */
async function appendLiterals(context: AttackContext, wire: Wire, count: number, size: number): Promise<{ refusal: string | null; sent: number }> {
  const literal = Buffer.alloc(size, 's');
  literal.set(Buffer.from('From: a@b\r\nSubject: hoard\r\n\r\n'));
  let sent = 0;
  wire.push('h APPEND INBOX');
  for (let index = 0; index < count && !context.signal.aborted; index++) {
    wire.push(` {${size}}\r\n`);
    const reply = await answer(wire, 'h', 30_000);
    if (!reply.startsWith('+')) return { refusal: reply, sent };
    if (!(await wire.write(literal))) return { refusal: 'closed', sent };
    sent += size;
  }
  return { refusal: null, sent };
}

const spoolLimits: Attack = {
  name: 'IMAP spool limits (no quota)',
  expected: 'NO [LIMIT] past imap.connectionSpoolLimit on one connection and past imap.spoolLimit over all; imap-spool bounded',
  timeoutSeconds: 90,
  legitimateDuring: true,
  async run(context) {
    const perConnection = setting(context.config, 'imap.connectionSpoolLimit');
    const total = setting(context.config, 'imap.spoolLimit');
    if (perConnection === undefined || total === undefined) return { pass: false, observed: 'no imap.connectionSpoolLimit / imap.spoolLimit' };
    const spoolDirectory = `${context.dataDir}/imap-spool`;
    const size = 4 * mebibyte;
    // 1. One connection: literals until twice its own limit.
    const spool = sampleMaximum(() => directoryBytes(spoolDirectory), 50);
    const single = await loggedIn(context, { account: context.hoarder });
    const one = await appendLiterals(context, single, Math.ceil((2 * perConnection) / size), size);
    const onePeak = spool.stop();
    single.destroy();
    await sleep(500);
    // 2. Several connections, each under its own limit, together twice the total.
    const connections = Math.ceil((2 * total) / (perConnection - size)) + 1;
    const perWire = Math.floor((perConnection - size) / size);
    const together = sampleMaximum(() => directoryBytes(spoolDirectory), 50);
    const wires = await Promise.all(Array.from({ length: connections }, () => loggedIn(context, { account: context.hoarder })));
    const many = await Promise.all(wires.map((wire) => appendLiterals(context, wire, perWire, size)));
    const manyPeak = together.stop();
    for (const wire of wires) wire.destroy();
    await sleep(1_000);
    const left = directoryBytes(spoolDirectory);
    const refusals = many.filter((result) => result.refusal !== null);
    const limited = (reply: string | null) => reply !== null && /^h NO \[LIMIT\]/.test(reply);
    const slack = mebibyte;
    return {
      pass: limited(one.refusal) && onePeak <= perConnection + slack && refusals.length >= 1 && refusals.every((result) => limited(result.refusal)) && manyPeak <= total + slack && left === 0,
      observed:
        `one connection: ${one.refusal?.slice(0, 30) ?? 'never refused'} after ${(one.sent / mebibyte).toFixed(0)} MiB, spool peak on disk ${(onePeak / mebibyte).toFixed(1)} MiB (limit ${(perConnection / mebibyte).toFixed(0)}); ` +
        `${connections} connections: ${refusals.length} refused (${refusals[0]?.refusal?.slice(0, 30) ?? 'none'}), spool peak on disk ${(manyPeak / mebibyte).toFixed(1)} MiB (limit ${(total / mebibyte).toFixed(0)}); ${(left / mebibyte).toFixed(1)} MiB left after close`,
    };
  },
};

/** Writes `data` again and again while the socket takes it, for `milliseconds`; bytes taken. */
async function writeFor(context: AttackContext, wire: Wire, data: Buffer, milliseconds: number, maximumBytes: number): Promise<number> {
  const until = Date.now() + milliseconds;
  let sent = 0;
  while (Date.now() < until && sent < maximumBytes && !wire.isClosed && !context.signal.aborted) {
    const room = wire.socket.write(data);
    sent += data.length;
    if (!room) {
      // The kernel's buffers are full: wait for room, or give up when the time is over.
      const drained = await Promise.race([new Promise<boolean>((resolve) => wire.socket.once('drain', () => resolve(true))), sleep(Math.max(0, until - Date.now())).then(() => false)]);
      if (!drained) break;
    }
  }
  return sent;
}

const pipelining: Attack = {
  name: 'pipelined commands, replies never read',
  expected: 'the server stops reading (backpressure); RSS bounded',
  timeoutSeconds: 60,
  legitimateDuring: true,
  async run(context) {
    const wire = await loggedIn(context);
    // A 100 kB message so every FETCH has something to answer with.
    const body = Buffer.concat([Buffer.from('From: a@b\r\nSubject: big\r\n\r\n'), Buffer.alloc(100_000, 'p')]);
    wire.push(`p APPEND INBOX {${body.length}+}\r\n`);
    wire.push(body);
    wire.push('\r\ns SELECT INBOX\r\n');
    await wire.until(/^s (OK|NO|BAD)[^\r\n]*\r\n/m, 30_000);
    wire.socket.pause();
    const commands = Buffer.from('f FETCH 1:* BODY.PEEK[]\r\n'.repeat(2_000));
    const sent = await writeFor(context, wire, commands, 8_000, 200 * mebibyte);
    const up = context.server.up;
    wire.destroy();
    const bounded = sent < 200 * mebibyte;
    return { pass: bounded && up, observed: `${(sent / mebibyte).toFixed(1)} MiB of FETCHes taken in 8 s, then ${bounded ? 'the server stopped reading' : 'still reading'}` };
  },
};

const inflateBomb: Attack = {
  name: 'COMPRESS=DEFLATE inflate bomb',
  expected: 'RSS bounded (inflated input obeys backpressure); server up',
  timeoutSeconds: 60,
  legitimateDuring: true,
  async run(context) {
    const wire = await loggedIn(context);
    wire.push('c COMPRESS DEFLATE\r\n');
    const reply = await answer(wire, 'c');
    if (!reply.startsWith('c OK')) {
      wire.destroy();
      return { pass: false, observed: `COMPRESS: ${reply}` };
    }
    wire.socket.pause();
    // 4 million NOOPs (32 MB) deflate to about 32 kB; the stream is sent 5 times (20 million NOOPs).
    const bomb = deflateRawSync(Buffer.from('a NOOP\r\n'.repeat(4_000_000)), { level: 9, finishFlush: zlibConstants.Z_SYNC_FLUSH });
    // The TLS layer carries the compressed bytes (RFC 4978 §4: compression inside TLS).
    let sent = 0;
    for (let round = 0; round < 5 && !wire.isClosed && !context.signal.aborted; round++) {
      sent += await writeFor(context, wire, bomb, 4_000, bomb.length);
    }
    await sleep(3_000);
    const up = context.server.up;
    wire.destroy();
    return { pass: up, observed: `${(sent / 1e3).toFixed(0)} kB of deflated NOOPs taken (${(((sent / bomb.length) * 32) | 0)} MB once inflated); server ${up ? 'up' : 'DOWN'}`, peakGrowthBound: 256 * mebibyte };
  },
};

export const imapInputAttacks: Attack[] = [longLines, appendLimits, literalFlood, spoolLimits, pipelining, inflateBomb];
