// The MX refuses mail claiming a local domain without proof (issue 11 item 10):
// MAIL FROM or any From: address in a local domain gets 550 5.7.1 unless SPF
// passed for that domain or a DKIM signature of it verified; the same mail from
// a remote domain is delivered, and smtp.refuseLocalDomainSpoofing = false
// turns the check off.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import { dkimTxtRecord, generateDkimKey } from '../../src/smtp/outbound/dkim-signature.js';
import { LineClient } from '../server/tls-harness.js';
import { startHarness, type Harness } from './smtp-harness.js';

const key = generateDkimKey();
const zone = {
  // The local domain's real MX is elsewhere: 127.0.0.1 is not in its SPF record.
  'example.com': { TXT: [['v=spf1 ip4:192.0.2.1 -all']] },
  'sel._domainkey.example.com': { TXT: [[dkimTxtRecord(key.publicKeyBase64)]] },
  // A second local domain whose SPF record does name this host.
  'example.net': { TXT: [['v=spf1 ip4:127.0.0.1 -all']] },
  'example.org': { TXT: [['v=spf1 ip4:127.0.0.1 -all']] },
};

let harness: Harness;
let unchecked: Harness;

before(async () => {
  harness = await startHarness({ zone, smtp: { mx: { port: 0, greetingDelayMilliseconds: 0 } } });
  await harness.store.admin.addDomain('example.net');
  unchecked = await startHarness({ zone, smtp: { mx: { port: 0, greetingDelayMilliseconds: 0 }, refuseLocalDomainSpoofing: false } });
});

after(async () => {
  await harness.close();
  await unchecked.close();
});

async function send(port: number, sender: string, message: Buffer): Promise<string> {
  const client = await LineClient.connect(port, false);
  try {
    await client.smtp('EHLO client.example.org');
    assert.match(await client.smtp(`MAIL FROM:<${sender}>`), /^250 /m);
    assert.match(await client.smtp('RCPT TO:<alice@example.com>'), /^250 /m);
    assert.match(await client.smtp('DATA'), /^354 /m);
    client.write(message);
    return await client.smtp('.');
  } finally {
    client.close();
  }
}

const message = (from: string) => Buffer.from(`From: ${from}\r\nTo: alice@example.com\r\nSubject: claim\r\n\r\nbody\r\n`, 'latin1');

async function inbox(target: Harness): Promise<number> {
  return (await target.account.getMailbox('INBOX')).messages;
}

test('a local domain in MAIL FROM or any reading of From: without SPF for it: 550 5.7.1, nothing stored', async () => {
  const before = await inbox(harness);
  const refused: [string, string][] = [
    ['bob@example.com', 'bob@example.com'],
    ['carol@example.org', 'CEO <ceo@example.com>'],
    ['carol@example.org', 'CEO <CEO@EXAMPLE.COM.>'],
    ['carol@example.org', 'carol@example.org, ceo@example.com'],
    ['carol@example.org', 'Bob [<bob@example.com>] <carol@example.org>'],
    ['carol@example.org', 'carol@example.org\r\nX-Note: a\rFrom: ceo@example.com'],
    ['carol@example.org', '=?utf-8?q?CEO_=3Cceo=40example.com=3E?= <carol@example.org>'],
    ['', 'Mail Delivery System <mailer-daemon@example.com>'],
  ];
  for (const [sender, from] of refused) {
    assert.match(await send(harness.mxPort, sender, message(from)), /^550 5\.7\.1 .*a domain of this server/m, `${sender} / ${JSON.stringify(from)}`);
  }
  assert.equal(await inbox(harness), before);
});

test('proof lets it through: SPF passing for the local domain, or a verified DKIM signature of it; remote senders are not affected', async () => {
  const before = await inbox(harness);
  assert.match(await send(harness.mxPort, 'carol@example.org', message('Carol <carol@example.org>')), /^250 /m);
  assert.match(await send(harness.mxPort, 'news@example.net', message('News <news@example.net>')), /^250 /m);
  const body = message('News <news@example.com>');
  const signed = await dkimSign(body, { signatureData: [{ signingDomain: 'example.com', selector: 'sel', privateKey: key.privateKey }] } as never);
  assert.match(await send(harness.mxPort, 'list@example.org', Buffer.concat([Buffer.from(signed.signatures), body])), /^250 /m);
  assert.equal(await inbox(harness), before + 3);
});

test('smtp.refuseLocalDomainSpoofing = false: the same claim is delivered', async () => {
  const before = await inbox(unchecked);
  assert.match(await send(unchecked.mxPort, 'bob@example.com', message('bob@example.com')), /^250 /m);
  assert.equal(await inbox(unchecked), before + 1);
});
