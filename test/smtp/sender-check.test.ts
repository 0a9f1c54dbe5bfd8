// Submission's From:/Sender: check (issue 11 item 6) on its own: hostile headers
// that the old check let through, a property test over generated hostile address
// lists (whatever is accepted, nodemailer's addressparser finds exactly the same
// addresses and every one is the user's), and a cross-check of everything
// accepted against Python's email package (stdlib only).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import addressparser from 'nodemailer/lib/addressparser';
import { checkSenderFields } from '../../src/smtp/sender-check.js';
import { SmtpReply } from '../../src/smtp/smtp-reply.js';
import { run } from './smtp-harness.js';

/** What alice may send as: her address and the alias the SMTP harness gives her. */
const own = new Set(['alice@example.com', 'postmaster@example.com', 'alice@localhost']);
const mayUse = async (address: string) => own.has(address.toLowerCase());

async function check(header: string | Buffer): Promise<{ accepted: string[] } | { code: number; text: string }> {
  const head = Buffer.isBuffer(header) ? header : Buffer.from(header, 'utf8');
  try {
    return { accepted: await checkSenderFields(head, head.length, mayUse) };
  } catch (error) {
    if (error instanceof SmtpReply) return { code: error.responseCode, text: error.message };
    throw error;
  }
}

/**
 * The unfolded From: values of a header section, read independently of the code
 * under test: lines end at LF, the first empty line ends the section, a line
 * starting with WSP continues the field before it.
 */
function fromValues(bytes: Buffer): string[] {
  const values: { name: string; value: string }[] = [];
  for (const line of bytes.toString('utf8').split('\n')) {
    const content = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (content === '') break;
    if (/^[ \t]/.test(content)) {
      if (values.length > 0) values[values.length - 1]!.value += content;
      continue;
    }
    const colon = content.indexOf(':');
    values.push({ name: colon < 0 ? '' : content.slice(0, colon).trim().toLowerCase(), value: content.slice(colon + 1) });
  }
  return values.filter((field) => field.name === 'from').map((field) => field.value);
}

// Each of these was accepted for alice by the old check (or is a variant of one that was).
const hostile = [
  'From: Bob [<bob@example.com>] <alice@example.com>',
  'From: <alice@example.com> <bob@example.com>',
  'From: alice@example.com <bob@example.com>',
  'From: Alice <alice@example.com> bob@example.com',
  'From: Alice <alice@example.com>; Bob <bob@example.com>',
  'From: Friends: alice@example.com, bob@example.com;',
  'From: "Alice" <alice@example.com>, Bob <bob@example.com',
  'From: <@relay.example.org:alice@example.com>',
  'From: alice@example.com@bob.example.com',
  'From: "alice@example.com"@example.com',
  'From: alice@[127.0.0.1]',
  'From: Alice < alice@example.com >',
  'From: alice @ example.com',
  'From: alice@example.com (unterminated',
  'From: "unterminated <alice@example.com>',
  'From: Alice\u00a0<bob@example.com>',
  'From: alice@example.com,',
  'From: , alice@example.com',
  'From: alice@example.com,, alice@example.com',
  'From: Alice\\ <alice@example.com>',
  'From: Al\u202eice <alice@example.com>',
  'From:\ufeffalice@example.com',
  'From: =?utf-8?q?Bob_=3Cbob=40example.com=3E?= <alice@example.com>',
  'From: =?utf-8?b?Qm9iIDxib2JAZXhhbXBsZS5jb20+?= <alice@example.com>',
  'From: \ufeffAlice <alice@example.com>',
  'From: Alice <alice@example.com>\r\nFrom: Bob <bob@example.com>',
  'From: Alice <alice@example.com>\r\nSender: bob@example.com',
  'From: Alice <alice@example.com>\r\nSender: alice@example.com, bob@example.com',
  'From: Alice <alice@example.com>\r\nX-Hidden: a\rFrom: bob@example.com',
  'From: Alice <alice@example.com>\r\nX-Hidden: a\x0bFrom: bob@example.com',
  'From : bob@example.com\r\nFrom: alice@example.com',
  'From bob@example.com\r\nFrom: alice@example.com',
  ' From: bob@example.com\r\nFrom: alice@example.com',
  `From: ${Array.from({ length: 1000 }, () => 'alice@example.com').join(', ')}, bob@example.com`,
];

const clean = [
  'From: alice@example.com',
  'From: Alice <alice@example.com>',
  'From: "Alice, the one" <alice@example.com>',
  'From: Alice B. Smith <ALICE@example.com>',
  'From: alice@example.com (Alice)',
  'From: =?utf-8?q?Al=C3=AFce?= <alice@example.com>',
  'From: Alïce 😀 <alice@example.com>',
  'From: Alice <alice@example.com>, Postmaster <postmaster@example.com>',
  'From: Alice <alice@localhost>',
  'From: Alice\r\n <alice@example.com>',
  'From: Postmaster <postmaster@example.com>\r\nSender: Alice <alice@example.com>',
  `From: ${Array.from({ length: 1500 }, () => 'alice@example.com').join(',\r\n ')}`,
];

