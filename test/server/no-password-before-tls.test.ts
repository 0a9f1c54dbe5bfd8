// No password is accepted before TLS on any port (RFC 8314 §3.3, RFC 9051 §6.2.3,
// RFC 4954 §4): the IMAP cleartext port announces LOGINDISABLED and refuses LOGIN
// and AUTHENTICATE until STARTTLS; submission offers and accepts AUTH only after
// STARTTLS; the MX never offers or accepts AUTH. The one exception is
// imap.allowPlaintextOnLoopback, for development. Each refusal is paired with the
// same credentials succeeding after TLS, so the refusal is about TLS, not the password.
import assert from 'node:assert/strict';
import * as os from 'node:os';
import { after, before, test } from 'node:test';
import { hashPassword } from '../../src/auth/password.js';
import { LineClient, startFullServer, type FullServer } from './tls-harness.js';

const login = 'alice@example.com';
const password = 'plaintext test password';
const plain = Buffer.from(`\0${login}\0${password}`).toString('base64');

let running: FullServer;

async function addAlice(server: FullServer): Promise<void> {
  await server.server.store.admin.addDomain('example.com');
  await server.server.store.admin.addAccount(login, await hashPassword(password));
}

before(async () => {
  running = await startFullServer();
  await addAlice(running);
});

after(async () => {
  await running.stop();
});

test('IMAP cleartext port: LOGINDISABLED, LOGIN and AUTHENTICATE refused; both work after STARTTLS', async () => {
  const client = await LineClient.connect(running.server.imap!.port!, false);
  const capability = await client.command('c1', 'CAPABILITY');
  assert.match(capability, /LOGINDISABLED/);
  assert.match(capability, /STARTTLS/);
  assert.doesNotMatch(capability, /AUTH=/);
  assert.match(await client.command('c2', `LOGIN ${login} "${password}"`), /c2 NO \[PRIVACYREQUIRED\]/);
  assert.match(await client.command('c3', `AUTHENTICATE PLAIN ${plain}`), /c3 NO \[PRIVACYREQUIRED\]/);
  // Without SASL-IR: the refusal comes before any continuation, so the password is never even asked for.
  const withoutInitial = await client.command('c4', 'AUTHENTICATE PLAIN');
  assert.doesNotMatch(withoutInitial, /^\+/m);
  assert.match(withoutInitial, /c4 NO \[PRIVACYREQUIRED\]/);
  assert.match(await client.command('c5', 'SELECT INBOX'), /c5 BAD/, 'still not authenticated');
  assert.match(await client.command('c6', 'STARTTLS'), /c6 OK/);
  await client.upgrade();
  const after = await client.command('c7', 'CAPABILITY');
  assert.doesNotMatch(after, /LOGINDISABLED/);
  assert.match(after, /AUTH=PLAIN/);
  assert.match(await client.command('c8', `LOGIN ${login} "${password}"`), /c8 OK/);
  client.close();
});

test('IMAP implicit TLS port accepts the same login at once', async () => {
  const client = await LineClient.connect(running.server.imap!.tlsPort!, true);
  assert.match(await client.command('t1', `AUTHENTICATE PLAIN ${plain}`), /t1 OK/);
  client.close();
});

test('SMTP submission (587): no AUTH offered or accepted before STARTTLS, no mail without AUTH; AUTH works after', async () => {
  const client = await LineClient.connect(running.server.smtp.listeners.submission!.port, false);
  const ehlo = await client.smtp('EHLO client.example.org');
  assert.match(ehlo, /250[ -]STARTTLS/);
  assert.doesNotMatch(ehlo, /AUTH/);
  assert.match(await client.smtp(`AUTH PLAIN ${plain}`), /^5\d\d /m);
  assert.match(await client.smtp('AUTH LOGIN'), /^5\d\d /m);
  assert.match(await client.smtp('MAIL FROM:<alice@example.com>'), /^530 /m);
  assert.match(await client.smtp('STARTTLS'), /^220 /m);
  await client.upgrade();
  const secureEhlo = await client.smtp('EHLO client.example.org');
  assert.match(secureEhlo, /250[ -]AUTH PLAIN LOGIN/);
  assert.match(await client.smtp(`AUTH PLAIN ${plain}`), /^235 /m);
  client.close();
});

test('SMTP submissions (465) offers AUTH at once (implicit TLS)', async () => {
  const client = await LineClient.connect(running.server.smtp.listeners.submissions!.port, true);
  assert.match(await client.smtp('EHLO client.example.org'), /250[ -]AUTH PLAIN LOGIN/);
  assert.match(await client.smtp(`AUTH PLAIN ${plain}`), /^235 /m);
  client.close();
});

test('SMTP MX (25) offers no AUTH and accepts none, before or after STARTTLS', async () => {
  const client = await LineClient.connect(running.server.smtp.listeners.mx!.port, false);
  const ehlo = await client.smtp('EHLO client.example.org');
  assert.doesNotMatch(ehlo, /AUTH/);
  assert.match(await client.smtp(`AUTH PLAIN ${plain}`), /^5\d\d /m);
  assert.match(await client.smtp('STARTTLS'), /^220 /m);
  await client.upgrade();
  const secureEhlo = await client.smtp('EHLO client.example.org');
  assert.doesNotMatch(secureEhlo, /AUTH/);
  assert.match(await client.smtp(`AUTH PLAIN ${plain}`), /^5\d\d /m);
  assert.match(await client.smtp('AUTH LOGIN'), /^5\d\d /m);
  client.close();
});

test('imap.allowPlaintextOnLoopback is the one exception: cleartext login from 127.0.0.1', async () => {
  const development = await startFullServer({ imap: { allowPlaintextOnLoopback: true } });
  try {
    await addAlice(development);
    const client = await LineClient.connect(development.server.imap!.port!, false);
    const capability = await client.command('d1', 'CAPABILITY');
    assert.doesNotMatch(capability, /LOGINDISABLED/);
    assert.match(await client.command('d2', `LOGIN ${login} "${password}"`), /d2 OK/);
    client.close();
    // The switch does not reach SMTP: submission still wants STARTTLS first.
    const smtp = await LineClient.connect(development.server.smtp.listeners.submission!.port, false);
    assert.doesNotMatch(await smtp.smtp('EHLO client.example.org'), /AUTH/);
    assert.match(await smtp.smtp(`AUTH PLAIN ${plain}`), /^5\d\d /m);
    smtp.close();
  } finally {
    await development.stop();
  }
});

/** This machine's own non-loopback IPv4 address: a client bound to it reaches 127.0.0.1 from outside 127.0.0.0/8. */
const outsideAddress = Object.values(os.networkInterfaces())
  .flat()
  .find((entry) => entry && entry.family === 'IPv4' && !entry.internal)?.address;

test('imap.allowPlaintextOnLoopback does not reach a client from a non-loopback address', { skip: outsideAddress === undefined && 'no non-loopback IPv4 address on this machine' }, async () => {
  const development = await startFullServer({ imap: { allowPlaintextOnLoopback: true } });
  try {
    await addAlice(development);
    const client = await LineClient.connect(development.server.imap!.port!, false, { localAddress: outsideAddress! });
    assert.match(await client.command('o1', 'CAPABILITY'), /LOGINDISABLED/);
    assert.match(await client.command('o2', `LOGIN ${login} "${password}"`), /o2 NO \[PRIVACYREQUIRED\]/);
    assert.match(await client.command('o3', `AUTHENTICATE PLAIN ${plain}`), /o3 NO \[PRIVACYREQUIRED\]/);
    client.close();
  } finally {
    await development.stop();
  }
});
