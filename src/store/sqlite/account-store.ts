// One account's view of the SQLite store (invariant 5: every query is scoped by
// the account this handle was made for).
import type { Readable } from 'node:stream';
import { AlreadyExists, IntegrityError, InvalidInput, NotFound, RecordWithheld } from '../../errors.js';
import type { MessageStructure } from '../../mime/structure.js';
import { applyFlagUpdate, decodeFlags, normalizeFlags } from '../flags.js';
import { defaultMailboxes, normalizeMailboxName, normalizeSpecialUse, parentNames, separator } from '../mailbox-name.js';
import { resolveSet } from '../number-set.js';
import { emptyDigest } from '../record-checksum.js';
import { structureChecksum } from '../structure-checksum.js';
import type {
  AccountStore,
  AppendOptions,
  AppendResult,
  Change,
  ChangeListener,
  CopyResult,
  ExpungeResult,
  FlagUpdate,
  FlagUpdateResult,
  MailboxInfo,
  MessageQuery,
  MessageRecord,
  MessageSource,
  NumberSet,
  QuotaUsage,
} from '../types.js';
import type { StoreContext } from './context.js';
import { newObjectId } from './ledger.js';
import { checkedDate, storeBlob, type StoredBlob } from './store-blob.js';
import { toMailboxInfo, toMessageRecord, type MailboxRow, type MessageRow } from './rows.js';
import { StructureGuard } from './structure-guard.js';

export class SqliteAccountStore implements AccountStore {
  constructor(
    private readonly context: StoreContext,
    private readonly accountId: number,
    readonly login: string,
  ) {}

  private get ledger() {
    return this.context.ledger;
  }

  // ---- mailboxes ----

  async listMailboxes(): Promise<MailboxInfo[]> {
    const rows = this.ledger.sql('SELECT * FROM mailboxes WHERE account_id = ? ORDER BY name').all(this.accountId) as MailboxRow[];
    const subscribed = new Set(await this.listSubscriptions());
    return rows.map((row) => this.describe(row, subscribed.has(row.name)));
  }

  async getMailbox(name: string): Promise<MailboxInfo> {
    const row = this.ledger.mailboxByName(this.accountId, normalizeMailboxName(name));
    return this.describe(row, this.isSubscribed(row.name));
  }

  async getMailboxById(id: string): Promise<MailboxInfo> {
    const row = this.ledger.mailboxById(this.accountId, id);
    return this.describe(row, this.isSubscribed(row.name));
  }

  async createMailbox(name: string, options: { specialUse?: string } = {}): Promise<MailboxInfo> {
    const normalized = normalizeMailboxName(name);
    const specialUse = options.specialUse ? normalizeSpecialUse(options.specialUse) : null;
    const row = await this.context.write(() => {
      if (this.findMailbox(normalized)) throw new AlreadyExists(`a mailbox named ${JSON.stringify(normalized)} already exists`);
      // RFC 9051 §6.3.4: create the superior names the new one needs.
      for (const parent of parentNames(normalized)) if (!this.findMailbox(parent)) this.insertMailbox(parent, null);
      return this.insertMailbox(normalized, specialUse);
    });
    return this.describe(row, this.isSubscribed(row.name));
  }

  async renameMailbox(from: string, to: string): Promise<void> {
    const source = normalizeMailboxName(from);
    const target = normalizeMailboxName(to);
    await this.context.write(() => {
      const mailbox = this.ledger.mailboxByName(this.accountId, source);
      if (this.findMailbox(target)) throw new AlreadyExists(`a mailbox named ${JSON.stringify(target)} already exists`);
      if (target === source || target.startsWith(source + separator)) throw new InvalidInput('a mailbox cannot be renamed into itself');
      for (const parent of parentNames(target)) if (!this.findMailbox(parent)) this.insertMailbox(parent, null);
      if (source === 'INBOX') {
        // RFC 9051 §6.3.6: renaming INBOX moves its messages to the new name and leaves INBOX, empty, in place.
        const destination = this.insertMailbox(target, null);
        this.moveRows(mailbox, this.rowsIn(mailbox, [[1, Infinity]]), destination);
        return;
      }
      const modseq = this.ledger.nextModseq(this.accountId);
      const family = this.ledger
        .sql("SELECT * FROM mailboxes WHERE account_id = ? AND (name = ? OR substr(name, 1, ?) = ?)")
        .all(this.accountId, source, source.length + 1, source + separator) as MailboxRow[];
      for (const member of family) {
        const newName = target + member.name.slice(source.length);
        if (member.name !== source && this.findMailbox(newName)) throw new AlreadyExists(`a mailbox named ${JSON.stringify(newName)} already exists`);
        this.ledger.sql('UPDATE mailboxes SET name = ? WHERE id = ?').run(newName, member.id);
        this.ledger.sql('UPDATE subscriptions SET name = ? WHERE account_id = ? AND name = ?').run(newName, this.accountId, member.name);
        this.ledger.logChange(this.accountId, modseq, member.object_id, 'mailbox-rename', null);
      }
    });
  }

