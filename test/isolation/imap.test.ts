// Isolation battery, IMAP (issue #6): account A, logged in over real TLS, tries to
// reach account B's mail through every command that takes a mailbox name, a UID or
// a sequence set. Every attempt gets the documented reply (README, "Isolation"),
// nothing A receives carries anything of B's, and B's store is byte-for-byte the same
// afterwards (mailbox digests, record checksums, blob hashes, subscriptions, quota).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineClient } from '../server/tls-harness.js';
import { alice, bob, bobGuessable, bobSecrets, snapshotAccount, isolationSuite } from './isolation-harness.js';

const suite = isolationSuite();

/** A logged in on the implicit-TLS port, or via STARTTLS on the cleartext port. */
async function connectAlice(viaStartTls = false): Promise<LineClient> {
  const client = viaStartTls ? await LineClient.connect(suite.running.server.imap!.port!, false) : await LineClient.connect(suite.running.server.imap!.tlsPort!, true);
  suite.clients.push(client);
  if (viaStartTls) {
    assert.match(await client.command('s0', 'STARTTLS'), /s0 OK/);
    await client.upgrade();
  }
  assert.match(await client.command('l0', `LOGIN ${alice.login} "${alice.password}"`), /l0 OK/);
  return client;
}

/** Names that point (or might to a careless server) at B's mail, or outside A's tree. */
const foreignNames = [
  ...bobGuessable.filter((name) => name !== 'Projects'),
  'user/bob',
  'user/bob/INBOX',
  'user/bob@example.com/INBOX',
  'user.bob',
  '~bob',
  '~bob/INBOX',
  '~bob@example.com/INBOX',
  'bob@example.com/INBOX',
  'bob@example.com',
  'robert@example.com/INBOX',
  '#shared/bob',
  '#users/bob/INBOX',
  '#public',
  '#mh/bob',
  '..',
  '../bob',
  '../../bob@example.com/INBOX',
  'INBOX/../../bob',
  'INBOX/..',
  '*',
  '%',
  'Bob-Private/*',
  'Bob-%',
  '~',
  '\\bob',
];

/** Names the store refuses outright (an empty level: leading, trailing or doubled separator). */
const malformedNames = ['/bob@example.com/INBOX', '/user/bob', '//bob', 'user//bob', '/', '/INBOX'];

function quoted(name: string): string {
  return `"${name.replace(/[\\"]/g, (c) => '\\' + c)}"`;
}

let tagCounter = 0;
async function attempt(client: LineClient, command: string, expected: RegExp): Promise<string> {
  const tag = `x${++tagCounter}`;
  const reply = await client.command(tag, command);
  const tagged = reply.slice(reply.lastIndexOf(`${tag} `));
  assert.match(tagged, expected, `${command} → ${JSON.stringify(reply)}`);
  return reply;
}

/** The untagged responses of a reply, without the tagged line. */
function untagged(reply: string): string[] {
  return reply.split('\r\n').filter((line) => line.startsWith('* '));
}

/** Mailbox names in LIST/LSUB lines. */
function listedNames(reply: string): string[] {
  return untagged(reply)
    .filter((line) => /^\* (LIST|LSUB) /.test(line))
    .map((line) => {
      const name = line.replace(/^\* (LIST|LSUB) \([^)]*\) (NIL|"[^"]*") /, '');
      return name.startsWith('"') ? JSON.parse(name.replace(/\\\\/g, '\\\\')) as string : name;
    });
}

async function aliceMailboxNames(): Promise<string[]> {
  const account = await suite.running.server.store.account(alice.login);
  return (await account.listMailboxes()).map((mailbox) => mailbox.name);
}

