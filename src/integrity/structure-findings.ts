// The audit's findings about what the store derives from each message and keeps
// beside its blob (parsed structure, size): the store checks every row against its
// checksum and a fresh parse of the blob; this turns what it found into findings.
import type { AccountScope, IntegrityPort } from '../store/integrity-port.js';
import type { AuditFinding } from './audit.js';

export async function structureFindings(store: Pick<IntegrityPort, 'checkStructures' | 'isDamage' | 'metadataName'>, accountId: AccountScope | undefined, repair: boolean): Promise<AuditFinding[]> {
  try {
    const problems = await store.checkStructures({ ...(accountId === undefined ? {} : { accountId }), repair });
    return problems.map((problem) => ({
      kind: problem.kind,
      severity: problem.severity,
      where: problem.where,
      detail: problem.detail,
      ...(problem.repaired === undefined ? {} : { repair: problem.repaired ? 'repaired' : 'unrepaired' }),
    }));
  } catch (error) {
    // Audit never throws on data: a value that breaks the check is itself a finding.
    const message = (error as Error)?.message ?? String(error);
    if (store.isDamage(error)) {
      return [{ kind: 'database.unreadable', severity: 'error', where: store.metadataName, detail: `${message} (while checking structures): restore the database from a backup` }];
    }
    return [{ kind: 'audit.incomplete', severity: 'error', where: 'structures', detail: `the structure check stopped: ${message}` }];
  }
}
