// SPF, DKIM and DMARC on the MX through the fixed DNS zone: results in
// Authentication-Results, a forged copy of ours removed (RFC 8601 §5), and
// dmarcReject = "junk" delivering a p=reject failure to Junk instead of refusing it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import { dkimTxtRecord, generateDkimKey } from '../../src/smtp/outbound/dkim-signature.js';
import { run, startHarness, type Harness } from './smtp-harness.js';

let harness: Harness;
const key = generateDkimKey();

before(async () => {
  harness = await startHarness({
    smtp: { dmarcReject: 'junk' },
    zone: {
      'signed.test': { TXT: [['v=spf1 ip4:127.0.0.1 -all']] },
      'sel._domainkey.signed.test': { TXT: [[dkimTxtRecord(key.publicKeyBase64)]] },
      '_dmarc.signed.test': { TXT: [['v=DMARC1; p=reject']] },
      'reject.test': { TXT: [['v=spf1 ip4:192.0.2.1 -all']] },
      '_dmarc.reject.test': { TXT: [['v=DMARC1; p=reject']] },
    },
  });
});

after(async () => harness.close());

async function lastMessage(mailbox: string): Promise<string> {
  const info = await harness.account.getMailbox(mailbox);
  const records = await harness.account.fetch(info.id, {});
  return (await harness.account.readMessage(info.id, records[records.length - 1]!.uid)).toString();
}

function send(from: string, message: Buffer) {
  return run('swaks', ['--server', '127.0.0.1', '--port', String(harness.mxPort), '--helo', 'client.example.org', '--from', from, '--to', 'alice@example.com', '--data', '-'], message);
}

test('a DKIM-signed message from an SPF-authorised host passes DKIM, SPF and DMARC; a forged Authentication-Results of ours is dropped', async () => {
  const body = Buffer.from(
    'Authentication-Results: mx.example.com; dkim=pass header.d=forged.test\r\nFrom: news@signed.test\r\nTo: alice@example.com\r\nSubject: signed\r\nMessage-ID: <signed@signed.test>\r\n\r\nSigned body.\r\n',
  );
  const signed = await dkimSign(body, { signatureData: [{ signingDomain: 'signed.test', selector: 'sel', privateKey: key.privateKey }] } as never);
  const result = await send('news@signed.test', Buffer.concat([Buffer.from(signed.signatures), body]));
  assert.match(result.stdout, /^<\S* +250 2\.6\.0/m, result.stdout);
  const text = await lastMessage('INBOX');
  assert.match(text, /Authentication-Results: mx\.example\.com;\r\n dkim=pass header\.i=@signed\.test header\.s=sel/);
  assert.match(text, /spf=pass/);
  assert.match(text, /dmarc=pass/);
  assert.doesNotMatch(text, /forged\.test/);
  assert.equal(text.match(/^Authentication-Results:/gm)?.length, 1);
});

test('dmarcReject = "junk": a DMARC p=reject failure is accepted into Junk with dmarc=fail recorded', async () => {
  const junkBefore = (await harness.account.getMailbox('Junk')).messages;
  const inboxBefore = (await harness.account.getMailbox('INBOX')).messages;
  const result = await send('ceo@reject.test', Buffer.from('From: ceo@reject.test\r\nTo: alice@example.com\r\nSubject: wire money\r\n\r\nNow.\r\n'));
  assert.match(result.stdout, /^<\S* +250 2\.6\.0/m, result.stdout);
  assert.equal((await harness.account.getMailbox('Junk')).messages, junkBefore + 1);
  assert.equal((await harness.account.getMailbox('INBOX')).messages, inboxBefore);
  assert.match(await lastMessage('Junk'), /dmarc=fail/);
});