test('mailbox-name commands with B\'s names and path tricks: NONEXISTENT, TRYCREATE or CANNOT, never B\'s data', async () => {
  for (const viaStartTls of [false, true]) {
    const client = await connectAlice(viaStartTls);
    const own = new Set(await aliceMailboxNames());
    // Authenticated state first, then the same again with A's INBOX selected; the STARTTLS
    // session (the same code past the handshake) runs the authenticated half only.
    for (const selected of viaStartTls ? [false] : [false, true]) {
      if (selected) await attempt(client, 'SELECT INBOX', /OK/);
      for (const name of [...foreignNames, ...malformedNames]) {
        const missing = malformedNames.includes(name) ? /NO \[CANNOT\]/ : /NO \[NONEXISTENT\]/;
        const noTarget = malformedNames.includes(name) ? /NO \[CANNOT\]/ : /NO \[TRYCREATE\]/;
        const mailbox = quoted(name);
        if (!selected) {
          // SELECT/EXAMINE leave the selected state when they fail (RFC 9051 §6.3.2), so only before selecting.
          await attempt(client, `SELECT ${mailbox}`, missing);
          await attempt(client, `EXAMINE ${mailbox}`, missing);
        }
        await attempt(client, `STATUS ${mailbox} (MESSAGES UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ SIZE MAILBOXID)`, missing);
        await attempt(client, `GETQUOTAROOT ${mailbox}`, missing);
        await attempt(client, `DELETE ${mailbox}`, missing);
        await attempt(client, `RENAME ${mailbox} "Taken-From-Bob"`, missing);
        await attempt(client, `SUBSCRIBE ${mailbox}`, missing);
        // UNSUBSCRIBE edits A's own subscription list only; a name that is not on it is no error (RFC 9051 §6.3.8).
        await attempt(client, `UNSUBSCRIBE ${mailbox}`, malformedNames.includes(name) ? /NO \[CANNOT\]/ : /OK/);
        const message = 'From: alice@example.com\r\nSubject: planted\r\n\r\nplanted by A\r\n';
        await attempt(client, `APPEND ${mailbox} (\\Seen) {${message.length}+}\r\n${message}`, noTarget);
        await attempt(client, `APPEND ${mailbox} {${message.length}+}\r\n${message} {${message.length}+}\r\n${message}`, noTarget);
        if (selected) {
          await attempt(client, `COPY 1:* ${mailbox}`, noTarget);
          await attempt(client, `MOVE 1 ${mailbox}`, noTarget);
          await attempt(client, `UID COPY 1:* ${mailbox}`, noTarget);
          await attempt(client, `UID MOVE 1 ${mailbox}`, noTarget);
        }
        // LIST with the name as pattern and as reference: only A's own mailboxes can ever come back.
        for (const list of [`LIST "" ${mailbox}`, `LIST ${mailbox} "*"`, `LIST ${mailbox} "%"`, `LSUB "" ${mailbox}`, `LSUB ${mailbox} "*"`, `LIST (SUBSCRIBED) "" ${mailbox}`, `LIST "" ${mailbox} RETURN (STATUS (MESSAGES))`]) {
          const reply = await attempt(client, list, /OK/);
          for (const listed of listedNames(reply)) assert.ok(own.has(listed), `${list} listed ${listed}, not one of A's`);
        }
      }
      // The wildcards everywhere: A's tree and nothing else.
      for (const list of ['LIST "" "*"', 'LIST "" "%"', 'LIST "" "%/%"', 'LIST "/" "*"', 'LIST "~" "*"', 'LIST "#" "*"', 'LIST "user/" "*"', 'LSUB "" "*"', 'LIST (SUBSCRIBED) "" "*"', 'LIST "" "*" RETURN (STATUS (MESSAGES UIDNEXT))']) {
        const reply = await attempt(client, list, /OK/);
        for (const listed of listedNames(reply)) assert.ok(own.has(listed), `${list} listed ${listed}, not one of A's`);
      }
      await attempt(client, 'NAMESPACE', /OK/);
      await attempt(client, 'GETQUOTA "bob@example.com"', /NO \[NONEXISTENT\]/);
      await attempt(client, 'GETQUOTA "user/bob"', /NO \[NONEXISTENT\]/);
    }
    await attempt(client, 'LOGOUT', /OK/);
  }
});

test('A mailbox named like one of B\'s is A\'s own: SELECT, STATUS and FETCH show A\'s message only', async () => {
  const client = await connectAlice();
  const select = await attempt(client, 'SELECT Projects', /OK/);
  assert.match(select, /^\* 1 EXISTS/m, 'A\'s Projects holds one message; B\'s holds one too, and a different one');
  const fetched = await attempt(client, 'FETCH 1:* (UID FLAGS ENVELOPE BODY.PEEK[])', /OK/);
  assert.match(fetched, /Alice note 3/);
  assert.match(await attempt(client, 'STATUS Projects (MESSAGES)', /OK/), /MESSAGES 1\)/);
});

