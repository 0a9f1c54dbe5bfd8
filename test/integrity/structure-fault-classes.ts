// Fault classes for what the store derives from a message and keeps beside its
// blob: one bit flipped in a blob row's stored structure (envelope, part byte
// ranges, line counts, header index), or in a stored size (the blob row's or the
// record's). Pass: no wrong byte served, through the store API or IMAP (ENVELOPE,
// BODYSTRUCTURE, BODY[1], BODY[HEADER], RFC822.SIZE, BODY[]); the damage detected,
// by the read that meets it (`integrity.structure_mismatch`) or by audit; and
// repaired, by that read or by `audit --repair`, with no copy needed (the blob is the
// source): the row holds its original values and the store equals its backup.
// The helpers come in from fault-classes.ts, which lists these classes, so that the
// two modules do not import each other at run time.
import Database from 'better-sqlite3';
import { randomInt } from 'node:crypto';
import * as path from 'node:path';
import { auditStore } from '../../src/integrity/audit.js';
import { backupStore } from '../../src/integrity/backup.js';
import type { FaultClass, Trial, TrialOutcome } from './fault-classes.js';
import { countWrongAnswers, readStructuresThroughImap } from './imap-structure-reads.js';

export interface StructureFaultHelpers {
  countBadReads(trial: Trial): Promise<{ bad: number; imapBodies: number }>;
  intactAgain(trial: Trial, notes: string[]): Promise<boolean>;
}

/** A multipart message, so that part byte ranges (BODY[1]) are part of what can go wrong. */
function multipartMessage(): Buffer {
  const boundary = `b${randomInt(1_000_000)}`;
  return Buffer.from(
    [
      'From: Bob <bob@example.org>',
      'To: Alice <alice@example.com>',
      `Subject: Figures ${randomInt(1_000_000)}`,
      'Date: Fri, 27 Nov 2026 10:00:00 +0000',
      'MIME-Version: 1.0',
      `Content-Type: multipart/mixed; boundary="${boundary}"`,
      '',
      `--${boundary}`,
      'Content-Type: text/plain; charset=us-ascii',
      '',
      'The figures are attached.'.repeat(1 + randomInt(20)),
      `--${boundary}`,
      'Content-Type: application/octet-stream; name="figures.bin"',
      'Content-Transfer-Encoding: base64',
      '',
      'AAECAwQFBgcICQ==',
      `--${boundary}--`,
      '',
    ].join('\r\n'),
  );
}

function onTheDisk<T>(trial: Trial, work: (database: Database.Database) => T): T {
  const database = new Database(path.join(trial.dataDir, 'postkeep.db'));
  try {
    database.pragma('busy_timeout = 10000');
    return work(database);
  } finally {
    database.close();
  }
}

interface DerivedRows {
  blobs: unknown[];
  records: unknown[];
}

/** Every stored derived value: blob rows' structure, size and checksum, and records' sizes. */
function derivedRows(trial: Trial): DerivedRows {
  return onTheDisk(trial, (database) => ({
    blobs: database.prepare('SELECT hash, size, structure, structure_checksum FROM blobs ORDER BY hash').all(),
    records: database.prepare('SELECT mailbox_id, uid, size FROM messages ORDER BY mailbox_id, uid').all(),
  }));
}

type Injection = (trial: Trial, victim: Trial['messages'][number]) => void;

const flipInStructure: Injection = (trial, victim) =>
  onTheDisk(trial, (database) => {
    const { structure } = database.prepare('SELECT structure FROM blobs WHERE hash = ?').get(victim.blobHash) as { structure: string };
    const bytes = Buffer.from(structure, 'utf8');
    bytes[randomInt(bytes.length)]! ^= 1 << randomInt(8);
    // Byte for byte, as a disk would: the result need not be valid UTF-8 or JSON.
    database.prepare('UPDATE blobs SET structure = CAST(? AS TEXT) WHERE hash = ?').run(bytes, victim.blobHash);
  });

