// The embedded store: metadata in one SQLite file, message bytes as blob files.
import * as path from 'node:path';
import { AlreadyExists, InvalidInput, NotFound } from '../../errors.js';
import type { Logger } from '../../log.js';
import { FileBlobStore } from '../blobs/file-blob-store.js';
import { blobDirectoryName } from '../data-folder.js';
import { MirroredBlobStore } from '../blobs/mirrored-blob-store.js';
import { ChangeNotifier } from '../change-notifier.js';
import { decodeFlags } from '../flags.js';
import { normalizeMailboxName, parentNames } from '../mailbox-name.js';
import type { AccountInfo, AdminTokenInfo, AliasInfo, AppPasswordInfo, LoginCredentials, SecondFactorState, DeliveryOutcome, DeliveryRecipient, DomainInfo, GarbageReport, MailStore, MessageSource, SecurityLogDraft, SecurityLogEntry, SecurityLogQuery, StoreAdmin, UndeleteOptions, UndeleteResult } from '../types.js';
import { checkedDate, storeBlob } from './store-blob.js';
import { SqliteAccountStore } from './account-store.js';
import type { ManagedStore } from '../managed-store.js';
import { SqliteIntegrity } from './sqlite-integrity.js';
import { findInconsistencies, type Inconsistency } from './consistency.js';
import { StoreContext } from './context.js';
import { openDatabase } from './database.js';
import { GroupCommit } from './group-commit.js';
import type { StoreHealth } from '../store-health.js';
import { readStoreHealth } from './store-health.js';
import { Ledger } from './ledger.js';
import { queueDirectoryName, SqliteDkimKeyStore, SqliteOutboundQueue } from './outbound-queue.js';
import type { AccountRow, ExpungedRow, MailboxRow } from './rows.js';
import { appendSecurityLog, readSecurityLog } from './security-log.js';
import { auditStructures, type StructureAuditOptions, type StructureProblem } from './structure-audit.js';
import { createAdminToken, listAdminTokens, revokeAdminToken, useAdminToken } from './admin-tokens.js';
import * as credentials from './credentials.js';

export interface SqliteStoreOptions {
  dataDir: string;
  log: Logger;
  /** How long an expunged message stays recoverable (default 7 days). */
  retentionDays?: number;
  /** Share fsyncs between concurrent writers (default true; false is the benchmark's baseline). */
  groupCommit?: boolean;
  /** More blob directories holding a copy of every blob (a second disk); see MirroredBlobStore. */
  blobMirrors?: readonly string[];
  /** Durable blob copies (the primary included) before a write is acknowledged; default all. */
  acknowledgeAfterCopies?: number;
}

export const databaseFileName = 'postkeep.db';
export { blobDirectoryName };

export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteMailStore> {
  const blobRoot = path.join(options.dataDir, blobDirectoryName);
  const blobs = options.blobMirrors?.length
    ? new MirroredBlobStore(blobRoot, options.blobMirrors, options.log, { acknowledgeAfterCopies: options.acknowledgeAfterCopies })
    : new FileBlobStore(blobRoot, options.log);
  await blobs.initialize();
  const db = await openDatabase(path.join(options.dataDir, databaseFileName), options.log);
  const commit = new GroupCommit(db, (directories) => blobs.syncDirectories(directories), options.groupCommit ?? true, options.log);
  const context = new StoreContext(db, blobs, commit, new Ledger(db), new ChangeNotifier(options.log), options.log, (options.retentionDays ?? 7) * 86_400_000);
  const queueFiles = new FileBlobStore(path.join(options.dataDir, queueDirectoryName), options.log);
  await queueFiles.initialize();
  return new SqliteMailStore(context, queueFiles);
}

export class SqliteMailStore implements ManagedStore {
  readonly admin: StoreAdmin;
  /** What audit, scrub, backup and restore work through. */
  readonly integrity: SqliteIntegrity;
  readonly outbound: SqliteOutboundQueue;
  readonly dkimKeys: SqliteDkimKeyStore;

