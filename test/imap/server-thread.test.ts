// THREAD REFERENCES and ORDEREDSUBJECT (RFC 5256 §2.2, §3) over a raw socket: dummy
// parents, duplicate Message-IDs, loops, subject merging, sorting by sent date.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RawClient, startTestServer, type TestServer } from './server-harness.js';

interface Spec {
  id?: string;
  references?: string;
  inReplyTo?: string;
  subject?: string;
  /** Minutes after a fixed start: the Date: header when `date` is not false, else INTERNALDATE only. */
  minute: number;
  date?: boolean;
}

function build(spec: Spec): Buffer {
  const sent = new Date(Date.UTC(2026, 10, 27, 10, spec.minute));
  const lines = [
    'From: bob@example.org',
    ...(spec.date === false ? [] : [`Date: ${sent.toUTCString().replace('GMT', '+0000')}`]),
    ...(spec.subject !== undefined ? [`Subject: ${spec.subject}`] : []),
    ...(spec.id ? [`Message-ID: ${spec.id}`] : []),
    ...(spec.references ? [`References: ${spec.references}`] : []),
    ...(spec.inReplyTo ? [`In-Reply-To: ${spec.inReplyTo}`] : []),
  ];
  return Buffer.from(lines.join('\r\n') + '\r\n\r\nbody\r\n');
}

async function mailbox(server: TestServer, name: string, specs: Spec[]): Promise<void> {
  await server.account.createMailbox(name);
  for (const spec of specs) {
    await server.account.append(name, build(spec), { internalDate: new Date(Date.UTC(2026, 10, 27, 10, spec.minute)) });
  }
}

test('THREAD REFERENCES: RFC 5256 §2.2 steps 1 to 6', async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  // Two messages that reference an absent one are siblings under a dummy parent (step 4 keeps it at the root).
  await mailbox(server, 'dummy', [
    { references: '<gone@x>', minute: 1 },
    { references: '<gone@x>', minute: 2 },
    { id: '<solo@x>', minute: 0 },
  ]);
  // A dummy with a single child is replaced by the child; then the same base subject merges a reply under its original.
  await mailbox(server, 'promote', [
    { id: '<a@x>', subject: 'foo', minute: 1 },
    { id: '<b@x>', references: '<c@x>', subject: 'Re: foo', minute: 2 },
  ]);
  // A duplicate Message-ID is treated as unique; subject merging still threads the reply (step 1A, 5).
  await mailbox(server, 'duplicate', [
    { id: '<a@x>', subject: 'foo', minute: 1 },
    { id: '<a@x>', subject: 'Re: foo', minute: 2 },
  ]);
  // References chains: a→c→b, then c says b is its parent, which would be a loop: c loses its link instead.
  await mailbox(server, 'loop', [
    { id: '<a@x>', minute: 120 },
    { id: '<b@x>', references: '<a@x> <c@x>', minute: 0 },
    { id: '<c@x>', references: '<b@x>', minute: 60 },
  ]);
  // In-Reply-To without References; sibling order by sent date, not arrival; a reply to a reply nests.
  await mailbox(server, 'replies', [
    { id: '<1@x>', minute: 0 },
    { id: '<2@x>', inReplyTo: '<1@x>', minute: 30 },
    { id: '<3@x>', inReplyTo: '<1@x>', minute: 10 },
    { id: '<4@x>', inReplyTo: '<2@x>', minute: 40 },
  ]);
  // Two non-replies with the same subject go under a new dummy (step 5C, last rule); roots ordered by date.
  await mailbox(server, 'same-subject', [
    { id: '<p@x>', subject: 'Lunch', minute: 5 },
    { id: '<q@x>', subject: '[team] lunch', minute: 3 },
    { id: '<r@x>', subject: 'Other', minute: 4 },
  ]);
  // No Date: header: the INTERNALDATE is the sent date.
  await mailbox(server, 'no-date', [
    { id: '<n1@x>', minute: 50, date: false },
    { id: '<n2@x>', minute: 20, date: false },
  ]);

  const client = await RawClient.connect(server);
  t.after(() => client.close());
  await client.login();
  const thread = async (name: string, command = 'THREAD REFERENCES UTF-8 ALL'): Promise<string> => {
    assert.match(await client.command('s', `SELECT ${name}`), /^s OK/m);
    const reply = await client.command('t', command);
    assert.match(reply, /^t OK/m, reply);
    return /^\* THREAD ?(.*)\r\n/m.exec(reply)![1]!;
  };

  assert.equal(await thread('dummy'), '(3)((1)(2))');
  assert.equal(await thread('promote'), '(1 2)');
  assert.equal(await thread('duplicate'), '(1 2)');
  assert.equal(await thread('loop'), '(3 2)(1)');
  assert.equal(await thread('replies'), '(1 (3)(2 4))');
  assert.equal(await thread('same-subject'), '((2)(1))(3)', 'the dummy sorts by its first child');
  assert.equal(await thread('no-date'), '(2)(1)');

  // UID THREAD names messages by UID; the search key restricts the set; expunged messages are gone.
  assert.match(await client.command('s', 'SELECT replies'), /^s OK/m);
  assert.match(await client.command('u1', 'UID THREAD REFERENCES UTF-8 NOT UID 3'), /^\* THREAD \(1 2 4\)\r\n/m);
  await client.command('d1', 'STORE 1 +FLAGS (\\Deleted)');
  await client.command('d2', 'EXPUNGE');
  // Without message 1, its replies hang from a dummy <1@x>: two children, so the dummy stays.
  assert.match(await client.command('u2', 'THREAD REFERENCES UTF-8 ALL'), /^\* THREAD \(\(2\)\(1 3\)\)\r\n/m);

  // An empty mailbox or no match: an empty THREAD response.
  assert.match(await client.command('e1', 'THREAD REFERENCES UTF-8 SUBJECT nothing-like-this'), /^\* THREAD\r\n/m);
  assert.match(await client.command('e2', 'THREAD NOSUCH UTF-8 ALL'), /^e2 (NO|BAD)/m);
});

test('THREAD ORDEREDSUBJECT groups by base subject; SORT SUBJECT uses the RFC 5256 §2.1 base subject', async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  await mailbox(server, 'subjects', [
    { subject: 'Re: [list] Fwd: plans (fwd)', minute: 3 }, // base "PLANS"
    { subject: '[fwd: plans]', minute: 2 },
    { subject: 'plans', minute: 4 },
    { subject: '[list] apples', minute: 1 }, // a leading blob goes when text remains
    { subject: '[only blob]', minute: 0 }, // ...and stays when nothing would
    { subject: 'Re:   re: RE:Zebra', minute: 5 },
  ]);
  const client = await RawClient.connect(server);
  t.after(() => client.close());
  await client.login();
  await client.command('s', 'SELECT subjects');
  assert.match(await client.command('o1', 'THREAD ORDEREDSUBJECT UTF-8 ALL'), /^\* THREAD \(5\)\(4\)\(2 \(1\)\(3\)\)\(6\)\r\n/m);
  // APPLES < PLANS (x3, by sequence) < ZEBRA < [ONLY BLOB]
  assert.match(await client.command('o2', 'SORT (SUBJECT) UTF-8 ALL'), /^\* SORT 4 1 2 3 6 5\r\n/m);
  assert.match(await client.command('o3', 'SORT (REVERSE SUBJECT) UTF-8 ALL'), /^\* SORT 5 6 1 2 3 4\r\n/m);
});
