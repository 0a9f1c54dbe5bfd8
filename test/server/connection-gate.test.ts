// Connections are counted per address at accept, before any TLS handshake, over
// every listener of a protocol (src/server/connection-gate.ts); refused sockets are
// destroyed, so hundreds of refusals leave no descriptor behind; handshakes that
// never finish are closed at their deadline. The server runs as a child process
// (`postkeep start`), so its descriptors are counted from /proc/<pid>/fd.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { test } from 'node:test';
import { addressGroup } from '../../src/server/address-group.js';
import { temporaryDirectory } from '../helpers/temporary-store.js';
import { childConfig, killServerChild, rawConnection, startServerChild, within, type ServerChild } from './server-child.js';

test('addresses are counted as IPv4 addresses, IPv6 /64s, and IPv4-mapped IPv6 as the IPv4 address', () => {
  assert.equal(addressGroup('192.0.2.1'), '192.0.2.1');
  assert.equal(addressGroup('::ffff:192.0.2.1'), '192.0.2.1');
  assert.equal(addressGroup('::FFFF:c000:0201'), '192.0.2.1');
  // One /64, whatever the interface identifier and however the address is written.
  const group = addressGroup('2001:db8:1:2::1');
  for (const address of ['2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0db8:0001:0002:0:0:0:9', '2001:DB8:1:2::abcd', '2001:db8:1:2::7%eth0']) {
    assert.equal(addressGroup(address), group, address);
  }
  assert.notEqual(addressGroup('2001:db8:1:3::1'), group);
  assert.notEqual(addressGroup('2001:db8::1'), group);
  assert.equal(addressGroup('::1'), addressGroup('::2'));
  assert.notEqual(addressGroup('::1'), addressGroup('::ffff:127.0.0.1'));
});

/** Connects, sends `line` at once, reads until the server ends the connection; then closes. */
function refusedAfterLine(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write(line));
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.once('end', () => {
      socket.destroy();
      resolve(text);
    });
    socket.once('error', (error) => (text ? resolve(text) : reject(error)));
  });
}

async function greeted(port: number, pattern: RegExp): Promise<net.Socket> {
  const socket = await rawConnection(port);
  await new Promise<void>((resolve, reject) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (pattern.test(text)) resolve();
    });
    socket.once('close', () => reject(new Error(`closed before ${pattern}: ${JSON.stringify(text)}`)));
  });
  return socket;
}

/** Polls the server's descriptor count until it is at most `bound` or 30 s have passed; returns the last count. */
async function descriptorsDownTo(server: ServerChild, bound: number): Promise<number> {
  const deadline = Date.now() + 30_000;
  let count = server.descriptors();
  while (count > bound && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    count = server.descriptors();
  }
  return count;
}

test('hundreds of refused connections that had sent a line leave no descriptor open (IMAP BYE, SMTP 421)', { timeout: 180_000 }, async (t) => {
  const directory = await temporaryDirectory('postkeep-gate-');
  let server: ServerChild | undefined;
  t.after(async () => {
    await killServerChild(server);
    await fs.rm(directory, { recursive: true, force: true });
  });
  server = await startServerChild(directory, childConfig(path.join(directory, 'data'), {}, { imap: { maxConnectionsPerIp: 2 }, smtp: { maxConnectionsPerIp: 2 } }));
  const held = [await greeted(server.ports.imap, /^\* OK /), await greeted(server.ports.imap, /^\* OK /), await greeted(server.ports.mx, /^220 /), await greeted(server.ports.mx, /^220 /)];
  t.after(() => held.forEach((socket) => socket.destroy()));
  const baseline = server.descriptors();
  const rounds = 300;
  const batch = 50;
  for (let start = 0; start < rounds; start += batch) {
    const replies = await Promise.all(
      Array.from({ length: batch }, (_, index) =>
        (start + index) % 2 === 0 ? refusedAfterLine(server!.ports.imap, 'a1 NOOP\r\n') : refusedAfterLine(server!.ports.mx, 'EHLO client.example.org\r\n'),
      ),
    );
    for (const [index, reply] of replies.entries()) {
      assert.match(reply, (start + index) % 2 === 0 ? /^\* BYE Too many connections\r\n$/ : /^421 4\.7\.0 Too many connections from your address/);
    }
  }
  // A few descriptors of slack for what the process opens on its own (the store's files).
  const after = await descriptorsDownTo(server, baseline + 5);
  t.diagnostic(`server descriptors: ${baseline} before ${rounds} refusals, ${after} after`);
  assert.ok(after <= baseline + 5, `the server holds ${after} descriptors after ${rounds} refusals, against ${baseline} before`);
  const refusedEvents = server.events().filter((entry) => entry.event === 'imap.connection_refused' || entry.event === 'smtp.connection_refused');
  assert.equal(refusedEvents.length, rounds);
  // A slot that frees is usable again: the count went down with the socket.
  held[0]!.destroy();
  let greeting = '';
  for (let attempt = 0; attempt < 20 && !greeting.startsWith('* OK'); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    greeting = await firstLine(server.ports.imap);
  }
  assert.match(greeting, /^\* OK /);
});