  constructor(
    readonly context: StoreContext,
    /** The outbound queue's message files (audit checks them; only the queue writes them). */
    readonly queueFiles: FileBlobStore,
  ) {
    this.admin = new SqliteStoreAdmin(context, this);
    this.outbound = new SqliteOutboundQueue(context, queueFiles);
    this.dkimKeys = new SqliteDkimKeyStore(context);
    this.integrity = new SqliteIntegrity(context, queueFiles);
  }

  async account(login: string): Promise<SqliteAccountStore> {
    const row = this.context.ledger.sql('SELECT id, login FROM accounts WHERE login = ?').get(login.trim()) as Pick<AccountRow, 'id' | 'login'> | undefined;
    if (!row) throw new NotFound(`there is no account ${JSON.stringify(login)}`);
    return new SqliteAccountStore(this.context, row.id, row.login);
  }

  async deliver(source: MessageSource, recipients: readonly DeliveryRecipient[], options: { internalDate?: Date; maxSize?: number } = {}): Promise<DeliveryOutcome[]> {
    const internalDate = checkedDate(options.internalDate);
    const targets = await Promise.all(
      recipients.map(async (recipient) => {
        try {
          const account = await this.account(recipient.login);
          const mailbox = account.findMailbox(normalizeMailboxName(recipient.mailbox ?? 'INBOX')) ?? account.findMailbox('INBOX')!;
          return { recipient, account, mailbox };
        } catch (error) {
          return { recipient, error: error as Error };
        }
      }),
    );
    try {
      return await this.deliverBlob(source, targets, internalDate, options.maxSize);
    } catch (error) {
      if (error instanceof NobodyTookIt) return error.outcomes;
      throw error;
    }
  }

  private deliverBlob(
    source: MessageSource,
    targets: ({ recipient: DeliveryRecipient; account: SqliteAccountStore; mailbox: MailboxRow } | { recipient: DeliveryRecipient; error: Error })[],
    internalDate: number,
    maxSize: number | undefined,
  ): Promise<DeliveryOutcome[]> {
    return storeBlob(this.context, source, maxSize, async (blob) => {
      const outcomes = await this.context.write(
        () =>
          targets.map((target): DeliveryOutcome => {
            if (!('account' in target)) return { login: target.recipient.login, delivered: false, error: target.error };
            const changesBefore = this.context.ledger.changes.length;
            try {
              // A savepoint per recipient: one refusal leaves the others' records in place.
              const result = this.context.db.transaction(() => target.account.insertAppended(target.mailbox.object_id, blob, [], internalDate))();
              return { login: target.account.login, delivered: true, ...result };
            } catch (error) {
              this.context.ledger.changes.length = changesBefore;
              return { login: target.account.login, delivered: false, error: error as Error };
            }
          }),
        blob.directoryToSync ? [blob.directoryToSync] : [],
      );
      // Nobody took it: throwing lets storeBlob remove the file again.
      if (!outcomes.some((outcome) => outcome.delivered)) throw new NobodyTookIt(outcomes);
      return outcomes;
    });
  }

  /** Whether writes are taken, and the store's size and queue, for readiness and metrics. */
  async health(): Promise<StoreHealth> {
    return readStoreHealth(this.context);
  }

  /** Every stored derived value that disagrees with its recomputation (empty when all is well). */
  async checkConsistency(): Promise<Inconsistency[]> {
    await this.context.commit.idle();
    return findInconsistencies(this.context);
  }

  /** Every blob row's structure and size against its checksum and a fresh parse of its blob; repair rewrites from the parse. */
  async checkStructures(options: StructureAuditOptions): Promise<StructureProblem[]> {
    await this.context.commit.idle();
    return (await auditStructures(this.context, options)).problems;
  }

  async close(): Promise<void> {
    await this.context.commit.idle();
    this.context.db.close();
  }
}

/** Carries the outcomes of a delivery every recipient refused, past storeBlob's clean-up. */
class NobodyTookIt extends Error {
  constructor(readonly outcomes: DeliveryOutcome[]) {
    super('no recipient accepted the message');
  }
}

class SqliteStoreAdmin implements StoreAdmin {
  constructor(
    private readonly context: StoreContext,
    private readonly store: SqliteMailStore,
  ) {}

  private get ledger() {
    return this.context.ledger;
  }