test('hostile From:/Sender: headers are refused: 553 5.7.1 (550 5.6.0 for a second From:)', async () => {
  for (const header of hostile) {
    const result = await check(header + '\r\nSubject: x\r\n\r\nbody\r\n');
    assert.ok('code' in result, `accepted: ${JSON.stringify(header.slice(0, 200))}`);
    assert.ok(result.code === 553 || result.code === 550, `${result.code} ${result.text}`);
    if (result.code === 553) assert.match(result.text, /^5\.7\.1 /);
    else assert.match(result.text, /^5\.6\.0 /);
  }
});

test('clean From:/Sender: headers with the user\'s own addresses are accepted, every address returned', async () => {
  for (const header of clean) {
    const result = await check(header + '\r\nSubject: x\r\n\r\nbody\r\n');
    assert.ok('accepted' in result, `${JSON.stringify(header.slice(0, 200))}: ${'text' in result ? result.text : ''}`);
  }
  const many = await check(clean[clean.length - 1] + '\r\n\r\n');
  assert.ok('accepted' in many && many.accepted.length === 1500);
});

test('a refusal quotes the input as one short ASCII line (RFC 5321 §4.5.3.1.5: 512 octets)', async () => {
  for (const header of [`From: ${'b'.repeat(5000)}@example.com`, `From: j\u00f6hn${'x'.repeat(3000)}@example.com`, 'From: Alice <\u00e9@example.com>', `From: ${'a'.repeat(3000)}\u00a0<alice@example.com>`]) {
    const result = await check(header + '\r\n\r\n');
    assert.ok('code' in result);
    assert.ok(result.text.length <= 500, `${result.text.length} characters`);
    assert.match(result.text, /^[\x20-\x7e]+$/);
  }
});

test('a header section with no end inside the inspected bytes is refused, one that is the whole message is read', async () => {
  const head = Buffer.from('From: alice@example.com\r\nSubject: no body');
  assert.deepEqual(await checkSenderFields(head, head.length, mayUse), ['alice@example.com']);
  await assert.rejects(checkSenderFields(head, head.length + 1, mayUse), (error: SmtpReply) => error.responseCode === 553);
});

// Pieces of hostile address lists: addresses of alice (allowed) and bob (not),
// every RFC 5322 special, quoting, comments, folds, bare CR/LF and the Unicode
// spaces and format characters that parsers disagree about.
const piece = fc.constantFrom(
  'alice@example.com', 'bob@example.com', 'postmaster@example.com', 'ALICE@EXAMPLE.COM', 'alice', 'bob', 'example.com', '@', '@example.com',
  '<', '>', '<alice@example.com>', '<bob@example.com>', ',', ';', ':', '[', ']', '(', ')', '"', '\\', '.', ' ', '\t',
  'Alice', 'Bob', '"Bob, Jr."', '"bob@example.com"', '(bob@example.com)', '(a(b)c)', '"\\"', '\\"', "'", '=?utf-8?q?Bob?=',
  '\r\n ', '\r\n\t', '\n ', '\r', '\n', '\u00a0', '\u2028', '\ufeff', '\u200b', '\u3000', 'é', '😀', '\x00', '\x7f',
);
// Plausible lists (the user's addresses, bob's, display names, comments, folds),
// then the same with hostile pieces spliced in, then pieces at random.
const address = fc.constantFrom('alice@example.com', 'postmaster@example.com', 'ALICE@EXAMPLE.COM', 'Alice@Example.com', 'bob@example.com', 'alice@localhost', 'bob@localhost');
const displayName = fc.constantFrom('Alice', '"Bob, Jr."', 'Alice B. Smith', '"bob@example.com"', '=?utf-8?q?Bob?=', 'Al  ice', '"a\\"b"', 'Jöhn', '(c) Alice', 'Alice (work)', '""', "O'Neil");
const comment = fc.constantFrom('x', 'bob@example.com', 'a (b) c', '<bob@example.com>', '\\)');
const mailbox = fc.oneof(
  address,
  fc.tuple(displayName, address).map(([name, value]) => `${name} <${value}>`),
  fc.tuple(address, comment).map(([value, text]) => `${value} (${text})`),
);
const plausible = fc
  .tuple(fc.array(mailbox, { minLength: 1, maxLength: 4 }), fc.constantFrom(', ', ',', ',\r\n ', ' ,\t'))
  .map(([mailboxes, separator]) => mailboxes.join(separator));
