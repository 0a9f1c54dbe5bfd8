// The audit's findings about what the store derives from each message and keeps
// beside its blob (parsed structure, size): the store checks every row against its
// checksum and a fresh parse of the blob; this turns what it found into findings.
import type { AuditFinding } from './audit.js';

/** The store side of the check (SqliteMailStore.checkStructures). */
export interface StructureChecker {
  checkStructures(options: { accountId?: number; repair: boolean }): Promise<{ kind: string; severity: 'error' | 'notice'; where: string; detail: string; repaired?: boolean }[]>;
}

export async function structureFindings(store: StructureChecker, accountId: number | undefined, repair: boolean): Promise<AuditFinding[]> {
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
    const code = (error as { code?: unknown })?.code;
    if (typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB')) {
      return [{ kind: 'database.unreadable', severity: 'error', where: 'postkeep.db', detail: `${message} (while checking structures): restore the database from a backup` }];
    }
    return [{ kind: 'audit.incomplete', severity: 'error', where: 'structures', detail: `the structure check stopped: ${message}` }];
  }
}
