import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RawClient, startTestServer, login, password } from './server-harness.js';

test('before STARTTLS the cleartext port says LOGINDISABLED, no AUTH=, and refuses LOGIN and AUTHENTICATE', async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  const client = await RawClient.connect(server, false);
  t.after(() => client.close());
  const capability = await client.command('a1', 'CAPABILITY');
  assert.match(capability, /^\* CAPABILITY .*\bSTARTTLS\b.*\bLOGINDISABLED\b/m);
  assert.doesNotMatch(capability, /AUTH=/);
  assert.match(await client.command('a2', `LOGIN ${login} "${password}"`), /^a2 NO \[PRIVACYREQUIRED\]/m);
  assert.match(await client.command('a3', 'AUTHENTICATE PLAIN AGFsaWNlQGV4YW1wbGUuY29tAHg='), /^a3 NO \[PRIVACYREQUIRED\]/m);
  // Pipelined bytes after STARTTLS must not be run in the TLS session.
  client.write('a4 STARTTLS\r\na5 NOOP\r\n');
  const reply = await client.response('a4');
  assert.match(reply, /a4 OK/);
  assert.doesNotMatch(reply, /a5/);
  await client.upgrade();
  const after = await client.command('a6', 'CAPABILITY');
  assert.match(after, /AUTH=PLAIN/);
  assert.doesNotMatch(after, /LOGINDISABLED|STARTTLS/);
  assert.doesNotMatch(after, /a5/);
  await client.login();
  assert.match(await client.command('a7', 'LOGOUT'), /^\* BYE .*\r\na7 OK/m);
});

test('AUTHENTICATE PLAIN with SASL-IR and with a continuation; wrong passwords get AUTHENTICATIONFAILED', async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  const client = await RawClient.connect(server);
  t.after(() => client.close());
  const wrong = Buffer.from(`\0${login}\0nope`).toString('base64');
  assert.match(await client.command('b1', `AUTHENTICATE PLAIN ${wrong}`), /^b1 NO \[AUTHENTICATIONFAILED\]/m);
  client.write('b2 AUTHENTICATE PLAIN\r\n');
  await client.readUntil(/^\+ \r\n/m);
  client.take();
  client.write(Buffer.from(`\0${login}\0${password}`).toString('base64') + '\r\n');
  assert.match(await client.response('b2'), /^b2 OK \[CAPABILITY [^\]]*IMAP4rev2/m);
  assert.match(await client.command('b3', 'LOGIN x y'), /^b3 BAD/m);
});

test('malformed commands get BAD and the session goes on', async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  const client = await RawClient.connect(server);
  t.after(() => client.close());
  assert.match(await client.command('c1', 'FROBNICATE'), /^c1 BAD/m);
  assert.match(await client.command('c2', 'SELECT'), /^c2 BAD/m);
  assert.match(await client.command('c3', 'SELECT INBOX'), /^c3 BAD .*not allowed/m);
  client.write('\r\n');
  client.write('(((\r\n');
  await client.readUntil(/\* BAD[^\r]*\r\n\* BAD/);
  client.take();
  await client.login();
  assert.match(await client.command('c4', 'FETCH 1:* FLAGS'), /^c4 BAD .*not allowed/m);
  assert.match(await client.command('c5', 'SELECT INBOX'), /^c5 OK \[READ-WRITE\]/m);
  assert.match(await client.command('c6', 'FETCH x FLAGS'), /^c6 BAD/m);
  assert.match(await client.command('c7', 'STORE 1 +FLAGS (\\Seen'), /^c7 BAD/m);
  assert.match(await client.command('c8', 'SELECT "no such mailbox"'), /^c8 NO \[NONEXISTENT\]/m);
  assert.match(await client.command('c9', 'NOOP'), /^c9 OK/m);
});

test('connections per IP are limited', async (t) => {
  const server = await startTestServer({ maxConnectionsPerIp: 2 });
  t.after(() => server.stop());
  const first = await RawClient.connect(server);
  const second = await RawClient.connect(server);
  t.after(() => {
    first.close();
    second.close();
  });
  // Counted over both ports, at accept: the cleartext port says why in the clear ...
  const third = (await import('node:net')).connect({ host: '127.0.0.1', port: server.port });
  let received = '';
  third.on('data', (chunk) => (received += chunk.toString()));
  await new Promise<void>((resolve) => third.on('close', () => resolve()));
  assert.match(received, /^\* BYE Too many connections/);
  // ... and the TLS port closes before any handshake (refusing costs no TLS work).
  const fourth = (await import('node:tls')).connect({ host: '127.0.0.1', port: server.tlsPort, rejectUnauthorized: false });
  let secured = false;
  fourth.on('secureConnect', () => (secured = true));
  fourth.on('error', () => {});
  await new Promise<void>((resolve) => fourth.on('close', () => resolve()));
  assert.equal(secured, false);
});

test('limits: an over-long line and an over-large literal get BAD, the session goes on; autologout says BYE', async (t) => {
  const server = await startTestServer({ lineLimit: 2048, literalLimit: 1024, autologoutSeconds: 2 });
  t.after(() => server.stop());
  const client = await RawClient.connect(server);
  t.after(() => client.close());
  assert.match(await client.command('l1', `NOOP ${'x'.repeat(5000)}`), /^l1 BAD/m);
  assert.match(await client.command('l2', 'LOGIN {2000}'), /^l2 BAD \[TOOBIG\]/m);
  assert.match(await client.command('l3', 'NOOP'), /^l3 OK/m);
  // With nothing sent for the autologout time, the server says BYE and closes.
  await client.readUntil(/^\* BYE Autologout/m);
});

test('IDLE hears of an EXPUNGE by another session; DONE ends it', { timeout: 30_000 }, async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  const { sampleMessage } = await import('../helpers/temporary-store.js');
  await server.account.append('INBOX', sampleMessage());
  await server.account.append('INBOX', sampleMessage());
  const watcher = await RawClient.connect(server);
  const actor = await RawClient.connect(server);
  t.after(() => {
    watcher.close();
    actor.close();
  });
  await watcher.login();
  await actor.login();
  await watcher.command('w1', 'SELECT INBOX');
  await actor.command('a1', 'SELECT INBOX');
  watcher.write('w2 IDLE\r\n');
  await watcher.readUntil(/^\+ idling\r\n/m);
  watcher.take();
  await actor.command('a2', 'STORE 1 +FLAGS.SILENT (\\Deleted)');
  await watcher.readUntil(/^\* 1 FETCH \(UID 1 FLAGS \((\\Recent )?\\Deleted\)\)\r\n/m);
  await actor.command('a3', 'EXPUNGE');
  await watcher.readUntil(/^\* 1 EXPUNGE\r\n/m);
  watcher.write('DONE\r\n');
  assert.match(await watcher.response('w2'), /w2 OK/);
  assert.match(await watcher.command('w3', 'FETCH 1 (UID)'), /^\* 1 FETCH \(UID 2\)\r\nw3 OK/m);
});