const flipInSize: Injection = (trial, victim) =>
  onTheDisk(trial, (database) => {
    // One of the low 24 bits: a message's size stays a plausible number.
    const bit = 1 << randomInt(24);
    if (randomInt(2) === 0) {
      const { size } = database.prepare('SELECT size FROM blobs WHERE hash = ?').get(victim.blobHash) as { size: number };
      database.prepare('UPDATE blobs SET size = ? WHERE hash = ?').run(size ^ bit, victim.blobHash);
    } else {
      const where = 'mailbox_id = (SELECT id FROM mailboxes WHERE object_id = ?) AND uid = ?';
      const { size } = database.prepare(`SELECT size FROM messages WHERE ${where}`).get(victim.mailboxId, victim.uid) as { size: number };
      database.prepare(`UPDATE messages SET size = ? WHERE ${where}`).run(size ^ bit, victim.mailboxId, victim.uid);
    }
  });

function derivedValueFault(name: string, inject: Injection, helpers: StructureFaultHelpers): FaultClass {
  return {
    name,
    async run(trial): Promise<TrialOutcome> {
      const notes: string[] = [];
      const bytes = multipartMessage();
      const appended = await trial.account.append('INBOX', bytes);
      trial.messages.push({ mailboxId: appended.mailboxId, mailboxName: 'INBOX', uid: appended.uid, flags: [], blobHash: appended.blobHash, bytes });
      await backupStore(trial.store, trial.backupDir);
      const intact = await readStructuresThroughImap(trial.store, trial.log, trial.messages);
      const before = derivedRows(trial);
      const victim = randomInt(2) === 0 ? trial.messages[trial.messages.length - 1]! : trial.messages[randomInt(trial.messages.length)]!;
      const eventsBefore = trial.log.events.length;
      inject(trial, victim);

      let bad = 0;
      let imapBodies = 0;
      let structureAnswers = 0;
      let detected: boolean;
      const readAll = async () => {
        const answers = countWrongAnswers(intact, await readStructuresThroughImap(trial.store, trial.log, trial.messages));
        if (answers.bad > 0) notes.push(`${answers.bad} IMAP structure answer(s) differ from the intact store's`);
        structureAnswers += answers.served;
        const others = await helpers.countBadReads(trial);
        bad += answers.bad + others.bad;
        imapBodies += others.imapBodies;
      };
      if (randomInt(2) === 0) {
        // A client meets the damage first: that read detects it, serves the blob's own values and rewrites the row.
        await readAll();
        detected = trial.log.events.slice(eventsBefore).some((event) => event.event === 'integrity.structure_mismatch' && event.fields.blob === victim.blobHash);
        if (!detected) notes.push('the read logged no integrity.structure_mismatch');
        await auditStore(trial.store, { repair: true });
      } else {
        // Audit meets it first (and finds it by checksum or by re-parsing), then --repair rewrites it.
        const found = await auditStore(trial.store);
        detected = !found.ok;
        if (!detected) notes.push('audit found nothing');
        const repair = await auditStore(trial.store, { repair: true });
        if (!repair.ok) notes.push(...repair.findings.filter((finding) => finding.severity === 'error' && finding.repair !== 'repaired').map((finding) => `unrepaired ${finding.kind} ${finding.where}`));
        await readAll();
      }
      await trial.store.context.commit.idle();
      const after = derivedRows(trial);
      const restored = JSON.stringify(after) === JSON.stringify(before);
      if (!restored) notes.push('the derived rows differ from the intact store’s after repair');
      const clean = (await auditStore(trial.store)).ok;
      if (!clean) notes.push('audit is not clean after repair');
      // The IMAP structure path really ran: every message answered (none withheld, the blobs are intact).
      const answered = structureAnswers === trial.messages.length;
      if (!answered) notes.push(`IMAP answered ${structureAnswers} of ${trial.messages.length} structure FETCHes`);
      const repaired = restored && clean && answered && (await helpers.intactAgain(trial, notes));
      return { detected, repaired, badBytesServed: bad, imapBodies, notes };
    },
  };
}

export function structureFaults(helpers: StructureFaultHelpers): FaultClass[] {
  return [derivedValueFault('bit flip in a stored structure', flipInStructure, helpers), derivedValueFault('bit flip in a stored size', flipInSize, helpers)];
}