/** The first line a new connection to `port` is sent; then the connection is closed. */
async function firstLine(port: number): Promise<string> {
  const socket = await rawConnection(port);
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (text.includes('\r\n')) {
        socket.destroy();
        resolve(text.split('\r\n')[0]!);
      }
    });
    socket.once('close', () => resolve(text));
  });
}

test('implicit-TLS ports count at accept: over the per-address limit closed at once, the rest at the handshake deadline, over all listeners of the protocol', { timeout: 180_000 }, async (t) => {
  const directory = await temporaryDirectory('postkeep-gate-tls-');
  let server: ServerChild | undefined;
  t.after(async () => {
    await killServerChild(server);
    await fs.rm(directory, { recursive: true, force: true });
  });
  const limits = { maxConnectionsPerIp: 5, handshakeTimeoutSeconds: 10 };
  server = await startServerChild(directory, childConfig(path.join(directory, 'data'), {}, { imap: limits, smtp: limits, admin: limits }));
  const ports = server.ports;
  // The cleartext listener of the same protocol shares the count (none for the admin API).
  const siblings: Record<string, { port: number; refusal: RegExp } | null> = {
    imap: { port: ports.imap, refusal: /^\* BYE Too many connections/ },
    submissions: { port: ports.mx, refusal: /^421 4\.7\.0 Too many connections/ },
    admin: null,
  };
  const targets = { imap: ports.imapTls, submissions: ports.submissions, admin: ports.admin };
  await Promise.all(
    Object.entries(targets).map(async ([name, port]) => {
      const closed = new Set<net.Socket>();
      const track = (socket: net.Socket) => {
        const gone = new Promise<void>((resolve) => socket.once('close', () => resolve()));
        void gone.then(() => closed.add(socket));
        return { socket, gone };
      };
      const held: { socket: net.Socket; gone: Promise<void> }[] = [];
      for (let index = 0; index < 5; index++) held.push(track(await rawConnection(port)));
      const extra = await Promise.all(Array.from({ length: 20 }, async () => track(await rawConnection(port))));
      const refused = await within(Promise.all(extra.map((entry) => entry.gone)), 60_000, 'not closed');
      assert.notEqual(refused, 'not closed', `${name}: the connections over the limit are closed`);
      assert.equal(held.filter((entry) => closed.has(entry.socket)).length, 0, `${name}: the five within the limit are still open, waiting for their handshake`);
      const sibling = siblings[name];
      if (sibling) assert.match(await firstLine(sibling.port), sibling.refusal, `${name}: the cleartext port counts them too`);
      const timedOut = await within(Promise.all(held.map((entry) => entry.gone)), 60_000, 'not closed');
      assert.notEqual(timedOut, 'not closed', `${name}: never-handshaking connections are closed at the handshake deadline`);
      // Their slots are free again: a real client completes a handshake.
      const client = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
      client.on('error', () => {});
      const secured = await within(new Promise<boolean>((resolve) => {
        client.once('secureConnect', () => resolve(true));
        client.once('close', () => resolve(false));
      }), 30_000, false);
      client.destroy();
      assert.equal(secured, true, `${name}: a handshake succeeds once the slots are free`);
    }),
  );
  const refusals = server.events().filter((entry) => /\.connection_refused$/.test(entry.event));
  t.diagnostic(`refusals logged: ${refusals.length}`);
  assert.ok(refusals.length >= 60);
});