  async deleteMailbox(name: string): Promise<void> {
    const normalized = normalizeMailboxName(name);
    if (normalized === 'INBOX') throw new InvalidInput('INBOX cannot be deleted');
    await this.context.write(() => {
      const mailbox = this.ledger.mailboxByName(this.accountId, normalized);
      const modseq = this.ledger.nextModseq(this.accountId);
      const now = Date.now();
      // The messages go where expunged ones go: kept for the retention window, undeletable.
      for (const row of this.rowsIn(mailbox, [[1, Infinity]], { verified: false })) this.ledger.removeMessage(mailbox, row, modseq, true, now);
      this.ledger.sql('DELETE FROM mailboxes WHERE id = ?').run(mailbox.id);
      this.ledger.logChange(this.accountId, modseq, mailbox.object_id, 'mailbox-delete', null);
    });
  }

  async setSubscribed(name: string, subscribed: boolean): Promise<void> {
    const normalized = normalizeMailboxName(name);
    await this.context.write(() => {
      const modseq = this.ledger.nextModseq(this.accountId);
      if (subscribed) this.ledger.sql('INSERT OR IGNORE INTO subscriptions (account_id, name) VALUES (?, ?)').run(this.accountId, normalized);
      else this.ledger.sql('DELETE FROM subscriptions WHERE account_id = ? AND name = ?').run(this.accountId, normalized);
      const mailbox = this.findMailbox(normalized);
      if (mailbox) this.ledger.logChange(this.accountId, modseq, mailbox.object_id, 'mailbox-subscribe', null);
    });
  }

  async listSubscriptions(): Promise<string[]> {
    return (this.ledger.sql('SELECT name FROM subscriptions WHERE account_id = ? ORDER BY name').all(this.accountId) as { name: string }[]).map((row) => row.name);
  }

  // ---- messages ----

  async append(mailboxName: string, source: MessageSource, options: AppendOptions = {}): Promise<AppendResult> {
    const mailbox = this.ledger.mailboxByName(this.accountId, normalizeMailboxName(mailboxName));
    const flags = normalizeFlags(options.flags ?? []);
    const internalDate = checkedDate(options.internalDate);
    return storeBlob(this.context, source, options.maxSize, (blob) =>
      this.context.write(() => this.insertAppended(mailbox.object_id, blob, flags, internalDate), blob.directoryToSync ? [blob.directoryToSync] : []),
    );
  }

  /** Records a stored blob as a new message (inside a transaction): quota, blob row, MODSEQ, THREADID, UID. */
  insertAppended(mailboxObjectId: string, blob: StoredBlob, flags: readonly string[], internalDate: number): AppendResult {
    const target = this.ledger.mailboxById(this.accountId, mailboxObjectId);
    this.ledger.checkQuota(this.accountId, blob.size, 1);
    this.ensureBlobRow(blob.hash, blob.size, blob.structure);
    const modseq = this.ledger.nextModseq(this.accountId);
    const threadId = this.threadFor(blob.structure);
    const emailId = newObjectId('E');
    const row = this.ledger.insertMessage(target, { blobHash: blob.hash, size: blob.size, internalDate, flags, emailId, threadId }, modseq, Date.now());
    return { mailboxId: target.object_id, uidValidity: target.uidvalidity, uid: row.uid, modseq, emailId, threadId, blobHash: blob.hash, size: blob.size };
  }

