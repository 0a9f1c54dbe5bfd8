// Before login a session has a fixed time, however active it is: IMAP answers
// `* BYE Login timeout` (imap.preLoginTimeoutSeconds) and submission answers 421
// (smtp.preAuthenticationTimeoutSeconds). RFC 9051 §5.4's 30-minute autologout
// applies to logged-in IMAP sessions only, so those are left alone.
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { test } from 'node:test';
import { RawClient, startTestServer } from '../imap/server-harness.js';
import { startHarness } from '../smtp/smtp-harness.js';

test('an IMAP session that does not log in is closed at its pre-login deadline, NOOPs or not; a logged-in one stays', { timeout: 120_000 }, async (t) => {
  const server = await startTestServer({ preLoginTimeoutSeconds: 4 });
  t.after(() => server.stop());
  const idler = await RawClient.connect(server);
  const user = await RawClient.connect(server);
  t.after(() => {
    idler.close();
    user.close();
  });
  await user.login();
  // The idler keeps talking: each NOOP is answered, and not one extends the deadline.
  let answered = 0;
  for (let round = 0; round < 200 && !idler.closed; round++) {
    idler.write(`n${round} NOOP\r\n`);
    await new Promise((resolve) => setTimeout(resolve, 250));
    if (/OK/.test(idler.take())) answered++;
  }
  assert.ok(idler.closed, 'the session that never logged in was closed');
  assert.ok(answered >= 1, 'its NOOPs were answered until then');
  assert.match(await user.command('u1', 'NOOP'), /^u1 OK/m, 'the logged-in session goes on');
});

test('the pre-login deadline says BYE Login timeout, on the STARTTLS port as on the TLS port', { timeout: 120_000 }, async (t) => {
  const server = await startTestServer({ preLoginTimeoutSeconds: 2 });
  t.after(() => server.stop());
  for (const secure of [false, true]) {
    const client = await RawClient.connect(server, secure);
    t.after(() => client.close());
    assert.match(await client.readUntil(/^\* BYE .*\r\n/m), /^\* BYE Login timeout\r\n/m);
  }
});

test('a submission session that does not authenticate gets 421 at its deadline, however many commands it sends', { timeout: 120_000 }, async (t) => {
  const harness = await startHarness({ smtp: { preAuthenticationTimeoutSeconds: 2, submission: { port: 0, greetingDelayMilliseconds: 0 } } });
  t.after(() => harness.close());
  const socket = net.connect({ host: '127.0.0.1', port: harness.submissionPort });
  t.after(() => socket.destroy());
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  let isClosed = false;
  void closed.then(() => (isClosed = true));
  // Fewer commands than smtp-server's own cap on commands before AUTH (10), spread
  // out so that its idle timeout never fires: only the deadline can end this session.
  for (let index = 0; index < 8 && !isClosed; index++) {
    socket.write(index === 0 ? 'EHLO client.example.org\r\n' : 'NOOP\r\n');
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  assert.ok(isClosed, `the session was closed; it received: ${JSON.stringify(text)}`);
  assert.match(text, /^421 4\.7\.0 Authentication timeout/m);
  assert.ok(harness.log.events.some((entry) => entry.event === 'smtp.authentication_timeout'));
});