/** Message sets that reach past A's two messages (B has UIDs up to 3 in its INBOX), or are not numbers at all. */
const messageSets = { past: ['3', '3:7', '5', '4294967295', '2:4294967295', '*:4294967295', '1:*', '*', '3,4,5,6,7', '1,3:*'], bad: ['0', '-1', '1:-5', '4294967296', '99999999999999999999', '1:0', '0:*', '-', '1..3', '%', 'bob'] };

function fetchNumbers(reply: string): number[] {
  return untagged(reply)
    .map((line) => /^\* (\d+) FETCH /.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => Number(match[1]));
}

test('sequence numbers and UIDs past A\'s messages, huge, negative or malformed: OK with A\'s messages only, or BAD', async () => {
  const client = await connectAlice(true);
  await attempt(client, 'ENABLE CONDSTORE', /OK/);
  for (const mailbox of ['INBOX', 'Projects']) {
    const selected = await attempt(client, `SELECT ${mailbox}`, /OK/);
    const exists = Number(/^\* (\d+) EXISTS/m.exec(selected)![1]);
    for (const set of messageSets.past) {
      // RFC 9051 §9: a sequence number past EXISTS is BAD; a UID past them names nothing.
      const beyond = set.split(/[,:]/).some((part) => part !== '*' && Number(part) > exists);
      for (const uid of ['', 'UID ']) {
        const expected = uid === '' && beyond ? /BAD/ : /OK/;
        const fetched = await attempt(client, `${uid}FETCH ${set} (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE EMAILID THREADID MODSEQ BODY.PEEK[HEADER] BINARY.PEEK[1])`, expected);
        for (const number of fetchNumbers(fetched)) assert.ok(number >= 1 && number <= exists, `${uid}FETCH ${set} answered for message ${number}`);
        await attempt(client, `${uid}STORE ${set} +FLAGS.SILENT (\\Deleted $Planted)`, expected);
        await attempt(client, `${uid}STORE ${set} -FLAGS.SILENT (\\Deleted $Planted)`, expected);
        await attempt(client, `${uid}STORE ${set} (UNCHANGEDSINCE 1) +FLAGS (\\Flagged)`, expected);
        await attempt(client, `${uid}COPY ${set} Trash`, expected);
        await attempt(client, `${uid}SEARCH ${uid ? 'UID ' : ''}${set}`, /OK/);
        await attempt(client, `${uid}SORT (SUBJECT) UTF-8 ${uid ? 'UID ' : ''}${set}`, /OK/);
        await attempt(client, `${uid}THREAD ORDEREDSUBJECT UTF-8 ${uid ? 'UID ' : ''}${set}`, /OK/);
      }
      // Nothing carries \Deleted any more, so this expunges nothing of A's either.
      await attempt(client, `UID EXPUNGE ${set}`, /OK/);
    }
    for (const set of messageSets.bad) {
      for (const uid of ['', 'UID ']) {
        await attempt(client, `${uid}FETCH ${set} (FLAGS)`, /BAD/);
        await attempt(client, `${uid}STORE ${set} +FLAGS (\\Deleted)`, /BAD/);
        await attempt(client, `${uid}COPY ${set} Trash`, /BAD/);
        await attempt(client, `${uid}MOVE ${set} Trash`, /BAD/);
        await attempt(client, `${uid}SEARCH ${uid ? 'UID ' : ''}${set}`, /BAD/);
      }
      await attempt(client, `UID EXPUNGE ${set}`, /BAD/);
    }
    // B's object identifiers as search keys (RFC 8474 §6): nothing.
    for (const identifier of suite.running.bobIdentifiers.filter((id) => /^[ET]/.test(id))) {
      const key = identifier.startsWith('E') ? 'EMAILID' : 'THREADID';
      const reply = await attempt(client, `SEARCH ${key} ${identifier}`, /OK/);
      assert.deepEqual(untagged(reply), ['* SEARCH'], `SEARCH ${key} of B's message`);
    }
    const text = await attempt(client, 'SEARCH OR OR SUBJECT SECRET BODY number TEXT Carol', /OK/);
    for (const line of untagged(text)) for (const number of line.replace('* SEARCH', '').trim().split(' ').filter(Boolean)) assert.ok(Number(number) <= exists);
  }
  // QRESYNC with B's UIDVALIDITY and UIDs: A's own mailbox state only.
  const bobInbox = await (await suite.running.server.store.account(bob.login)).getMailbox('INBOX');
  await attempt(client, 'ENABLE QRESYNC', /OK/);
  const resync = await attempt(client, `SELECT INBOX (QRESYNC (${bobInbox.uidValidity} 1 1:7))`, /OK/);
  for (const number of fetchNumbers(resync)) assert.ok(number <= 2);
});

