// The fault campaign's reader of what IMAP serves from a message's stored structure
// and sizes: a real IMAP server on an ephemeral TLS port over the trial's store, and
// one `UID FETCH <uid> (UID ENVELOPE BODYSTRUCTURE BODY.PEEK[1] BODY.PEEK[HEADER]
// RFC822.SIZE)` per message. Each answer is kept byte for byte, so a later read can
// be compared with one taken while the store was intact.
import { startImapServer } from '../../src/imap/server.js';
import type { Logger } from '../../src/log.js';
import type { MailStore } from '../../src/store/types.js';
import { ImapSocket, imapLogin, imapPassword, imapPasswordHash, sharedCertificate } from './imap-reads.js';

export const structureItems = '(UID ENVELOPE BODYSTRUCTURE BODY.PEEK[1] BODY.PEEK[HEADER] RFC822.SIZE)';

export interface StructureTarget {
  mailboxName: string;
  uid: number;
}

/** `mailbox UID` → the untagged bytes of its FETCH (empty when the server withheld it). */
export type StructureAnswers = Map<string, Buffer>;

export const answerKey = (target: StructureTarget) => `${target.mailboxName} ${target.uid}`;

export async function readStructuresThroughImap(store: MailStore, log: Logger, targets: readonly StructureTarget[]): Promise<StructureAnswers> {
  await imapPasswordHash();
  const server = await startImapServer({ store, log, host: '127.0.0.1', port: null, tlsPort: 0, tls: await sharedCertificate(log) });
  const client = await ImapSocket.connect(server.tlsPort!);
  const answers: StructureAnswers = new Map();
  try {
    const login = await client.command(`LOGIN ${imapLogin} "${imapPassword}"`);
    if (!/^\S+ OK/m.test(login.tagged)) throw new Error(`IMAP LOGIN failed: ${login.tagged}`);
    for (const mailboxName of [...new Set(targets.map((target) => target.mailboxName))]) {
      if (!/^\S+ OK/.test((await client.command(`EXAMINE "${mailboxName}"`)).tagged)) continue;
      for (const target of targets.filter((candidate) => candidate.mailboxName === mailboxName)) {
        const reply = await client.command(`UID FETCH ${target.uid} ${structureItems}`);
        answers.set(answerKey(target), reply.untagged);
      }
    }
    await client.command('LOGOUT').catch(() => undefined);
  } finally {
    client.close();
    await server.stop();
  }
  return answers;
}

/** Answers that are data but not the intact store's data (a withheld message, no data, counts as nothing). */
export function countWrongAnswers(intact: StructureAnswers, now: StructureAnswers): { bad: number; served: number } {
  let bad = 0;
  let served = 0;
  for (const [key, answer] of now) {
    if (answer.length === 0) continue;
    served++;
    if (!answer.equals(intact.get(key) ?? Buffer.alloc(0))) bad++;
  }
  return { bad, served };
}
