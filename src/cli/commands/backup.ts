import type { Command } from 'commander';
import { backupStore } from '../../integrity/backup.js';
import { compareStores } from '../../integrity/compare.js';
import { restoreBackup } from '../../integrity/restore.js';
import { restoreInPlace } from '../../integrity/restore-in-place.js';
import { verifyBackup, type BackupProblem } from '../../integrity/verify-backup.js';
import { createProgress } from '../progress.js';
import * as fs from 'node:fs';
import { lockDataFolder } from '../../server/data-folder-lock.js';
import { privateDirectoryMode } from '../../server/file-permissions.js';
import { action, commandConfig, prepareDataFolder, withStore, type GlobalOptions } from '../session.js';

function printProblems(problems: readonly { kind: string; where: string; detail: string }[]): void {
  for (const problem of problems) process.stderr.write(`postkeep: ${problem.kind} ${problem.where}: ${problem.detail}\n`);
}

export function registerBackup(program: Command): void {
  const backup = program
    .command('backup')
    .description('back up the store into <dest> (consistent snapshot, incremental blob copy, manifest); `backup verify <dest>` checks one')
    .argument('<dest>', 'the backup folder (created if needed; an earlier backup there is updated incrementally)')
    .action(
      action(async (destination: string) => {
        const progress = createProgress('backing up (blobs)');
        const result = await withStore(program.opts<GlobalOptions>(), ({ store }) => backupStore(store, destination, { onProgress: progress.update }));
        progress.finish();
        const { manifest } = result;
        process.stdout.write(
          `backup in ${destination}: ${manifest.mailboxes.length} mailbox(es), ${manifest.blobs.length} blob(s), ` +
            `${result.copiedBlobs} copied (${(result.copiedBytes / 1e6).toFixed(1)} MB), ${result.reusedBlobs} already there, ${manifest.queue.length} queued message file(s)\n`,
        );
        printProblems(manifest.skipped.map((item) => ({ ...item, kind: `skipped ${item.kind}` })));
        if (manifest.skipped.length > 0) process.exitCode = 1;
      }),
    );
  backup
    .command('verify <dest>')
    .description('re-hash the database, every blob and every mailbox digest of a backup against its manifest')
    .action(
      action(async (destination: string) => {
        const progress = createProgress('verifying (blobs)');
        const { log } = commandConfig(program.opts<GlobalOptions>());
        const result = await verifyBackup(destination, log, { onProgress: progress.update });
        progress.finish();
        printProblems(result.problems);
        process.stdout.write(
          `backup ${destination} of ${result.manifest.createdAt}: ${result.mailboxes} mailbox(es), ${result.blobs} blob(s) (${(result.bytes / 1e6).toFixed(1)} MB) — ` +
            `${result.ok ? 'everything matches the manifest' : `${result.problems.length} problem(s)`}\n`,
        );
        if (!result.ok) process.exitCode = 1;
      }),
    );

  program
    .command('restore <backup>')
    .description('build a new store in --to from a backup and check that its digests equal the manifest’s')
    .requiredOption('--to <dataDir>', 'the folder for the restored store (must not hold a store yet, unless --in-place)')
    .option('--in-place', 'repair a damaged database in the data folder --to (server stopped): the database comes from the backup, blobs stay in place, newer mail is re-linked where it can be')
    .action(
      action(async (source: string, options: { to: string; inPlace?: boolean }) => {
        const { log } = commandConfig(program.opts<GlobalOptions>());
        if (options.inPlace) {
          // Never under a running server: it would keep serving from the database this replaces.
          const lock = prepareDataFolder(options.to, log, { exclusive: 'restore --in-place' });
          let result;
          try {
            result = await restoreInPlace(source, options.to, log);
          } finally {
            lock?.release();
          }
          printProblems(result.problems);
          process.stdout.write(
            `restored the database of ${options.to} in place: ${result.keptFiles} file(s) kept, ${result.copiedFiles} rewritten from the backup; ` +
              (result.identical ? 'every mailbox digest equals the manifest’s' : `${result.matchingMailboxes} of ${result.mailboxes} mailbox digests equal the manifest’s`) +
              `; ${result.relinked} newer message(s) re-linked, ${result.unlinkedBlobs} unreferenced blob(s) left in place; the damaged database is in ${result.damagedDatabase}\n`,
          );
          if (!result.identical) process.exitCode = 1;
          return;
        }
        const progress = createProgress('restoring (blobs)');
        // The new folder is private from its first file, and locked while it is being filled.
        fs.mkdirSync(options.to, { recursive: true, mode: privateDirectoryMode });
        const lock = lockDataFolder(options.to, 'restore', log);
        let result;
        try {
          result = await restoreBackup(source, options.to, log, { onProgress: progress.update });
        } finally {
          lock.release();
        }
        progress.finish();
        printProblems(result.problems as BackupProblem[]);
        process.stdout.write(
          `restored ${result.blobs} blob(s) and ${result.mailboxes} mailbox(es) into ${options.to}: ` +
            (result.identical ? 'every mailbox digest equals the manifest’s\n' : `${result.matchingMailboxes} of ${result.mailboxes} mailbox digests equal the manifest’s, ${result.problems.length} problem(s)\n`),
        );
        if (!result.identical) process.exitCode = 1;
      }),
    );

  program
    .command('compare <dataDirA> <dataDirB>')
    .description('compare two stores (or a store and a backup) mailbox by mailbox, then record by record; lists every difference')
    .action(
      action(async (first: string, second: string) => {
        const result = compareStores(first, second);
        for (const difference of result.differences) process.stdout.write(`${difference.kind} ${difference.where}: ${difference.detail}\n`);
        process.stdout.write(
          result.identical
            ? `identical: ${result.mailboxes} mailbox(es), every digest equal\n`
            : `${result.differences.length} difference(s); ${result.equalMailboxes} of ${result.mailboxes} mailbox(es) equal\n`,
        );
        if (!result.identical) process.exitCode = 1;
      }),
    );
}