  async addDomain(name: string): Promise<void> {
    const domain = normalizeDomain(name);
    await this.context.write(() => {
      const result = this.ledger.sql('INSERT OR IGNORE INTO domains (name) VALUES (?)').run(domain);
      if (result.changes === 0) throw new AlreadyExists(`the domain ${domain} already exists`);
    });
  }

  async listDomains(): Promise<DomainInfo[]> {
    return this.ledger.sql('SELECT name FROM domains ORDER BY name').all() as DomainInfo[];
  }

  async addAccount(login: string, passwordHash: string, options: { quotaBytes?: number | null; quotaMessages?: number | null } = {}): Promise<void> {
    const address = normalizeAddress(login);
    await this.context.write(() => {
      this.requireLocalDomain(address);
      if (this.ledger.sql('SELECT 1 FROM addresses WHERE address = ?').get(address)) throw new AlreadyExists(`the address ${address} is already in use`);
      const row = this.ledger
        .sql('INSERT INTO accounts (login, password_hash, quota_bytes, quota_messages, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id')
        .get(address, passwordHash, options.quotaBytes ?? null, options.quotaMessages ?? null, Date.now()) as { id: number };
      this.ledger.sql("INSERT INTO addresses (address, account_id, kind) VALUES (?, ?, 'primary')").run(address, row.id);
      new SqliteAccountStore(this.context, row.id, address).createDefaultMailboxes();
    });
  }

  async listAccounts(): Promise<AccountInfo[]> {
    const rows = this.ledger.sql('SELECT * FROM accounts ORDER BY login').all() as AccountRow[];
    const addresses = this.ledger.sql('SELECT address FROM addresses WHERE account_id = ? ORDER BY kind DESC, address');
    return rows.map((row) => ({
      login: row.login,
      addresses: (addresses.all(row.id) as { address: string }[]).map((entry) => entry.address),
      quotaBytes: row.quota_bytes,
      quotaMessages: row.quota_messages,
      usedBytes: row.used_bytes,
      usedMessages: row.used_messages,
    }));
  }

  async setPasswordHash(login: string, passwordHash: string): Promise<void> {
    await this.context.write(() => {
      const result = this.ledger.sql('UPDATE accounts SET password_hash = ? WHERE login = ?').run(passwordHash, login);
      if (result.changes === 0) throw new NotFound(`there is no account ${JSON.stringify(login)}`);
    });
  }

  async setQuota(login: string, quota: { quotaBytes?: number | null; quotaMessages?: number | null }): Promise<void> {
    await this.context.write(() => {
      const account = this.accountRow(login);
      if (quota.quotaBytes !== undefined) this.ledger.sql('UPDATE accounts SET quota_bytes = ? WHERE id = ?').run(quota.quotaBytes, account.id);
      if (quota.quotaMessages !== undefined) this.ledger.sql('UPDATE accounts SET quota_messages = ? WHERE id = ?').run(quota.quotaMessages, account.id);
    });
  }

  async deleteAccount(login: string): Promise<void> {
    await this.context.write(() => {
      const account = this.accountRow(login);
      // Deleting an account is the admin's explicit intent: its messages are released
      // (not retained for undelete), and the garbage collector frees their blobs.
      this.ledger.sql('UPDATE blobs SET refcount = refcount - (SELECT count(*) FROM expunged WHERE expunged.blob_hash = blobs.hash AND account_id = ?) WHERE hash IN (SELECT blob_hash FROM expunged WHERE account_id = ?)').run(account.id, account.id);
      this.ledger.sql('UPDATE blobs SET refcount = refcount - (SELECT count(*) FROM messages JOIN mailboxes ON mailboxes.id = messages.mailbox_id WHERE messages.blob_hash = blobs.hash AND mailboxes.account_id = ?) WHERE hash IN (SELECT blob_hash FROM messages JOIN mailboxes ON mailboxes.id = messages.mailbox_id WHERE mailboxes.account_id = ?)').run(account.id, account.id);
      this.ledger.sql('DELETE FROM messages WHERE mailbox_id IN (SELECT id FROM mailboxes WHERE account_id = ?)').run(account.id);
      this.ledger.sql('DELETE FROM accounts WHERE id = ?').run(account.id);
    });
  }

