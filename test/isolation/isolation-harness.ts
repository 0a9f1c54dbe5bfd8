// Two accounts on one real server: alice (A, the attacker, logged in over real TLS)
// and bob (B, the target), with B's mail full of markers A must never see, and a
// snapshot of everything B owns so a test can prove it did not change.
import { createHash } from 'node:crypto';
import { hashPassword } from '../../src/auth/password.js';
import type { MailStore } from '../../src/store/types.js';
import { after, before } from 'node:test';
import { startFullServer, type FullServer, type LineClient } from '../server/tls-harness.js';

export const alice = { login: 'alice@example.com', password: 'alice password for isolation' };
export const bob = { login: 'bob@example.com', password: 'bob password for isolation' };

/** B's own names and values. A never sends these, so none may appear in anything A receives. */
export const bobSecrets = {
  subject: 'BOBSECRET-SUBJECT',
  body: 'BOBSECRET-BODY',
  messageId: 'bobsecret-message-id',
  keyword: '$BobSecretKeyword',
  hiddenMailbox: 'BobHiddenArchive',
};

/** B's mailboxes that A guesses by name. */
export const bobGuessable = ['Bob-Private', 'Bob-Private/Sub', 'Projects'];

export function bobMessage(index: number): Buffer {
  return Buffer.from(
    [
      'From: Bob <bob@example.com>',
      'To: Carol <carol@example.org>',
      `Subject: ${bobSecrets.subject} ${index}`,
      'Date: Fri, 27 Nov 2026 10:00:00 +0000',
      `Message-ID: <${bobSecrets.messageId}-${index}@example.com>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      `${bobSecrets.body} number ${index}.`,
      '',
    ].join('\r\n'),
  );
}

export function aliceMessage(index: number): Buffer {
  return Buffer.from(
    [
      'From: Alice <alice@example.com>',
      'To: Dave <dave@example.org>',
      `Subject: Alice note ${index}`,
      'Date: Fri, 27 Nov 2026 11:00:00 +0000',
      `Message-ID: <alice-${index}@example.com>`,
      '',
      `Alice's own text ${index}.`,
      '',
    ].join('\r\n'),
  );
}

export interface IsolationServer extends FullServer {
  /** B's MAILBOXIDs, EMAILIDs and THREADIDs: A must never see them either. */
  bobIdentifiers: string[];
}

export async function startIsolationServer(): Promise<IsolationServer> {
  const running = await startFullServer();
  const admin = running.server.store.admin;
  await admin.addDomain('example.com');
  await admin.addAccount(alice.login, await hashPassword(alice.password));
  await admin.addAccount(bob.login, await hashPassword(bob.password));
  await admin.addAlias('robert@example.com', bob.login);

  const bobStore = await running.server.store.account(bob.login);
  for (const name of [...bobGuessable, bobSecrets.hiddenMailbox]) await bobStore.createMailbox(name);
  let index = 0;
  for (const mailbox of ['INBOX', 'INBOX', 'INBOX', 'Bob-Private', 'Bob-Private/Sub', 'Projects', bobSecrets.hiddenMailbox]) {
    index++;
    await bobStore.append(mailbox, bobMessage(index), { flags: index % 2 === 0 ? ['\\Flagged', bobSecrets.keyword] : [bobSecrets.keyword] });
  }
  await bobStore.setSubscribed(bobSecrets.hiddenMailbox, true);

  // A has the same UIDs (1, 2) in its INBOX and a mailbox of the same name as one of B's.
  const aliceStore = await running.server.store.account(alice.login);
  await aliceStore.append('INBOX', aliceMessage(1));
  await aliceStore.append('INBOX', aliceMessage(2), { flags: ['\\Seen'] });
  await aliceStore.createMailbox('Projects');
  await aliceStore.append('Projects', aliceMessage(3));

  const bobIdentifiers: string[] = [];
  for (const mailbox of await bobStore.listMailboxes()) {
    bobIdentifiers.push(mailbox.id);
    for (const record of await bobStore.fetch(mailbox.id, { uids: [[1, Infinity]] })) bobIdentifiers.push(record.emailId, record.threadId);
  }
  return { ...running, bobIdentifiers };
}

/**
 * Everything B owns, in a form two calls can compare: each mailbox's digest
 * (XOR of record checksums, DESIGN.md invariant 3), counters and subscription,
 * each message's record checksum, flags and SHA-256 of its bytes, and the quota.
 */
export async function snapshotAccount(store: MailStore, login: string): Promise<unknown> {
  const account = await store.account(login);
  const mailboxes = [];
  for (const mailbox of await account.listMailboxes()) {
    const messages = [];
    for (const record of await account.fetch(mailbox.id, { uids: [[1, Infinity]] })) {
      const bytes = await account.readMessage(mailbox.id, record.uid);
      messages.push({ uid: record.uid, modseq: record.modseq, flags: record.flags, checksum: record.checksum, sha256: createHash('sha256').update(bytes).digest('hex') });
    }
    mailboxes.push({ ...mailbox, messages });
  }
  return { mailboxes, subscriptions: await account.listSubscriptions(), quota: await account.quota() };
}

/** What a test file of the battery shares: the server, B's snapshot from the start, and every client A opened. */
export interface IsolationSuite {
  running: IsolationServer;
  bobBefore: unknown;
  clients: LineClient[];
}

/** Starts the server (and snapshots B) before the file's tests; closes A's clients and stops it after. */
export function isolationSuite(): IsolationSuite {
  const suite = { clients: [] } as unknown as IsolationSuite;
  before(async () => {
    suite.running = await startIsolationServer();
    suite.bobBefore = await snapshotAccount(suite.running.server.store, bob.login);
  });
  after(async () => {
    for (const client of suite.clients) client.close();
    await suite.running.stop();
  });
  return suite;
}
