// SIGTERM ends `postkeep start` within a bound whatever the peers do: every listener
// closes at once, sessions get shutdown.graceSeconds, what remains (a handshake never
// started, a client that never speaks) is destroyed, and the ports are free for the
// next start. Past shutdown.timeoutSeconds the process exits non-zero regardless.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import type * as net from 'node:net';
import * as path from 'node:path';
import { test } from 'node:test';
import { temporaryDirectory } from '../helpers/temporary-store.js';
import { childConfig, killServerChild, rawConnection, startServerChild, within, type ServerChild } from './server-child.js';

test('SIGTERM with a silent, never-handshaking connection on every port: the process exits 0 and the same ports serve the next start', { timeout: 180_000 }, async (t) => {
  const directory = await temporaryDirectory('postkeep-shutdown-');
  const servers: ServerChild[] = [];
  const sockets: net.Socket[] = [];
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    for (const server of servers) await killServerChild(server);
    await fs.rm(directory, { recursive: true, force: true });
  });
  const dataDir = path.join(directory, 'data');
  // Handshake deadlines far beyond the grace period: only shutdown can end these connections.
  const settings = { imap: { handshakeTimeoutSeconds: 120 }, smtp: { handshakeTimeoutSeconds: 120, maxConnectionsPerIp: 1000 }, admin: { handshakeTimeoutSeconds: 120 }, shutdown: { graceSeconds: 2 } };
  const first = await startServerChild(directory, childConfig(dataDir, {}, settings));
  servers.push(first);
  const ports = first.ports;
  for (const port of Object.values(ports)) sockets.push(await rawConnection(port));
  const peersClosed = Promise.all(sockets.map((socket) => new Promise<void>((resolve) => socket.once('close', () => resolve()))));
  // And connections still arriving as the signal comes: one accepted just before the
  // stop, not yet in its handshake, once crashed the process (src/smtp/upgrade-guard.ts).
  const arriving = Array.from({ length: 100 }, () => rawConnection(ports.submissions).then((socket) => (sockets.push(socket), socket.on('error', () => {})), () => null));
  first.child.kill('SIGTERM');
  await Promise.all(arriving);
  const exit = await within(first.exited, 60_000, null);
  assert.ok(exit, `the process exited after SIGTERM; its log: ${first.stderr().slice(-2000)}`);
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.ok(first.events().some((entry) => entry.event === 'server.stopped'));
  assert.notEqual(await within(peersClosed, 10_000, 'open'), 'open', 'every peer saw its connection end');
  // Every port is free: a new start on exactly the same ones listens.
  const second = await startServerChild(directory, childConfig(dataDir, ports, settings));
  servers.push(second);
  assert.deepEqual(second.ports, ports);
  second.child.kill('SIGTERM');
  assert.deepEqual(await within(second.exited, 60_000, null), { code: 0, signal: null });
});

test('a stop that takes longer than shutdown.timeoutSeconds ends the process with exit code 1 and server.stop_timeout', { timeout: 120_000 }, async (t) => {
  const directory = await temporaryDirectory('postkeep-shutdown-bound-');
  let server: ServerChild | undefined;
  let socket: net.Socket | undefined;
  t.after(async () => {
    socket?.destroy();
    await killServerChild(server);
    await fs.rm(directory, { recursive: true, force: true });
  });
  // A grace period far longer than the bound, and a handshake that is never started:
  // stop() would wait the whole grace; the bound ends the process first.
  server = await startServerChild(directory, childConfig(path.join(directory, 'data'), {}, { imap: { handshakeTimeoutSeconds: 120 }, shutdown: { graceSeconds: 60, timeoutSeconds: 1 } }));
  socket = await rawConnection(server.ports.imapTls);
  server.child.kill('SIGTERM');
  const exit = await within(server.exited, 30_000, null);
  assert.deepEqual(exit, { code: 1, signal: null });
  assert.ok(server.events().some((entry) => entry.event === 'server.stop_timeout'));
});