  async fetch(mailboxId: string, query: MessageQuery): Promise<MessageRecord[]> {
    const mailbox = this.ledger.mailboxById(this.accountId, mailboxId);
    let ranges: [number, number][] = [[1, Infinity]];
    if (query.uids) ranges = resolveSet(query.uids, this.largestUid(mailbox));
    if (query.sequences) ranges = intersect(ranges, this.sequencesToUids(mailbox, query.sequences));
    let rows = this.rowsIn(mailbox, ranges, query.onWithheld ? { onWithheld: query.onWithheld } : {});
    if (query.changedSince !== undefined) rows = rows.filter((row) => row.modseq > query.changedSince!);
    // Sizes and structures are served only once proven (structure-guard.ts).
    const guard = new StructureGuard(this.context, this.login, mailbox);
    const records: MessageRecord[] = [];
    for (const row of rows) {
      const checked = guard.check(row, query.withStructure === true);
      const proven = checked instanceof Promise ? await checked : checked;
      if (proven === null) {
        query.onWithheld?.(row.uid);
        continue;
      }
      const record = toMessageRecord(row);
      record.size = proven.size;
      if (proven.structure) record.structure = proven.structure;
      records.push(record);
    }
    await guard.flush();
    return records;
  }

  async readMessage(mailboxId: string, uid: number): Promise<Buffer> {
    return this.context.blobs.read(this.blobHashOf(mailboxId, uid));
  }

  async openMessage(mailboxId: string, uid: number): Promise<Readable> {
    return this.context.blobs.open(this.blobHashOf(mailboxId, uid));
  }

  async updateFlags(mailboxId: string, uids: NumberSet, update: FlagUpdate): Promise<FlagUpdateResult> {
    const change = normalizeFlags(update.flags);
    return this.context.write(() => {
      const mailbox = this.ledger.mailboxById(this.accountId, mailboxId);
      const result: FlagUpdateResult = { modseq: this.ledger.account(this.accountId).highest_modseq, updated: [], failed: [], withheld: [] };
      let modseq: number | null = null;
      for (const row of this.rowsIn(mailbox, resolveSet(uids, this.largestUid(mailbox)), { onWithheld: (uid) => result.withheld.push(uid) })) {
        // RFC 7162 §3.1.3: a message changed since UNCHANGEDSINCE is left alone and reported.
        if (update.unchangedSince !== undefined && row.modseq > update.unchangedSince) {
          result.failed.push(row.uid);
          continue;
        }
        const current = decodeFlags(row.flags);
        const next = applyFlagUpdate(current, update.mode, change);
        if (next.join(' ') === current.join(' ')) continue;
        modseq ??= this.ledger.nextModseq(this.accountId);
        const updated = this.ledger.setFlags(mailbox, row, next, modseq);
        result.updated.push({ uid: updated.uid, flags: next, modseq });
      }
      if (modseq !== null) result.modseq = modseq;
      return result;
    });
  }

  async copy(mailboxId: string, uids: NumberSet, destinationName: string): Promise<CopyResult> {
    const destinationNormalized = normalizeMailboxName(destinationName);
    return this.context.write(() => {
      const source = this.ledger.mailboxById(this.accountId, mailboxId);
      const destination = this.ledger.mailboxByName(this.accountId, destinationNormalized);
      const rows = this.rowsIn(source, resolveSet(uids, this.largestUid(source)), { onWithheld: refuseWithheld() });
      this.ledger.checkQuota(this.accountId, rows.reduce((sum, row) => sum + row.size, 0), rows.length);
      const pairs = this.copyRows(rows, destination);
      return { uidValidity: destination.uidvalidity, pairs };
    });
  }

  async move(mailboxId: string, uids: NumberSet, destinationName: string): Promise<CopyResult & ExpungeResult> {
    const destinationNormalized = normalizeMailboxName(destinationName);
    return this.context.write(() => {
      const source = this.ledger.mailboxById(this.accountId, mailboxId);
      const destination = this.ledger.mailboxByName(this.accountId, destinationNormalized);
      if (destination.id === source.id) throw new InvalidInput('the destination is the mailbox the messages are already in');
      const rows = this.rowsIn(source, resolveSet(uids, this.largestUid(source)), { onWithheld: refuseWithheld() });
      return { uidValidity: destination.uidvalidity, ...this.moveRows(source, rows, destination) };
    });
  }