  async getPasswordHash(login: string): Promise<string | null> {
    const row = this.ledger.sql('SELECT password_hash FROM accounts WHERE login = ?').get(login.trim()) as { password_hash: string } | undefined;
    return row?.password_hash ?? null;
  }

  async addAlias(address: string, login: string): Promise<void> {
    const alias = normalizeAddress(address);
    await this.context.write(() => {
      const account = this.accountRow(login);
      this.requireLocalDomain(alias);
      if (this.ledger.sql('SELECT 1 FROM addresses WHERE address = ?').get(alias)) throw new AlreadyExists(`the address ${alias} is already in use`);
      this.ledger.sql("INSERT INTO addresses (address, account_id, kind) VALUES (?, ?, 'alias')").run(alias, account.id);
    });
  }

  async listAliases(): Promise<AliasInfo[]> {
    return this.ledger
      .sql("SELECT addresses.address AS address, accounts.login AS login FROM addresses JOIN accounts ON accounts.id = addresses.account_id WHERE kind = 'alias' ORDER BY address")
      .all() as AliasInfo[];
  }

  async deleteAlias(address: string): Promise<void> {
    await this.context.write(() => {
      const result = this.ledger.sql("DELETE FROM addresses WHERE address = ? AND kind = 'alias'").run(address.trim());
      if (result.changes === 0) throw new NotFound(`there is no alias ${JSON.stringify(address)}`);
    });
  }

  async resolveAddress(address: string): Promise<string | null> {
    const row = this.ledger
      .sql('SELECT accounts.login AS login FROM addresses JOIN accounts ON accounts.id = addresses.account_id WHERE address = ?')
      .get(address.trim()) as { login: string } | undefined;
    return row?.login ?? null;
  }

  async undelete(login: string, options: UndeleteOptions = {}): Promise<UndeleteResult> {
    const account = await this.store.account(login);
    const accountId = this.accountRow(login).id;
    const mailboxFilter = options.mailbox === undefined ? null : normalizeMailboxName(options.mailbox);
    return this.context.write(() => {
      const cutoff = Date.now() - this.context.retentionMilliseconds;
      const rows = (this.ledger.sql('SELECT * FROM expunged WHERE account_id = ? AND expunged_at >= ? ORDER BY id').all(accountId, cutoff) as ExpungedRow[]).filter(
        (row) => (mailboxFilter === null || row.mailbox_name === mailboxFilter) && (options.since === undefined || row.expunged_at >= options.since.getTime()),
      );
      // An expunged message whose EMAILID still lives in the account was moved, not
      // deleted (a MOVE within one mailbox, or a client's COPY + EXPUNGE): bringing it
      // back would make a second copy. EMAILID stays with a message across COPY and
      // MOVE (RFC 8474 §5.1). Two retained copies of one message from one mailbox come
      // back once.
      const live = new Set(
        (this.ledger
          .sql(
            `SELECT DISTINCT expunged.email_id AS email_id FROM expunged
             JOIN messages ON messages.email_id = expunged.email_id
             JOIN mailboxes ON mailboxes.id = messages.mailbox_id AND mailboxes.account_id = expunged.account_id
             WHERE expunged.account_id = ? AND expunged.expunged_at >= ?`,
          )
          .all(accountId, cutoff) as { email_id: string }[]).map((row) => row.email_id),
      );
      const seen = new Set<string>();
      const chosen = [...rows].reverse().filter((row) => {
        const key = `${row.email_id}\u0000${row.mailbox_object_id}`;
        if (live.has(row.email_id) || seen.has(key)) return false;
        seen.add(key);
        return true;
      }).reverse();
      const skipped = rows.length - chosen.length;
      const preview = chosen.map((row) => ({ mailbox: row.mailbox_name, uid: row.uid, size: row.size, expungedAt: new Date(row.expunged_at) }));
      if (chosen.length === 0 || options.dryRun) return { restored: options.dryRun ? 0 : chosen.length, skipped, messages: preview };
      const modseq = this.ledger.nextModseq(accountId);
      for (const row of chosen) {
        // Back into the mailbox it left, found by its MAILBOXID; if that is gone, by
        // its last name, made anew if need be.
        let mailbox =
          (this.ledger.sql('SELECT * FROM mailboxes WHERE account_id = ? AND object_id = ?').get(accountId, row.mailbox_object_id) as MailboxRow | undefined) ??
          account.findMailbox(row.mailbox_name);
        if (!mailbox) {
          for (const parent of parentNames(row.mailbox_name)) if (!account.findMailbox(parent)) account.insertMailbox(parent, null);
          mailbox = account.insertMailbox(row.mailbox_name, null);
        }
        const flags = decodeFlags(row.flags).filter((flag) => flag !== '\\Deleted');
        account.restoreRow(mailbox, { blobHash: row.blob_hash, size: row.size, internalDate: row.internal_date, flags, emailId: row.email_id, threadId: row.thread_id }, modseq);
        this.ledger.sql('DELETE FROM expunged WHERE id = ?').run(row.id);
      }
      return { restored: chosen.length, skipped, messages: preview };
    });
  }

