// RFC 5321 §4.5.1: postmaster@ of every local domain, and a bare <postmaster>, is
// accepted and delivered: to its own account or alias when there is one, else to
// smtp.postmasterAccount, else to the first admin account.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RawSmtpClient } from './raw-smtp-client.js';
import { startHarness, swaks, type Harness } from './smtp-harness.js';

let configured: Harness;

before(async () => {
  configured = await startHarness({ smtp: { postmasterAccount: 'bob@example.com' } });
  await configured.store.admin.addDomain('example.net');
});

after(async () => configured.close());

async function inboxCount(harness: Harness, login: string): Promise<number> {
  return (await (await harness.store.account(login)).getMailbox('INBOX')).messages;
}

test('postmaster@ of a local domain without such an address goes to smtp.postmasterAccount, in any case', async () => {
  const bob = await inboxCount(configured, 'bob@example.com');
  for (const address of ['postmaster@example.net', 'PostMaster@EXAMPLE.NET']) {
    const result = await swaks(configured.mxPort, ['--from', 'carol@example.org', '--to', address, '--header', `Subject: to ${address}`]);
    assert.match(result.stdout, /<[-~] +250 2\.6\.0 Message accepted for 1 mailbox/, result.stdout);
  }
  assert.equal(await inboxCount(configured, 'bob@example.com'), bob + 2);
});

test('a bare RCPT TO:<Postmaster> is accepted and delivered to the postmaster account', async () => {
  const bob = await inboxCount(configured, 'bob@example.com');
  const { client } = await RawSmtpClient.connect(configured.mxPort);
  assert.match(await client.command('EHLO client.example.org\r\n'), /^250-/);
  assert.match(await client.command('MAIL FROM:<carol@example.org>\r\n'), /^250 /);
  assert.match(await client.command('RCPT TO:<Postmaster>\r\n'), /^250 /);
  assert.match(await client.command('DATA\r\n'), /^354 /);
  assert.match(await client.command('Subject: hello postmaster\r\n\r\nhi\r\n.\r\n'), /^250 2\.6\.0 /);
  client.close();
  assert.equal(await inboxCount(configured, 'bob@example.com'), bob + 1);
});

test('an explicit postmaster alias still wins, and postmaster of a foreign domain is no relay', async () => {
  const alice = await inboxCount(configured, 'alice@example.com');
  const bob = await inboxCount(configured, 'bob@example.com');
  // The harness aliases postmaster@example.com to alice.
  const own = await swaks(configured.mxPort, ['--from', 'carol@example.org', '--to', 'postmaster@example.com']);
  assert.match(own.stdout, /<[-~] +250 2\.6\.0 /, own.stdout);
  assert.equal(await inboxCount(configured, 'alice@example.com'), alice + 1);
  assert.equal(await inboxCount(configured, 'bob@example.com'), bob);
  const foreign = await swaks(configured.mxPort, ['--from', 'carol@example.org', '--to', 'postmaster@elsewhere.test']);
  assert.match(foreign.stdout, /<\*\* +554 5\.7\.1 Relay access denied/, foreign.stdout);
});

test('an authenticated submission to postmaster@ of a local domain is delivered locally, not queued', async () => {
  const bob = await inboxCount(configured, 'bob@example.com');
  const result = await swaks(configured.submissionPort, ['--tls', '--auth', 'PLAIN', '--auth-user', 'alice@example.com', '--auth-password', 'correct horse battery staple', '--from', 'alice@example.com', '--header', 'From: alice@example.com', '--to', 'postmaster@example.net']);
  assert.match(result.stdout, /<~ +250 2\.6\.0 Message accepted\r?$/m, result.stdout);
  assert.equal(await inboxCount(configured, 'bob@example.com'), bob + 1);
});

test('with smtp.postmasterAccount unset: the first admin account, and 451 4.3.5 (deferred, not lost) while there is none', async () => {
  const harness = await startHarness();
  try {
    await harness.store.admin.addDomain('example.net');
    const refused = await swaks(harness.mxPort, ['--from', 'carol@example.org', '--to', 'postmaster@example.net']);
    assert.match(refused.stdout, /<\*\* +451 4\.3\.5 /, refused.stdout);
    assert.ok(harness.log.events.some((entry) => entry.event === 'smtp.postmaster_unroutable'));
    await harness.store.admin.setAdmin('bob@example.com', true);
    const bob = await inboxCount(harness, 'bob@example.com');
    const accepted = await swaks(harness.mxPort, ['--from', 'carol@example.org', '--to', 'postmaster@example.net']);
    assert.match(accepted.stdout, /<[-~] +250 2\.6\.0 /, accepted.stdout);
    assert.equal(await inboxCount(harness, 'bob@example.com'), bob + 1);
  } finally {
    await harness.close();
  }
});
