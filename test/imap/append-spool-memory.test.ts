// APPEND literals on their way to the spool files are bounded in memory for the whole
// connection, not per literal: a MULTIAPPEND sent in one go (LITERAL+, RFC 7888) cannot
// make the server hold a high-water mark's worth of unwritten bytes for every literal.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RawClient } from './server-harness.js';
import { messageOfSize, send, spoolEmptied, startSpoolServer } from './spool-server.js';

const MiB = 1024 * 1024;
// The connection's bound (spoolHighWater in src/imap/connection.ts) plus one input slice.
const bound = 4 * MiB + MiB;

test('a MULTIAPPEND of twelve 4 MiB LITERAL+ literals written at once holds at most one bound of unwritten literal bytes', { timeout: 240_000 }, async () => {
  const server = await startSpoolServer({});
  try {
    const client = await RawClient.connect(server);
    await client.login();
    const port = client.socket.localPort;
    const literal = messageOfSize(4 * MiB);
    const parts: Buffer[] = [Buffer.from(`M1 APPEND INBOX {${literal.length}+}\r\n`)];
    for (let index = 0; index < 12; index++) parts.push(literal, Buffer.from(index < 11 ? ` {${literal.length}+}\r\n` : '\r\n'));
    await send(client, Buffer.concat(parts));
    assert.match(await client.response('M1'), /M1 OK \[APPENDUID /);
    assert.equal((await server.account.getMailbox('INBOX')).messages, 12);
    client.close();
    let peaks: { spoolBytesInFlight?: number } | undefined;
    while (!peaks) {
      peaks = server.log.events.find((entry) => entry.event === 'imap.connection_peaks' && entry.fields.remotePort === port)?.fields as typeof peaks;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(typeof peaks.spoolBytesInFlight, 'number');
    assert.ok(peaks.spoolBytesInFlight! <= bound, `${peaks.spoolBytesInFlight} literal bytes were held unwritten at once`);
    await spoolEmptied(server.spoolDirectory);
  } finally {
    await server.stop();
  }
});