  async expunge(mailboxId: string, uids?: NumberSet): Promise<ExpungeResult> {
    return this.context.write(() => {
      const mailbox = this.ledger.mailboxById(this.accountId, mailboxId);
      const ranges = uids ? resolveSet(uids, this.largestUid(mailbox)) : [[1, Infinity] as [number, number]];
      const doomed = this.rowsIn(mailbox, ranges).filter((row) => decodeFlags(row.flags).includes('\\Deleted'));
      if (doomed.length === 0) return { modseq: this.ledger.account(this.accountId).highest_modseq, uids: [] };
      const modseq = this.ledger.nextModseq(this.accountId);
      const now = Date.now();
      for (const row of doomed) this.ledger.removeMessage(mailbox, row, modseq, true, now);
      return { modseq, uids: doomed.map((row) => row.uid) };
    });
  }

  async changesSince(mailboxId: string | null, modseq: number): Promise<Change[]> {
    const rows =
      mailboxId === null
        ? this.ledger.sql('SELECT modseq, mailbox_object_id, kind, uid FROM changes WHERE account_id = ? AND modseq > ? ORDER BY id').all(this.accountId, modseq)
        : this.ledger
            .sql('SELECT modseq, mailbox_object_id, kind, uid FROM changes WHERE account_id = ? AND mailbox_object_id = ? AND modseq > ? ORDER BY id')
            .all(this.accountId, mailboxId, modseq);
    return (rows as { modseq: number; mailbox_object_id: string; kind: Change['kind']; uid: number | null }[]).map((row) => ({
      modseq: row.modseq,
      mailboxId: row.mailbox_object_id,
      kind: row.kind,
      uid: row.uid,
    }));
  }

  async quota(): Promise<QuotaUsage> {
    const account = this.ledger.account(this.accountId);
    return {
      storage: { used: account.used_bytes, limit: account.quota_bytes },
      messages: { used: account.used_messages, limit: account.quota_messages },
    };
  }

  watch(listener: ChangeListener): () => void {
    return this.context.notifier.subscribe(this.accountId, listener);
  }

  // ---- used inside transactions (also by the store's admin side) ----

  /** Creates INBOX, Sent, Drafts, Trash, Junk and Archive, subscribed (inside a transaction). */
  createDefaultMailboxes(): void {
    for (const { name, specialUse } of defaultMailboxes) {
      this.insertMailbox(name, specialUse);
      this.ledger.sql('INSERT OR IGNORE INTO subscriptions (account_id, name) VALUES (?, ?)').run(this.accountId, name);
    }
  }

  /** Re-inserts a retained message with a new UID (undelete); the expunged row's blob reference passes to it. */
  restoreRow(mailbox: MailboxRow, message: Parameters<StoreContext['ledger']['insertMessage']>[1], modseq: number): number {
    const row = this.ledger.insertMessage(mailbox, message, modseq, Date.now());
    this.ledger.sql('UPDATE blobs SET refcount = refcount - 1 WHERE hash = ?').run(message.blobHash);
    return row.uid;
  }

  findMailbox(name: string): MailboxRow | undefined {
    return this.ledger.sql('SELECT * FROM mailboxes WHERE account_id = ? AND name = ?').get(this.accountId, name) as MailboxRow | undefined;
  }