test('IDLE and NOOP in A\'s mailboxes say nothing about B\'s new mail, even in a mailbox of the same name', async () => {
  const client = await connectAlice();
  await attempt(client, 'SELECT Projects', /OK/);
  client.write('i1 IDLE\r\n');
  await client.expect(/^\+ .*\r\n/m);
  const bobStore = await suite.running.server.store.account(bob.login);
  // B's new mail first, then A's: once A hears of its own, B's would have been told already had it leaked.
  await suite.running.server.store.deliver(Buffer.from(`Subject: ${bobSecrets.subject} late\r\n\r\n${bobSecrets.body} late\r\n`), [{ login: bob.login, mailbox: 'Projects' }]);
  await bobStore.updateFlags((await bobStore.getMailbox('Projects')).id, [[1, Infinity]], { mode: 'add', flags: ['\\Seen'] });
  await suite.running.server.store.deliver(Buffer.from('Subject: for alice\r\n\r\nhello\r\n'), [{ login: alice.login, mailbox: 'Projects' }]);
  const heard = await client.expect(/^\* 2 EXISTS\r\n/m);
  client.write('DONE\r\n');
  const rest = await client.expect(/(^|\r\n)i1 OK[^\r\n]*\r\n/);
  assert.deepEqual(untagged(heard + rest).filter((line) => !/^\* (2 EXISTS|\d+ RECENT)$/.test(line)), [], 'only A\'s own new message');
  const noop = await attempt(client, 'NOOP', /OK/);
  assert.deepEqual(untagged(noop), []);
  // B's state changed on purpose here: the "before" snapshot belongs to the battery above, checked next.
  suite.bobBefore = await snapshotAccount(suite.running.server.store, bob.login);
});

test('afterwards: B\'s mail is unchanged and A received nothing of B\'s', async () => {
  assert.deepEqual(await snapshotAccount(suite.running.server.store, bob.login), suite.bobBefore);
  const received = suite.clients.map((client) => client.transcript).join('');
  assert.ok(received.length > 50_000, `the battery ran (${received.length} bytes received)`);
  for (const secret of [...Object.values(bobSecrets), ...suite.running.bobIdentifiers]) {
    assert.ok(!received.includes(secret), `A received ${secret}`);
  }
  assert.ok(!/\$BobSecret/i.test(received));
});

test('look-alike names A creates are A\'s own mailboxes (one personal namespace); B is untouched', async () => {
  const before = await snapshotAccount(suite.running.server.store, bob.login);
  const client = await connectAlice();
  for (const name of ['Bob-Private', 'user/bob/INBOX', '~bob', '#shared/bob', '../bob']) {
    await attempt(client, `CREATE ${quoted(name)}`, /OK/);
    const selected = await attempt(client, `SELECT ${quoted(name)}`, /OK/);
    assert.match(selected, /^\* 0 EXISTS/m, `${name} is A's new, empty mailbox`);
  }
  await attempt(client, 'RENAME "Bob-Private" "user/bob/Taken"', /OK/);
  const names = await aliceMailboxNames();
  for (const name of ['user/bob/Taken', 'user/bob/INBOX', '~bob', '#shared/bob', '../bob']) assert.ok(names.includes(name), `A owns ${name}`);
  assert.deepEqual(await snapshotAccount(suite.running.server.store, bob.login), before);
  assert.ok(!client.transcript.includes(bobSecrets.subject));
});
