// A logged-in client that pipelines FETCHes and never reads the replies (nor closes) must
// not keep its connection for ever: the replies back up to imap.maxUnsentReplyBytes, the
// connection goes quiet, the autologout fires, and its BYE can never be written. The
// server then destroys the socket after a short grace, and the connection's slot (here
// the only one per address) is free for the next client (DESIGN.md invariant 7).
// The same holds for LOGOUT, whose reply such a client does not read either.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import * as tls from 'node:tls';
import { RawClient, login, password, startTestServer, type TestServer } from './server-harness.js';

const limits = { autologoutSeconds: 1, maxConnectionsPerIp: 1, maxQueuedCommands: 8, maxUnsentReplyBytes: 16 * 1024 };

function largeMessage(): Buffer {
  const body = randomBytes(96 * 1024).toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from(`From: bob@example.org\r\nTo: alice@example.com\r\nSubject: noise\r\n\r\n${body}\r\n`);
}

/** Waits for a log event; the failsafe turns a server that never logs it into a failure, not a hung run. */
async function logged(server: TestServer, event: string, port: number, fields: Record<string, unknown> = {}, failsafeSeconds = 60): Promise<Record<string, unknown>> {
  const deadline = Date.now() + failsafeSeconds * 1000;
  const matches = (candidate: { event: string; fields: Record<string, unknown> }) =>
    candidate.event === event && candidate.fields.remotePort === port && Object.entries(fields).every(([name, value]) => candidate.fields[name] === value);
  for (;;) {
    const entry = server.log.events.find(matches);
    if (entry) return entry.fields;
    if (Date.now() > deadline) throw new Error(`no ${event} for port ${port} within ${failsafeSeconds} s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Logs in and selects INBOX on the implicit-TLS port, reading replies until then. */
async function loggedInSocket(server: TestServer): Promise<tls.TLSSocket> {
  const socket = tls.connect({ host: '127.0.0.1', port: server.tlsPort, rejectUnauthorized: false });
  socket.on('error', () => {});
  await once(socket, 'secureConnect');
  let received = '';
  const until = (pattern: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (pattern.test(received)) {
          socket.off('data', onData);
          socket.off('close', onClose);
          resolve();
        }
      };
      const onData = (chunk: Buffer) => {
        received += chunk.toString('latin1');
        check();
      };
      const onClose = () => reject(new Error(`closed; received ${JSON.stringify(received)}`));
      socket.on('data', onData);
      socket.on('close', onClose);
      check();
    });
  await until(/^\* OK/m);
  socket.write(`a1 LOGIN ${login} "${password}"\r\n`);
  await until(/^a1 OK/m);
  socket.write('a2 SELECT INBOX\r\n');
  await until(/^a2 OK/m);
  return socket;
}

/** A new client is accepted (its greeting is OK, not BYE Too many connections), so the slot was freed. */
async function slotIsFree(server: TestServer): Promise<void> {
  const next = await RawClient.connect(server);
  try {
    await next.login();
    assert.match(await next.command('b1', 'NOOP'), /b1 OK/);
  } finally {
    next.close();
  }
}

test('autologout: a client that pipelines FETCHes without reading is disconnected although its BYE cannot be written', { timeout: 120_000 }, async () => {
  const server = await startTestServer(limits);
  try {
    await server.account.append('INBOX', largeMessage());
    const socket = await loggedInSocket(server);
    const port = socket.localPort!;
    socket.pause();
    // 64 FETCHes of 130 KB: far more than the kernel's socket buffers hold, so the replies back up.
    let flood = '';
    for (let i = 1; i <= 64; i++) flood += `f${i} FETCH 1 BODY.PEEK[]\r\n`;
    socket.write(flood);
    await logged(server, 'imap.backpressure', port, { reason: 'unsent_replies' });
    // The client reads nothing and never closes; the server must end the connection itself.
    const peaks = await logged(server, 'imap.connection_peaks', port);
    assert.ok((peaks.unsentReplyBytes as number) > limits.maxUnsentReplyBytes, `unsent ${String(peaks.unsentReplyBytes)}`);
    await logged(server, 'imap.autologout', port);
    await logged(server, 'imap.close_forced', port, { reason: 'autologout' });
    await slotIsFree(server);
    // The client finds its connection gone once it looks.
    const closed = once(socket, 'close');
    socket.resume();
    await closed;
  } finally {
    await server.stop();
  }
});

test('LOGOUT from a client that never reads the reply nor closes frees its slot after the grace', { timeout: 120_000 }, async () => {
  const server = await startTestServer({ ...limits, autologoutSeconds: 3600 });
  try {
    const socket = await loggedInSocket(server);
    const port = socket.localPort!;
    // The client stops reading: it never sees the server's end of the stream, so it never closes its own.
    socket.pause();
    socket.write('z1 LOGOUT\r\n');
    await logged(server, 'imap.connection_peaks', port);
    await logged(server, 'imap.close_forced', port, { reason: 'logout' });
    await slotIsFree(server);
    socket.destroy();
  } finally {
    await server.stop();
  }
});
