// The SMTP side reads a message's header section (Received count for loop detection, the
// headers a bounce carries, the submission's Received check) the way the store's MIME parser
// does (src/mime/parser.ts): the first empty line ends it, whether it ends in CRLF or LF
// ("\n\r\n" is one), and a message with no empty line is all header (RFC 5322 §2.1: the
// body is optional). Before, a message without an empty line had no header section at all
// for these checks: its Received fields were not counted, and a loop went undetected.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { parseStructure } from '../../src/mime/structure.js';
import { MessageSpool } from '../../src/smtp/message-spool.js';
import { countReceived } from '../../src/smtp/received-header.js';
import { SpoolBudget } from '../../src/smtp/spool-budget.js';
import { temporaryDirectory } from '../helpers/temporary-store.js';
import { RawSmtpClient } from './raw-smtp-client.js';
import { startHarness, type Harness } from './smtp-harness.js';

async function spoolOf(bytes: Buffer, directory: string): Promise<MessageSpool> {
  const outcome = await MessageSpool.receive(Readable.from([bytes]), { directory, maxSize: 10 * 1024 * 1024, budget: new SpoolBudget(64 * 1024 * 1024) });
  assert.equal(outcome.kind, 'received');
  return (outcome as { spool: MessageSpool }).spool;
}

const line = fc.constantFrom('Received: from hop.example.org', 'Subject: hello', ' folded continuation', 'no colon here', 'body text', '');
const terminator = fc.constantFrom('\r\n', '\n');

test('the spool\'s header section is the one the MIME parser stores, and its Received count agrees', async () => {
  const directory = await temporaryDirectory();
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(line, terminator), { maxLength: 24 }), fc.boolean(), async (lines, unterminatedLast) => {
      let text = lines.map(([content, end]) => content + end).join('');
      if (unterminatedLast) text += 'Received: last';
      const bytes = Buffer.from(text, 'latin1');
      const spool = await spoolOf(bytes, directory);
      try {
        const structure = await parseStructure(bytes);
        assert.equal(spool.headerText().length, structure.root.bodyStart, JSON.stringify(text));
        const stored = structure.root.headers.filter((field) => field.name === 'received').length;
        assert.equal(countReceived(spool.headerText()), stored, JSON.stringify(text));
      } finally {
        await spool.dispose();
      }
    }),
    { numRuns: 1000, seed: 5322 },
  );
});

let harness: Harness;

before(async () => {
  harness = await startHarness({ smtp: { maxReceivedHeaders: 5, mx: { port: 0, greetingDelayMilliseconds: 0 } } });
});

after(async () => harness.close());

function send(data: string): Promise<string> {
  return RawSmtpClient.sendMessage(harness.mxPort, data);
}

const hops = (count: number) => Array.from({ length: count }, (_, index) => `Received: from hop${index}.example.org by hop${index + 1}.example.org; Fri, 27 Nov 2026 10:00:00 +0000\r\n`).join('');

test('through the MX: a message that is all header, with too many Received fields, is a mail loop (554 5.4.6)', async () => {
  const before = (await harness.account.getMailbox('INBOX')).messages;
  assert.match(await send(`${hops(6)}Subject: no body\r\n`), /^554 5\.4\.6 /);
  assert.equal((await harness.account.getMailbox('INBOX')).messages, before);
});

test('through the MX: Received lines after a "\\n\\r\\n" are body, not counted', async () => {
  const before = (await harness.account.getMailbox('INBOX')).messages;
  assert.match(await send(`${hops(2)}Subject: lf then crlf\n\r\n${hops(6)}\r\nend\r\n`), /^250 /);
  assert.equal((await harness.account.getMailbox('INBOX')).messages, before + 1);
});