  insertMailbox(name: string, specialUse: string | null): MailboxRow {
    // UIDVALIDITY must differ from every earlier mailbox of this name (RFC 9051 §2.3.1.1):
    // the clock, but never at or below the last value this account handed out.
    const account = this.ledger.account(this.accountId);
    const uidValidity = Math.max(Math.floor(Date.now() / 1000), account.last_uidvalidity + 1);
    this.ledger.sql('UPDATE accounts SET last_uidvalidity = ? WHERE id = ?').run(uidValidity, this.accountId);
    const modseq = this.ledger.nextModseq(this.accountId);
    const row = this.ledger
      .sql(
        `INSERT INTO mailboxes (account_id, object_id, name, special_use, uidvalidity, highest_modseq, digest)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      )
      .get(this.accountId, newObjectId('M'), name, specialUse, uidValidity, modseq, emptyDigest) as MailboxRow;
    this.ledger.logChange(this.accountId, modseq, row.object_id, 'mailbox-create', null);
    return row;
  }

  /**
   * The rows the store serves or acts on. A row whose checksum no longer matches its
   * fields (edited behind the store's back) is withheld and logged: its flags, UID or
   * blob hash are never served, and no flag change, copy or expunge acts on (and so
   * launders) it until `postkeep audit --repair` restores it. `verified: false` is for
   * removing a whole mailbox, which must take every row with it.
   */
  rowsIn(mailbox: MailboxRow, ranges: readonly (readonly [number, number])[], options: { verified?: boolean; onWithheld?: (uid: number) => void } = {}): MessageRow[] {
    const statement = this.ledger.sql('SELECT * FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid');
    const merged = mergeRanges(ranges);
    const rows: MessageRow[] = [];
    for (const [low, high] of merged) rows.push(...(statement.all(mailbox.id, low, Math.min(high, Number.MAX_SAFE_INTEGER)) as MessageRow[]));
    if (options.verified === false) return rows;
    return rows.filter((row) => {
      if (this.verified(mailbox, row)) return true;
      options.onWithheld?.(row.uid);
      return false;
    });
  }

  /** One hash over a few fields: cheap enough to check on every row handed out. */
  private verified(mailbox: MailboxRow, row: MessageRow): boolean {
    if (this.ledger.checksumOf(mailbox, row) === row.checksum) return true;
    this.context.log.error('integrity.record_mismatch', { account: this.login, mailbox: mailbox.name, uid: row.uid });
    return false;
  }

  // ---- private helpers ----

  private moveRows(source: MailboxRow, rows: MessageRow[], destination: MailboxRow): { pairs: CopyResult['pairs'] } & ExpungeResult {
    const pairs = this.copyRows(rows, destination);
    if (rows.length === 0) return { pairs, modseq: this.ledger.account(this.accountId).highest_modseq, uids: [] };
    const modseq = this.ledger.nextModseq(this.accountId);
    // The message lives on in the destination, so the source copy is not retained.
    for (const row of rows) this.ledger.removeMessage(source, row, modseq, false, Date.now());
    return { pairs, modseq, uids: rows.map((row) => row.uid) };
  }

  private copyRows(rows: MessageRow[], destination: MailboxRow): CopyResult['pairs'] {
    if (rows.length === 0) return [];
    const modseq = this.ledger.nextModseq(this.accountId);
    const now = Date.now();
    return rows.map((row) => {
      // RFC 8474 §5.1: EMAILID and THREADID stay with the message across COPY and MOVE.
      const copied = this.ledger.insertMessage(
        destination,
        { blobHash: row.blob_hash, size: row.size, internalDate: row.internal_date, flags: decodeFlags(row.flags), emailId: row.email_id, threadId: row.thread_id },
        modseq,
        now,
      );
      return { source: row.uid, destination: copied.uid };
    });
  }

  /** What `*` means in a UID set: the largest UID in use (RFC 9051 §9, seq-number). */
  private largestUid(mailbox: MailboxRow): number {
    const row = this.ledger.sql('SELECT max(uid) AS uid FROM messages WHERE mailbox_id = ?').get(mailbox.id) as { uid: number | null };
    return row.uid ?? 0;
  }

  private sequencesToUids(mailbox: MailboxRow, sequences: NumberSet): [number, number][] {
    const count = mailbox.message_count;
    const nth = this.ledger.sql('SELECT uid FROM messages WHERE mailbox_id = ? ORDER BY uid LIMIT 1 OFFSET ?');
    const result: [number, number][] = [];
    for (const [low, high] of resolveSet(sequences, count)) {
      if (count === 0 || low > count || high < 1) continue;
      const first = nth.get(mailbox.id, Math.max(low, 1) - 1) as { uid: number };
      const last = nth.get(mailbox.id, Math.min(high, count) - 1) as { uid: number };
      result.push([first.uid, last.uid]);
    }
    return result;
  }

  private blobHashOf(mailboxId: string, uid: number): string {
    const mailbox = this.ledger.mailboxById(this.accountId, mailboxId);
    const row = this.ledger.sql('SELECT * FROM messages WHERE mailbox_id = ? AND uid = ?').get(mailbox.id, uid) as MessageRow | undefined;
    if (!row) throw new NotFound(`there is no message with UID ${uid}`);
    // A row edited behind the store's back could point at another message's (valid)
    // blob: the record's own checksum is what proves these are this UID's bytes.
    if (!this.verified(mailbox, row)) {
      throw new IntegrityError(`the record of UID ${uid} in ${mailbox.name} failed verification; run \`postkeep audit\``, row.blob_hash);
    }
    return row.blob_hash;
  }

  private ensureBlobRow(hash: string, size: number, structure: MessageStructure): void {
    const text = JSON.stringify(structure);
    this.ledger
      .sql('INSERT INTO blobs (hash, size, refcount, structure, structure_checksum, created_at) VALUES (?, ?, 0, ?, ?, ?) ON CONFLICT (hash) DO NOTHING')
      .run(hash, size, text, structureChecksum(hash, size, text), Date.now());
  }

  /** RFC 8474 §5.2 THREADID: a reply joins the thread of any message it refers to. */
  private threadFor(structure: MessageStructure): string {
    const related = [...structure.references, ...structure.inReplyTo, ...(structure.messageId ? [structure.messageId] : [])];
    const lookup = this.ledger.sql('SELECT thread_id FROM thread_references WHERE account_id = ? AND message_id = ?');
    let threadId: string | undefined;
    for (const messageId of related) {
      threadId = (lookup.get(this.accountId, messageId) as { thread_id: string } | undefined)?.thread_id;
      if (threadId) break;
    }
    threadId ??= newObjectId('T');
    const remember = this.ledger.sql('INSERT OR IGNORE INTO thread_references (account_id, message_id, thread_id) VALUES (?, ?, ?)');
    for (const messageId of related.slice(0, 100)) remember.run(this.accountId, messageId, threadId);
    return threadId;
  }

  private isSubscribed(name: string): boolean {
    return this.ledger.sql('SELECT 1 FROM subscriptions WHERE account_id = ? AND name = ?').get(this.accountId, name) !== undefined;
  }

  private describe(row: MailboxRow, subscribed: boolean): MailboxInfo {
    const counts = this.ledger
      .sql(
        `SELECT coalesce(sum(instr(' ' || flags || ' ', ' \\Seen ') = 0), 0) AS unseen,
                coalesce(sum(instr(' ' || flags || ' ', ' \\Deleted ') > 0), 0) AS deleted
         FROM messages WHERE mailbox_id = ?`,
      )
      .get(row.id) as { unseen: number; deleted: number };
    return toMailboxInfo(row, counts, subscribed);
  }
}

/**
 * COPY and MOVE are all or nothing (RFC 9051 §6.4.7): one withheld record among the
 * messages refuses the whole command, before anything is written.
 */
function refuseWithheld(): (uid: number) => void {
  return (uid) => {
    throw new RecordWithheld(`the record of UID ${uid} failed verification; run \`postkeep audit\``, [uid]);
  };
}

function mergeRanges(ranges: readonly (readonly [number, number])[]): [number, number][] {
  const sorted = [...ranges].map(([low, high]) => [Math.max(low, 1), high] as [number, number]).sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const range of sorted) {
    const last = merged[merged.length - 1];
    if (last && range[0] <= last[1] + 1) last[1] = Math.max(last[1], range[1]);
    else merged.push([...range]);
  }
  return merged;
}

function intersect(a: readonly [number, number][], b: readonly [number, number][]): [number, number][] {
  const result: [number, number][] = [];
  for (const [lowA, highA] of a) for (const [lowB, highB] of b) {
    const low = Math.max(lowA, lowB);
    const high = Math.min(highA, highB);
    if (low <= high) result.push([low, high]);
  }
  return result;
}
