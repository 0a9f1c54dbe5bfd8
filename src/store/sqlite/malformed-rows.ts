// Damaged values in the rows the consistency check does not walk record by record:
// blob rows (hash, size, refcount, the stored MIME structure as JSON) and retained
// expunges. Each one found is an inconsistency that names the row and the column.
import type { ConsistencyScope, Inconsistency } from './consistency.js';
import type { StoreContext } from './context.js';
import { blobRowDamage, expungedRowDamage } from './row-damage.js';

export function findMalformedRows(context: StoreContext, scope: ConsistencyScope): Inconsistency[] {
  const { ledger } = context;
  const problems: Inconsistency[] = [];
  const add = (kind: string, where: string, damage: string) =>
    problems.push({ kind, where, stored: damage, computed: 'a well-formed row', detail: `damaged values: ${damage}; restore the database from a backup` });
  const blobs =
    scope.accountId === undefined
      ? ledger.sql('SELECT rowid AS row_number, * FROM blobs').iterate()
      : ledger
          .sql(
            `SELECT rowid AS row_number, * FROM blobs WHERE hash IN (
               SELECT blob_hash FROM messages JOIN mailboxes ON mailboxes.id = messages.mailbox_id WHERE mailboxes.account_id = ?
               UNION SELECT blob_hash FROM expunged WHERE account_id = ?)`,
          )
          .iterate(scope.accountId, scope.accountId);
  for (const row of blobs as IterableIterator<{ row_number: number; hash: unknown }>) {
    const damage = blobRowDamage(row);
    if (damage) add('blob.malformed', typeof row.hash === 'string' && row.hash.length <= 64 ? `blob row ${row.hash}` : `blob row ${row.row_number}`, damage);
  }
  const expunged =
    scope.accountId === undefined
      ? ledger.sql('SELECT * FROM expunged').iterate()
      : ledger.sql('SELECT * FROM expunged WHERE account_id = ?').iterate(scope.accountId);
  for (const row of expunged as IterableIterator<{ id: unknown }>) {
    const damage = expungedRowDamage(row);
    if (damage) add('expunged.malformed', `retained expunge row ${String(row.id)}`, damage);
  }
  return problems;
}
