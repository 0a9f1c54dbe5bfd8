import type { Command } from 'commander';
import { InvalidInput } from '../../errors.js';
import { auditStore, type AuditFinding, type AuditReport } from '../../integrity/audit.js';
import { openGoodCopy, type GoodCopy } from '../../integrity/good-copy.js';
import { storeEngine } from '../../store/open-store.js';
import { createProgress } from '../progress.js';
import { action, withStore, type GlobalOptions } from '../session.js';

interface AuditCommandOptions {
  account?: string;
  repair?: boolean;
  json?: boolean;
  copy: string[];
  recoverTo?: string;
}

export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description('check every blob, record, digest, counter and the database itself; exit code 1 when anything is wrong')
    .option('--account <login>', 'only this account')
    .option('--repair', 'rebuild derived values, restore bad or missing blobs and records from --copy, quarantine what cannot be proven')
    .option('--copy <dir>', 'a backup, another data folder or a blob directory to repair from (repeatable)', (value: string, list: string[]) => [...list, value], [])
    .option('--recover-to <user[/mailbox]>', 'with --repair: file message files that no record points to (lost records) into this mailbox (default Recovered), made if missing')
    .option('--json', 'print the report as JSON')
    .action(
      action(async (options: AuditCommandOptions) => {
        if (options.recoverTo !== undefined && !options.repair) throw new InvalidInput('--recover-to needs --repair');
        const progress = options.json ? { update() {}, finish() {} } : createProgress('auditing (MB)');
        const report = await withStore(program.opts<GlobalOptions>(), async ({ store, log, config }) => {
          const copies: GoodCopy[] = [];
          try {
            for (const directory of options.copy) copies.push(openGoodCopy(directory, log));
            return await auditStore(store, {
              account: options.account,
              repair: options.repair ?? false,
              copies,
              ...(options.recoverTo !== undefined ? { recoverTo: options.recoverTo } : {}),
              orphanGraceMilliseconds: config.store.orphanGraceSeconds * 1000,
              onProgress: (done, total) => progress.update(Math.round(done / 1e6), Math.max(1, Math.ceil(total / 1e6))),
            });
          } catch (error) {
            throw storeEngine().describeError(`${config.dataDir}/${storeEngine().snapshotFileName}`, error);
          } finally {
            for (const copy of copies) copy.close();
          }
          // A repair rewrites records and blobs: nothing else may write meanwhile.
        }, options.repair ? { exclusive: 'audit --repair' } : {}).catch((error: unknown) => {
          throw storeEngine().describeError('the database of the data folder', error);
        });
        progress.finish();
        process.stdout.write(options.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
        if (!report.ok) process.exitCode = 1;
      }),
    );
}

function formatFinding(finding: AuditFinding): string {
  const repair = finding.repair ? ` [${finding.repair}]` : '';
  return `${finding.severity.padEnd(6)} ${finding.kind.padEnd(24)} ${finding.where}: ${finding.detail}${repair}\n`;
}

function formatReport(report: AuditReport): string {
  const errors = report.findings.filter((finding) => finding.severity === 'error');
  const repaired = errors.filter((finding) => finding.repair === 'repaired').length;
  const notices = report.findings.length - errors.length;
  const { checked } = report;
  const summary =
    `audit of ${report.scope}: ${checked.accounts} account(s), ${checked.mailboxes} mailbox(es), ${checked.records} record(s), ` +
    `${checked.blobs} blob(s)${checked.queueFiles > 0 ? `, ${checked.queueFiles} queued message file(s)` : ''} (${(checked.bytes / 1e6).toFixed(1)} MB verified) in ${(report.milliseconds / 1000).toFixed(1)} s: ` +
    `${errors.length} error(s)${errors.length > 0 && errors.some((finding) => finding.repair) ? ` (${repaired} repaired)` : ''}, ${notices} notice(s) — ${report.ok ? 'OK' : 'FAILED'}\n`;
  return report.findings.map(formatFinding).join('') + summary;
}
