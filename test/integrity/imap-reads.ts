// The fault campaign's IMAP reader: a real IMAP server (src/imap/server.ts) on an
// ephemeral TLS port over the trial's store, a raw TLS client that logs in, selects
// each mailbox and asks `UID FETCH 1:* (UID FLAGS BODY.PEEK[])`, and a count of every
// answer that is not the message's own: wrong bytes under a known UID, edited flags,
// or a known message's bytes under a UID it never had. A refusal (NO [UNAVAILABLE],
// a message left out) is the right answer for damage and counts as nothing.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { hashPassword } from '../../src/auth/password.js';
import { startImapServer } from '../../src/imap/server.js';
import type { Logger } from '../../src/log.js';
import { ensureCertificate } from '../../src/server/certificate.js';
import type { MailStore } from '../../src/store/types.js';

export const imapLogin = 'alice@example.com';
export const imapPassword = 'fault campaign password';

/** What the store must serve for one message. */
export interface ExpectedMessage {
  mailboxName: string;
  uid: number;
  flags: readonly string[];
  bytes: Buffer;
}

export interface ImapReadOutcome {
  /** Answers that were bytes or metadata other than the message's own. */
  bad: number;
  /** Message bodies the server sent (good or bad): proof the IMAP path ran. */
  bodies: number;
  /** FETCH commands that ended in NO [UNAVAILABLE]. */
  unavailable: number;
}

let passwordHash: Promise<string> | undefined;
/** One argon2id hash per process: each trial's account is created with it. */
export function imapPasswordHash(): Promise<string> {
  passwordHash ??= hashPassword(imapPassword);
  return passwordHash;
}

let certificate: Promise<{ certFile: string; keyFile: string }> | undefined;
/** One self-signed certificate per process (making an RSA key per trial would dominate the run). */
export function sharedCertificate(log: Logger): Promise<{ certFile: string; keyFile: string }> {
  certificate ??= (async () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'postkeep-fault-tls-'));
    process.once('exit', () => fs.rmSync(directory, { recursive: true, force: true }));
    return ensureCertificate({ dataDir: directory, hostname: 'localhost', certFile: '', keyFile: '', log });
  })();
  return certificate;
}

/** Reads every expected message through a fresh IMAP server and session; stops both before returning. */
export async function readThroughImap(store: MailStore, log: Logger, expected: readonly ExpectedMessage[]): Promise<ImapReadOutcome> {
  const server = await startImapServer({ store, log, host: '127.0.0.1', port: null, tlsPort: 0, tls: await sharedCertificate(log) });
  const client = await ImapSocket.connect(server.tlsPort!);
  const outcome: ImapReadOutcome = { bad: 0, bodies: 0, unavailable: 0 };
  try {
    const login = await client.command(`LOGIN ${imapLogin} "${imapPassword}"`);
    if (!/^\S+ OK/m.test(login.tagged)) throw new Error(`IMAP LOGIN failed: ${login.tagged}`);
    const everyBody = expected.map((message) => message.bytes);
    for (const mailboxName of [...new Set(expected.map((message) => message.mailboxName))]) {
      // A mailbox the damaged store cannot open is refused, not served.
      if (!/^\S+ OK/.test((await client.command(`SELECT "${mailboxName}"`)).tagged)) continue;
      const known = new Map(expected.filter((message) => message.mailboxName === mailboxName).map((message) => [message.uid, message]));
      const reply = await client.command('UID FETCH 1:* (UID FLAGS BODY.PEEK[])');
      if (/\[UNAVAILABLE\]/.test(reply.tagged)) outcome.unavailable++;
      for (const response of parseFetchResponses(reply.untagged)) {
        if (response.body) outcome.bodies++;
        const message = known.get(response.uid);
        if (message) {
          if (response.body && !response.body.equals(message.bytes)) outcome.bad++;
          if (response.flags && !sameFlags(response.flags, message.flags)) outcome.bad++;
        } else if (response.body && everyBody.some((bytes) => bytes.equals(response.body!))) {
          // A known message under a UID it never had: an edited record served.
          outcome.bad++;
        }
      }
    }
    await client.command('LOGOUT').catch(() => undefined);
  } finally {
    client.close();
    await server.stop();
  }
  return outcome;
}

function sameFlags(served: readonly string[], expected: readonly string[]): boolean {
  // \Recent is the session's, not the record's (RFC 3501 §2.3.2).
  const normalize = (flags: readonly string[]) => flags.filter((flag) => flag !== '\\Recent').sort().join(' ');
  return normalize(served) === normalize(expected);
}