  async collectGarbage(now = new Date()): Promise<GarbageReport> {
    const cutoff = now.getTime() - this.context.retentionMilliseconds;
    const { expired, doomed } = await this.context.write(() => {
      const expiredRows = this.ledger.sql('SELECT id, blob_hash FROM expunged WHERE expunged_at < ?').all(cutoff) as { id: number; blob_hash: string }[];
      for (const row of expiredRows) {
        this.ledger.sql('DELETE FROM expunged WHERE id = ?').run(row.id);
        this.ledger.sql('UPDATE blobs SET refcount = refcount - 1 WHERE hash = ?').run(row.blob_hash);
      }
      // Only blobs the store itself released (refcount brought to 0 by removing the last
      // reference) and that nothing refers to after all (a damaged refcount is not proof);
      // a blob being appended right now may have no reference yet: leave it. A blob file
      // with no row at all is never touched here: that is a lost record's message.
      const unreferenced = (
        this.ledger
          .sql(
            `SELECT hash, size FROM blobs WHERE refcount <= 0
               AND hash NOT IN (SELECT blob_hash FROM messages) AND hash NOT IN (SELECT blob_hash FROM expunged)`,
          )
          .all() as { hash: string; size: number }[]
      ).filter((row) => !this.context.blobsInFlight.has(row.hash));
      const collected = this.ledger.sql('INSERT OR REPLACE INTO collected_blobs (hash, collected_at) VALUES (?, ?)');
      for (const row of unreferenced) {
        this.ledger.sql('DELETE FROM blobs WHERE hash = ?').run(row.hash);
        collected.run(row.hash, now.getTime());
      }
      // Files a crashed earlier run left behind are removed with this run's.
      return { expired: expiredRows.length, doomed: this.ledger.sql('SELECT hash FROM collected_blobs').all() as { hash: string }[] };
    });
    // Files go only after the rows are durably gone, each named in collected_blobs until
    // its file is: a crash in between leaves a file audit knows was released.
    let bytesRemoved = 0;
    let blobsRemoved = 0;
    const removed: string[] = [];
    for (const row of doomed) {
      // The same bytes delivered again since have a row (and a file) that is needed.
      const needed = this.context.blobsInFlight.has(row.hash) || this.ledger.sql('SELECT 1 FROM blobs WHERE hash = ?').get(row.hash) !== undefined;
      if (!needed) {
        bytesRemoved += await this.context.blobs.remove(row.hash);
        blobsRemoved++;
      }
      removed.push(row.hash);
    }
    if (removed.length > 0) {
      await this.context.write(() => {
        const forget = this.ledger.sql('DELETE FROM collected_blobs WHERE hash = ?');
        for (const hash of removed) forget.run(hash);
      });
    }
    if (blobsRemoved > 0 || expired > 0) this.context.log.info('store.garbage_collected', { expiredExpunges: expired, blobsRemoved, bytesRemoved });
    return { expiredExpunges: expired, blobsRemoved, bytesRemoved };
  }

  async appendSecurityLog(drafts: readonly SecurityLogDraft[]): Promise<SecurityLogEntry[]> {
    return appendSecurityLog(this.context, drafts);
  }

  async readSecurityLog(query: SecurityLogQuery): Promise<SecurityLogEntry[]> {
    return readSecurityLog(this.context, query);
  }

