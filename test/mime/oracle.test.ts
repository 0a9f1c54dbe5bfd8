// Cross-checks the byte ranges against mailsplit, the nodemailer-family
// splitter that round-trips messages exactly: for well-formed messages, every
// leaf part's header and body bytes must be what mailsplit emits for it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Splitter, type DataChunk, type MimeNode } from 'mailsplit';
import { parseStructure, type BodyPart } from '../../src/mime/structure.js';

interface Leaf {
  header: string;
  body: string;
}

async function mailsplitLeaves(message: Buffer): Promise<{ leaves: Leaf[]; joined: Buffer }> {
  const splitter = new Splitter({ defaultInlineEmbedded: true });
  const leaves: Leaf[] = [];
  const bodies = new Map<MimeNode, Buffer[]>();
  const all: Buffer[] = [];
  splitter.on('data', (data: MimeNode | DataChunk) => {
    if (data.type === 'node') {
      all.push(data.getHeaders());
      if (!data.multipart && !data.messageNode) {
        const pieces: Buffer[] = [];
        bodies.set(data, pieces);
        leaves.push({ header: data.getHeaders().toString('latin1'), body: '' });
        Object.defineProperty(leaves[leaves.length - 1], 'pieces', { value: pieces });
      }
    } else {
      all.push(data.value);
      if (data.type === 'body') bodies.get(data.node)?.push(data.value);
    }
  });
  const done = new Promise<void>((resolve, reject) => {
    splitter.on('end', resolve);
    splitter.on('error', reject);
  });
  splitter.end(message);
  await done;
  for (const leaf of leaves) {
    const pieces = (leaf as unknown as { pieces: Buffer[] }).pieces;
    leaf.body = Buffer.concat(pieces).toString('latin1');
  }
  return { leaves, joined: Buffer.concat(all) };
}

function ourLeaves(message: Buffer, root: BodyPart): Leaf[] {
  const leaves: Leaf[] = [];
  const visit = (part: BodyPart): void => {
    if (part.message) return visit(part.message.root);
    if (part.children.length > 0) return part.children.forEach(visit);
    leaves.push({
      header: message.subarray(part.headerStart, part.bodyStart).toString('latin1'),
      body: message.subarray(part.bodyStart, part.end).toString('latin1'),
    });
  };
  visit(root);
  return leaves;
}

const messages: Record<string, string> = {
  'simple text': 'Subject: hi\r\n\r\nbody\r\nline 2\r\n',
  alternative: 'Content-Type: multipart/alternative; boundary=a\r\n\r\npre\r\n--a\r\nContent-Type: text/plain\r\n\r\nplain\r\n\r\n--a\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n--a--\r\nepi\r\n',
  nested:
    'Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: multipart/alternative; boundary=i\r\n\r\n--i\r\n\r\none\r\n--i\r\n\r\ntwo\r\n--i--\r\n\r\n--o\r\nContent-Type: image/gif\r\nContent-Transfer-Encoding: base64\r\n\r\nR0lGOD\r\nlhAQAB\r\n--o--\r\n',
  'inline message/rfc822':
    'Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\n\r\nsee below\r\n--o\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nContent-Type: multipart/alternative; boundary=m\r\n\r\n--m\r\n\r\ninner text\r\n--m--\r\n\r\n--o--\r\n',
  'bare LF': 'Content-Type: multipart/mixed; boundary=z\n\n--z\n\nfirst\n--z\nContent-Type: text/html\n\n<b>x</b>\n\n--z--\n',
};

for (const [name, text] of Object.entries(messages)) {
  test(`leaf parts match mailsplit: ${name}`, async () => {
    const message = Buffer.from(text);
    const oracle = await mailsplitLeaves(message);
    assert.ok(oracle.joined.equals(message), 'mailsplit round-trips the message');
    const structure = await parseStructure(message);
    assert.deepEqual(ourLeaves(message, structure.root), oracle.leaves);
  });
}