interface FetchResponse {
  uid: number;
  flags: string[] | null;
  body: Buffer | null;
}

/** `* n FETCH (UID u FLAGS (...) BODY[] {len}\r\n<bytes>)` responses, literals taken by their length. */
export function parseFetchResponses(data: Buffer): FetchResponse[] {
  const responses: FetchResponse[] = [];
  const text = data.toString('latin1');
  const start = /\* \d+ FETCH \(/g;
  let position = 0;
  for (;;) {
    start.lastIndex = position;
    const match = start.exec(text);
    if (!match) break;
    position = match.index + match[0].length;
    const response: FetchResponse = { uid: 0, flags: null, body: null };
    while (position < text.length && text[position] !== ')') {
      if (text[position] === ' ') {
        position++;
        continue;
      }
      const name = /^[A-Z0-9.]+(\[[^\]]*\](<\d+>)?)?/.exec(text.slice(position, position + 64))![0];
      position += name.length + 1;
      if (name === 'UID' || name === 'MODSEQ' || name === 'RFC822.SIZE') {
        const value = /^\(?(\d+)\)?/.exec(text.slice(position))![0];
        if (name === 'UID') response.uid = Number(/\d+/.exec(value)![0]);
        position += value.length;
      } else if (name === 'FLAGS') {
        const end = text.indexOf(')', position);
        response.flags = text.slice(position + 1, end).split(' ').filter(Boolean);
        position = end + 1;
      } else if (name.startsWith('BODY[')) {
        const literal = /^\{(\d+)\}\r\n/.exec(text.slice(position, position + 32));
        if (!literal) throw new Error(`unexpected FETCH data at ${JSON.stringify(text.slice(position, position + 40))}`);
        position += literal[0].length;
        const length = Number(literal[1]);
        response.body = data.subarray(position, position + length);
        position += length;
      } else {
        throw new Error(`unexpected FETCH item ${name}`);
      }
    }
    responses.push(response);
  }
  return responses;
}

/** A minimal tagged-command client over TLS that keeps the server's bytes exactly as sent. */
export class ImapSocket {
  private buffer = Buffer.alloc(0);
  private waiter: (() => void) | null = null;
  private closed = false;
  private tag = 0;

  private constructor(private readonly socket: tls.TLSSocket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.waiter?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
    socket.on('error', () => {});
  }

  static async connect(port: number): Promise<ImapSocket> {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', () => resolve());
      socket.once('error', reject);
    });
    const client = new ImapSocket(socket);
    await client.until(() => client.buffer.indexOf('\r\n') >= 0);
    client.buffer = Buffer.alloc(0);
    return client;
  }

  /** Sends one command; the untagged bytes before its tagged reply, and that reply line. */
  async command(text: string): Promise<{ untagged: Buffer; tagged: string }> {
    const tag = `T${++this.tag}`;
    this.socket.write(`${tag} ${text}\r\n`);
    let end = -1;
    await this.until(() => {
      end = this.taggedLineAt(tag);
      return end >= 0;
    });
    const lineEnd = this.buffer.indexOf('\r\n', end) + 2;
    const untagged = this.buffer.subarray(0, end);
    const tagged = this.buffer.subarray(end, lineEnd).toString('latin1');
    this.buffer = this.buffer.subarray(lineEnd);
    return { untagged, tagged };
  }

  /** Where the tagged reply starts, skipping literals so that message bytes are never mistaken for it. */
  private taggedLineAt(tag: string): number {
    let position = 0;
    for (;;) {
      const lineEnd = this.buffer.indexOf('\r\n', position);
      if (lineEnd < 0) return -1;
      const line = this.buffer.subarray(position, lineEnd).toString('latin1');
      if (line.startsWith(`${tag} `)) return position;
      const literal = /\{(\d+)\}$/.exec(line);
      position = lineEnd + 2 + (literal ? Number(literal[1]) : 0);
      if (literal) {
        // The rest of the line after the literal continues the response.
        if (position > this.buffer.length) return -1;
      }
    }
  }

  private async until(ready: () => boolean): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (!ready()) {
      if (this.closed) throw new Error(`the IMAP connection closed; received ${JSON.stringify(this.buffer.toString('latin1').slice(-500))}`);
      if (Date.now() > deadline) throw new Error(`no IMAP reply within 60 s; received ${JSON.stringify(this.buffer.toString('latin1').slice(-500))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