  createAdminToken(name: string, tokenHash: string): Promise<AdminTokenInfo> {
    return createAdminToken(this.context, name, tokenHash);
  }

  async listAdminTokens(): Promise<AdminTokenInfo[]> {
    return listAdminTokens(this.context);
  }

  revokeAdminToken(idOrName: string): Promise<boolean> {
    return revokeAdminToken(this.context, idOrName);
  }

  useAdminToken(tokenHash: string): Promise<AdminTokenInfo | null> {
    return useAdminToken(this.context, tokenHash);
  }

  // Credentials (auth/): app passwords, second factor, recovery codes, login sources, admin flag.
  async getLoginCredentials(login: string): Promise<LoginCredentials | null> {
    return credentials.getLoginCredentials(this.context, login);
  }

  recordLogin(login: string, use: { address: string; appPasswordId?: number; time: Date }): Promise<void> {
    return credentials.recordLogin(this.context, login, use);
  }

  async isKnownLoginSource(login: string, address: string): Promise<boolean> {
    return credentials.isKnownLoginSource(this.context, login, address);
  }

  addAppPassword(login: string, draft: { name: string; passwordHash: string; scopes: readonly string[] }): Promise<AppPasswordInfo> {
    return credentials.addAppPassword(this.context, login, draft);
  }

  async listAppPasswords(login: string): Promise<AppPasswordInfo[]> {
    return credentials.listAppPasswords(this.context, login);
  }

  revokeAppPassword(login: string, id: number): Promise<AppPasswordInfo | null> {
    return credentials.revokeAppPassword(this.context, login, id);
  }

  async getSecondFactor(login: string): Promise<SecondFactorState | null> {
    return credentials.getSecondFactor(this.context, login);
  }

  beginSecondFactor(login: string, secret: string): Promise<void> {
    return credentials.beginSecondFactor(this.context, login, secret);
  }

  enableSecondFactor(login: string, step: number, recoveryCodeHashes: readonly string[]): Promise<void> {
    return credentials.enableSecondFactor(this.context, login, step, recoveryCodeHashes);
  }

  claimSecondFactorStep(login: string, step: number): Promise<boolean> {
    return credentials.claimSecondFactorStep(this.context, login, step);
  }

  removeSecondFactor(login: string): Promise<boolean> {
    return credentials.removeSecondFactor(this.context, login);
  }

  useRecoveryCode(login: string, codeHash: string): Promise<boolean> {
    return credentials.useRecoveryCode(this.context, login, codeHash);
  }

  setAdmin(login: string, isAdmin: boolean): Promise<void> {
    return credentials.setAdmin(this.context, login, isAdmin);
  }

  private accountRow(login: string): AccountRow {
    const row = this.ledger.sql('SELECT * FROM accounts WHERE login = ?').get(login.trim()) as AccountRow | undefined;
    if (!row) throw new NotFound(`there is no account ${JSON.stringify(login)}`);
    return row;
  }

  private requireLocalDomain(address: string): void {
    const domain = address.slice(address.lastIndexOf('@') + 1);
    if (!this.ledger.sql('SELECT 1 FROM domains WHERE name = ?').get(domain)) {
      throw new NotFound(`${domain} is not a local domain: add it first with \`postkeep domain add ${domain}\``);
    }
  }
}

function normalizeDomain(name: string): string {
  const domain = name.trim().toLowerCase().replace(/\.$/, '');
  // RFC 1035 labels (with IDNA A-labels); a U-label domain should be given in punycode.
  if (!/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/.test(domain)) {
    throw new InvalidInput(`${JSON.stringify(name)} is not a valid domain name`);
  }
  return domain;
}

function normalizeAddress(address: string): string {
  const trimmed = address.trim();
  const at = trimmed.lastIndexOf('@');
  if (at <= 0) throw new InvalidInput(`${JSON.stringify(address)} is not an email address (expected user@domain)`);
  const local = trimmed.slice(0, at);
  // A conservative local part: what every mail client can type and every MTA passes.
  if (!/^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/.test(local) || local.length > 64) {
    throw new InvalidInput(`${JSON.stringify(address)} has a local part that is not a plain dot-atom`);
  }
  return `${local}@${normalizeDomain(trimmed.slice(at + 1))}`;
}