const spliced = fc.tuple(plausible, fc.array(fc.tuple(fc.nat(), piece), { minLength: 1, maxLength: 2 })).map(([text, insertions]) => {
  let result = text;
  for (const [position, inserted] of insertions) {
    const at = position % (result.length + 1);
    result = result.slice(0, at) + inserted + result.slice(at);
  }
  return result;
});
const addressList = fc.oneof(
  { arbitrary: plausible, weight: 3 },
  { arbitrary: spliced, weight: 4 },
  { arbitrary: fc.array(piece, { minLength: 1, maxLength: 14 }).map((pieces) => pieces.join('')), weight: 3 },
);
const benignLine = fc.constantFrom('Subject: hello', 'To: bob@example.com', 'X-Tab:\tvalue', 'Sender: alice@example.com', 'Subject: two\r\n lines');
const hostileLine = fc.constantFrom('X-Note: a\rFrom: bob@example.com', 'Sender: bob@example.com', 'From: bob@example.com', ' folded', 'no colon here', 'From : bob@example.com', 'X-Form:\x0cFrom: bob@example.com');
const otherLine = fc.oneof({ arbitrary: benignLine, weight: 5 }, { arbitrary: hostileLine, weight: 1 });
const header = fc.record({
  before: fc.array(otherLine, { maxLength: 2 }),
  from: addressList,
  after: fc.array(otherLine, { maxLength: 2 }),
});

function headerBytes(input: { before: string[]; from: string; after: string[] }): Buffer {
  return Buffer.from([...input.before, `From: ${input.from}`, ...input.after].map((line) => line + '\r\n').join('') + '\r\nbody\r\n', 'utf8');
}

test('property: whatever is accepted, nodemailer reads exactly the same From: addresses, all of them the user\'s; Python agrees', async () => {
  const accepted: { bytes: Buffer; addresses: string[] }[] = [];
  let refused = 0;
  await fc.assert(
    fc.asyncProperty(header, async (input) => {
      const bytes = headerBytes(input);
      const result = await check(bytes);
      if ('code' in result) {
        refused++;
        return;
      }
      const values = fromValues(bytes);
      assert.equal(values.length, 1);
      const theirs = addressparser(values[0]!, { flatten: true }).map((entry) => entry.address);
      assert.deepEqual(theirs, result.accepted);
      assert.ok(theirs.length > 0);
      for (const address of theirs) assert.ok(own.has(address.toLowerCase()), address);
      accepted.push({ bytes, addresses: result.accepted });
    }),
    { numRuns: 3000, seed: 20261201 },
  );
  // The generator is meant to produce both outcomes; a run that only refuses proves nothing.
  assert.ok(accepted.length >= 50, `only ${accepted.length} accepted`);
  assert.ok(refused >= 500, `only ${refused} refused`);
  await pythonAgrees(accepted);
});

test('the hostile and clean corpora read the same to Python\'s email package wherever we accept', async () => {
  const accepted: { bytes: Buffer; addresses: string[] }[] = [];
  for (const text of [...hostile, ...clean]) {
    const bytes = Buffer.from(text + '\r\nSubject: x\r\n\r\nbody\r\n', 'utf8');
    const result = await check(bytes);
    if ('accepted' in result) accepted.push({ bytes, addresses: result.accepted });
  }
  assert.equal(accepted.length, clean.length);
  await pythonAgrees(accepted);
});

/**
 * Python parses each accepted header section whole (its own line splitting, its
 * own unfolding), once with email.utils.getaddresses and once with the modern
 * email.headerregistry; both must find exactly our From: addresses in one From:
 * field, and only the user's addresses in Sender:.
 */
async function pythonAgrees(accepted: { bytes: Buffer; addresses: string[] }[]): Promise<void> {
  const script = `
import base64, email, email.utils, json, sys
from email import policy
cases = json.load(sys.stdin)
out = []
for encoded in cases:
    raw = base64.b64decode(encoded)
    legacy = email.message_from_bytes(raw)
    modern = email.message_from_bytes(raw, policy=policy.default)
    froms = legacy.get_all('From') or []
    senders = legacy.get_all('Sender') or []
    utils = [address for name, address in email.utils.getaddresses([str(value) for value in froms])]
    try:
        registry = [address.addr_spec for field in (modern.get_all('From') or []) for address in field.addresses]
        sender = [address.addr_spec for field in (modern.get_all('Sender') or []) for address in field.addresses]
    except Exception as error:
        registry = sender = 'headerregistry failed: ' + repr(error)
    out.append({'fields': len(froms), 'utils': utils, 'registry': registry, 'sender': sender})
print(json.dumps(out))
`;
  const result = await run('python3', ['-c', script], JSON.stringify(accepted.map((entry) => entry.bytes.toString('base64'))));
  assert.equal(result.code, 0, result.stderr);
  const answers = JSON.parse(result.stdout) as { fields: number; utils: string[]; registry: string[] | string; sender: string[] | string }[];
  assert.equal(answers.length, accepted.length);
  answers.forEach((answer, index) => {
    const what = JSON.stringify(accepted[index]!.bytes.toString('utf8').slice(0, 300));
    assert.equal(answer.fields, 1, what);
    assert.deepEqual(answer.utils, accepted[index]!.addresses, what);
    assert.deepEqual(answer.registry, accepted[index]!.addresses, what);
    assert.ok(Array.isArray(answer.sender), what);
    for (const address of answer.sender) assert.ok(own.has(address.toLowerCase()), what);
  });
}
