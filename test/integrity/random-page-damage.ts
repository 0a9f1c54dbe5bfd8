// The fault class "random page damage": random bytes over random places in one to
// three random pages of the SQLite file, the server stopped (what a failing disk or
// a stray write leaves). Nothing can rebuild a page, so the promises are about
// honesty: the real `postkeep audit` completes (no stack trace), exits 1 and names
// what is damaged; every read afterwards serves the right bytes or refuses; and
// `restore --in-place` from the backup makes every message byte-identical again.
// Damage that lands only in unused bytes changes nothing a query can see: then an
// audit that finds nothing is right, and the trial says so in a note.
import Database from 'better-sqlite3';
import { randomBytes, randomInt } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { auditStore } from '../../src/integrity/audit.js';
import { restoreInPlace } from '../../src/integrity/restore-in-place.js';
import { openStore } from '../../src/store/open-store.js';
import { runCli } from '../helpers/run-cli.js';
import type { FaultClass, Trial } from './fault-classes.js';
import { imapLogin } from './imap-reads.js';

interface Helpers {
  countBadReads(trial: Trial): Promise<{ bad: number; imapBodies: number }>;
  intactAgain(trial: Trial, notes: string[]): Promise<boolean>;
}

/** Every row of every table, in a stable order: what "nothing visible changed" is held to. Null when a query fails. */
function logicalContent(file: string): string | null {
  let database: Database.Database | undefined;
  try {
    database = new Database(file, { readonly: true, fileMustExist: true });
    const tables = database.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").all() as { name: string }[];
    const parts: string[] = [];
    for (const { name } of tables) {
      const rows = database.prepare(`SELECT * FROM "${name.replace(/"/g, '""')}"`).raw().all();
      parts.push(name, ...rows.map((row) => JSON.stringify(row, (_key, value: unknown) => (Buffer.isBuffer(value) ? value.toString('hex') : typeof value === 'bigint' ? String(value) : value))).sort());
    }
    return parts.join('\n');
  } catch {
    return null;
  } finally {
    database?.close();
  }
}

export function randomPageDamage(helpers: Helpers): FaultClass {
  return {
    name: 'random page damage',
    async run(trial) {
      const notes: string[] = [];
      const databaseFile = path.join(trial.dataDir, 'postkeep.db');
      const pageSize = trial.store.context.db.pragma('page_size', { simple: true }) as number;
      // Half the hits go to the root pages of the mail tables, where a damaged byte is most
      // often a damaged value (a hash, a number, JSON) rather than a broken page.
      const mailPages = (
        trial.store.context.db.prepare("SELECT rootpage FROM sqlite_schema WHERE type = 'table' AND name IN ('messages', 'mailboxes', 'blobs', 'expunged', 'accounts')").all() as { rootpage: number }[]
      ).map((row) => row.rootpage);
      await trial.store.close();
      const before = logicalContent(databaseFile);
      const pages = Math.floor((await fs.stat(databaseFile)).size / pageSize);
      const damaged: string[] = [];
      // Most of a small database is free space, where damage changes nothing: damage again
      // (a few rounds at most) until a query sees a difference, so the trial tests audit.
      let visible = false;
      for (let round = 0; round < 10 && !visible; round++) {
        const handle = await fs.open(databaseFile, 'r+');
        for (let count = 1 + randomInt(3); count > 0; count--) {
          const page = randomInt(2) === 0 && mailPages.length > 0 ? mailPages[randomInt(mailPages.length)]! : 1 + randomInt(pages);
          // Page 1 begins with the 100-byte file header: damage there is "not a database", a different fault.
          const first = page === 1 ? 100 : 0;
          const length = 1 + randomInt(64);
          const offset = first + randomInt(pageSize - first - length);
          await handle.write(randomBytes(length), 0, length, (page - 1) * pageSize + offset);
          damaged.push(`page ${page}/${pages} bytes ${offset}+${length}`);
        }
        await handle.sync();
        await handle.close();
        visible = logicalContent(databaseFile) !== before;
      }

      // The real command, as an admin runs it; no other process writes this folder, so no grace is needed.
      const config = path.join(path.dirname(trial.dataDir), 'audit.toml');
      await fs.writeFile(config, '[store]\norphanGraceSeconds = 0\n');
      const audit = await runCli(['audit', '--json'], { env: { POSTKEEP_DATA: trial.dataDir, POSTKEEP_CONFIG: config } });
      const crashed = /\n\s+at .*:\d+:\d+/.test(audit.stderr) || !(audit.code === 0 || audit.code === 1);
      let named = false;
      if (audit.code === 1) {
        // Either a report with errors, or the one-line refusal of a database that cannot be opened at all.
        const report = (() => {
          try {
            return JSON.parse(audit.stdout) as { findings: { severity: string; kind: string; where: string }[] };
          } catch {
            return null;
          }
        })();
        named = report ? report.findings.some((finding) => finding.severity === 'error' && finding.where !== '') : /^postkeep: .*(damaged|malformed|not a database|corrupt)/im.test(audit.stderr);
      }
      if (crashed) notes.push(`audit did not complete cleanly (exit ${audit.code}): ${audit.stderr.split('\n')[0]}`);
      if (visible && !named) notes.push(`damage (${damaged.join(', ')}) changed what queries see, and audit exited ${audit.code} without naming it`);
      if (!visible && audit.code === 0) notes.push('some trials hit only bytes no query sees, ten rounds running (audit rightly found nothing)');
      const detected = !crashed && (visible ? named : audit.code === 0 || named);

      // Reads afterwards: the right bytes or a refusal (a store that will not open refuses everything).
      let reads = { bad: 0, imapBodies: 0 };
      const reopened = await openStore({ dataDir: trial.dataDir, log: trial.log }).catch(() => null);
      if (reopened) {
        trial.store = reopened;
        const account = await reopened.account(imapLogin).catch(() => null);
        if (account) {
          trial.account = account;
          reads = await helpers.countBadReads(trial).catch(() => reads);
        }
        await reopened.close();
      }

      const restored = await restoreInPlace(trial.backupDir, trial.dataDir, trial.log);
      if (!restored.identical) notes.push(...restored.problems.map((problem) => `${problem.kind} ${problem.where}`));
      trial.store = await openStore({ dataDir: trial.dataDir, log: trial.log });
      trial.account = await trial.store.account(imapLogin);
      const repaired = restored.identical && (await helpers.intactAgain(trial, notes)) && (await auditStore(trial.store, { orphanGraceMilliseconds: 0 })).ok;
      return { detected, repaired, badBytesServed: reads.bad, imapBodies: reads.imapBodies, notes };
    },
  };
}
