// FETCH ENVELOPE address structures (RFC 9051 §7.5.2, RFC 3501 §7.4.2): routes as adl,
// groups as start/end markers, comments as names — the bytes a client parses.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RawClient, startTestServer } from './server-harness.js';

test('ENVELOPE keeps an obsolete route as adl and shows groups with markers', async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  const message = [
    'Date: Thu, 15 Feb 2007 01:02:03 +0200',
    'From: <@route:user@domain>',
    'Sender: Two Hops <@a.example,@b.example:relay@c.example>',
    'To: team: x@example.org, "Y" <y@example.org>;, plain@example.net (Plain Name)',
    'Subject: routes',
    '',
    'body',
    '',
  ].join('\r\n');
  await server.account.append('INBOX', Buffer.from(message));
  const client = await RawClient.connect(server);
  t.after(() => client.close());
  await client.login();
  await client.command('s', 'SELECT INBOX');
  const reply = await client.command('f', 'FETCH 1 ENVELOPE');
  assert.match(
    reply,
    /^\* 1 FETCH \(ENVELOPE \("Thu, 15 Feb 2007 01:02:03 \+0200" "routes" \(\(NIL "@route" "user" "domain"\)\) \(\("Two Hops" "@a\.example,@b\.example" "relay" "c\.example"\)\) \(\(NIL "@route" "user" "domain"\)\) \(\(NIL NIL "team" NIL\)\(NIL NIL "x" "example\.org"\)\("Y" NIL "y" "example\.org"\)\(NIL NIL NIL NIL\)\("Plain Name" NIL "plain" "example\.net"\)\) NIL NIL NIL NIL\)\)\r\n/m,
  );
});
