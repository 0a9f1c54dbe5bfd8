// One IMAP session's state (RFC 9051 §3): not-authenticated → authenticated →
// selected → logout, and the selected mailbox's view: the UID list that gives message
// sequence numbers, and the changes other sessions made that this one has not been
// told about yet. Those are told only at the moments RFC 9051 §5.2 and §7.5.1 allow:
// EXPUNGE never while a FETCH, STORE or SEARCH is answered, nor between commands.
import type { Logger } from '../log.js';
import type { AccountStore, MailStore, NumberSet } from '../store/types.js';
import type { NumberRanges, SequenceSet } from './parser/index.js';
import { bad, mailboxName, ResponseWriter } from './response.js';
import type { ImapLimits } from './server.js';

export type SessionState = 'not-authenticated' | 'authenticated' | 'selected' | 'logout';

export interface MailboxView {
  id: string;
  name: string;
  readOnly: boolean;
  uidValidity: number;
  /** UIDs in ascending order: message n is uids[n - 1]. */
  uids: number[];
  /** The EXISTS count last told to the client. */
  exists: number;
  /** Changes up to this MODSEQ are reflected in the view or pending below. */
  modseq: number;
  pendingExpunges: Set<number>;
  pendingFlags: Set<number>;
  /** MODSEQs of flag changes this session made itself (already answered by its own STORE). */
  ownModseqs: Set<number>;
  /** Keywords the client has been told of in FLAGS (RFC 9051 §7.3.5). */
  keywords: Set<string>;
  /** IMAP4rev1 \Recent (RFC 3501 §2.3.2): messages this session is the first to see. */
  recent: Set<number>;
  /** RFC 5182 SEARCHRES: the UIDs SEARCH RETURN (SAVE) kept for `$`; a new SELECT starts empty. */
  savedResult?: number[];
}

// \Recent is kept in memory, per server process: for each mailbox, the highest UID a
// read-write session has already claimed. After a restart everything is recent once
// more, which RFC 3501 §2.3.2 allows ("the server can not tell"). RFC 9051 dropped it.
const recentClaims = new WeakMap<MailStore, Map<string, number>>();

export function recentClaim(store: MailStore, mailboxId: string): number {
  return recentClaims.get(store)?.get(mailboxId) ?? 0;
}

/** Claims every UID above the last claim; returns the ones this caller is first to see. */
export function claimRecent(store: MailStore, mailboxId: string, uids: readonly number[]): number[] {
  let claims = recentClaims.get(store);
  if (!claims) recentClaims.set(store, (claims = new Map()));
  const claimed = claims.get(mailboxId) ?? 0;
  const fresh = uids.filter((uid) => uid > claimed);
  // A loop, not Math.max(...fresh): spreading a large mailbox's UIDs overflows the stack.
  let highest = claimed;
  for (const uid of fresh) if (uid > highest) highest = uid;
  if (highest > claimed) claims.set(mailboxId, highest);
  return fresh;
}

/** What a command may ask of the connection it runs on. */
export interface ConnectionControl {
  readonly secure: boolean;
  readonly loopback: boolean;
  readonly remoteAddress: string;
  /** Upgrades the connection to TLS after the tagged OK has been written (RFC 9051 §6.2.1). */
  startTls(): Promise<void>;
  readonly compressed: boolean;
  /** Turns on COMPRESS=DEFLATE after the tagged OK has been written (RFC 4978 §3). */
  startCompression(): Promise<void>;
  /** Sends `+ <text>` and returns the client's next line (AUTHENTICATE exchanges). */
  readContinuation(text: string): Promise<import('./parser/index.js').CommandFrame>;
  /** Enters IDLE: sends `+ idling` and resolves when the client sends DONE. */
  idle(): Promise<void>;
  /** The bytes of a streamed APPEND literal. */
  literal(index: number): AsyncIterable<Buffer> | null;
}

export const systemFlags = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'];

export class Session {
  state: SessionState = 'not-authenticated';
  account: AccountStore | null = null;
  selected: MailboxView | null = null;
  /** Capabilities turned on with ENABLE (RFC 5161), upper-case. */
  readonly enabled = new Set<string>();
  /** CONDSTORE is on once the client used any CONDSTORE feature (RFC 7162 §3.1). */
  condstore = false;
  idling = false;
  private unwatch: (() => void) | null = null;
  private syncing: Promise<void> = Promise.resolve();

  constructor(
    readonly store: MailStore,
    readonly writer: ResponseWriter,
    readonly connection: ConnectionControl,
    readonly limits: ImapLimits,
    readonly log: Logger,
  ) {}

  get utf8(): boolean {
    return this.enabled.has('UTF8=ACCEPT') || this.enabled.has('IMAP4REV2');
  }

  /** RFC 7162 §3.2.10: once QRESYNC is enabled, expunges are told as VANISHED. */
  get qresync(): boolean {
    return this.enabled.has('QRESYNC');
  }

  get rev2(): boolean {
    return this.enabled.has('IMAP4REV2');
  }

  /** The account handle; commands reach it only in the states that have one. */
  get mail(): AccountStore {
    if (!this.account) throw bad('not authenticated');
    return this.account;
  }

  get view(): MailboxView {
    if (!this.selected) throw bad('no mailbox selected');
    return this.selected;
  }

  /** Whether plaintext LOGIN/AUTHENTICATE is allowed on this connection now. */
  get loginAllowed(): boolean {
    return this.connection.secure || (this.limits.allowPlaintextOnLoopback && this.connection.loopback);
  }

  capabilities(): string[] {
    const list = ['IMAP4rev1', 'IMAP4rev2'];
    if (this.state === 'not-authenticated') {
      if (!this.connection.secure) list.push('STARTTLS');
      if (this.loginAllowed) list.push('AUTH=PLAIN', 'SASL-IR');
      else list.push('LOGINDISABLED');
    }
    list.push(
      'LITERAL+', 'ENABLE', 'COMPRESS=DEFLATE', 'IDLE', 'NAMESPACE', 'UNSELECT', 'UIDPLUS', 'MOVE', 'CHILDREN', 'SPECIAL-USE', 'LIST-EXTENDED',
      'LIST-STATUS', 'CONDSTORE', 'QRESYNC', 'OBJECTID', 'STATUS=SIZE', 'UTF8=ACCEPT', `APPENDLIMIT=${this.limits.appendLimit}`, 'MULTIAPPEND', 'ID', 'ESEARCH', 'SEARCHRES', 'BINARY', 'SORT', 'SORT=DISPLAY', 'ESORT', 'THREAD=ORDEREDSUBJECT', 'THREAD=REFERENCES', 'QUOTA', 'QUOTA=RES-STORAGE', 'QUOTA=RES-MESSAGE',
    );
    return list;
  }

  login(account: AccountStore): void {
    this.account = account;
    this.state = 'authenticated';
    this.unwatch = account.watch((change) => {
      if (this.idling && this.selected && change.mailboxId === this.selected.id) void this.sync(true).catch(() => {});
    });
  }

  /** Leaves the selected state (CLOSE, UNSELECT, a new SELECT). */
  deselect(): void {
    this.selected = null;
    if (this.state === 'selected') this.state = 'authenticated';
  }

  close(): void {
    this.state = 'logout';
    this.selected = null;
    this.unwatch?.();
    this.unwatch = null;
  }

  // ---- the view ----

  sequenceOf(uid: number): number {
    const index = this.indexOf(uid);
    return index < 0 ? 0 : index + 1;
  }

  private indexOf(uid: number): number {
    const uids = this.view.uids;
    let low = 0;
    let high = uids.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const value = uids[middle]!;
      if (value === uid) return middle;
      if (value < uid) low = middle + 1;
      else high = middle - 1;
    }
    return -(low + 1);
  }

  /** The UIDs, ascending, that a sequence set or UID set names in the current view. */
  resolve(set: SequenceSet, uid: boolean, options: { lenient?: boolean } = {}): number[] {
    const uids = this.view.uids;
    // RFC 5182 §2.1: `$` is the saved result, less the messages expunged since.
    if (set === '$') return (this.view.savedResult ?? []).filter((saved) => this.indexOf(saved) >= 0);
    const picked = new Set<number>();
    if (uid) {
      const highest = uids.at(-1) ?? 0;
      for (const [from, to] of set) {
        // RFC 9051 §6.4.8: "*" is the largest UID in use; n:* includes it even when n is larger.
        const a = from === Infinity ? highest : from;
        const b = to === Infinity ? highest : to;
        const low = Math.min(a, b);
        const high = Math.max(a, b);
        let index = this.indexOf(low);
        if (index < 0) index = -index - 1;
        for (; index < uids.length && uids[index]! <= high; index++) picked.add(uids[index]!);
      }
    } else {
      const count = uids.length;
      for (const [from, to] of set) {
        // RFC 9051 §9 (seq-number): a number is 1 to the number of messages the client
        // was told of; a larger one is a client error (BAD, as Dovecot answers), while
        // "*" in an empty mailbox simply names nothing. A SEARCH key is only a filter,
        // so there a larger number just matches nothing.
        if (!options.lenient && ((from !== Infinity && from > count) || (to !== Infinity && to > count))) throw bad('invalid message sequence number');
        const a = from === Infinity ? count : from;
        const b = to === Infinity ? count : to;
        const low = Math.max(1, Math.min(a, b));
        const high = Math.min(count, Math.max(a, b));
        for (let index = low; index <= high; index++) picked.add(uids[index - 1]!);
      }
    }
    return [...picked].sort((a, b) => a - b);
  }

  /**
   * Tells the client what changed since it last looked: EXPUNGE (when `allowExpunge`),
   * EXISTS and FETCH FLAGS. Serialized: concurrent calls run one after another.
   */
  sync(allowExpunge: boolean): Promise<void> {
    const run = this.syncing.then(() => this.syncNow(allowExpunge));
    this.syncing = run.catch(() => {});
    return run;
  }

  private async syncNow(allowExpunge: boolean): Promise<void> {
    const view = this.selected;
    if (!view || !this.account) return;
    const changes = await this.account.changesSince(view.id, view.modseq);
    for (const change of changes) {
      view.modseq = Math.max(view.modseq, change.modseq);
      if (change.uid === null) continue;
      if (change.kind === 'append') {
        if (change.uid > (view.uids.at(-1) ?? 0)) {
          view.uids.push(change.uid);
          if (!view.readOnly) for (const uid of claimRecent(this.store, view.id, [change.uid])) view.recent.add(uid);
        }
      } else if (change.kind === 'expunge') {
        view.pendingExpunges.add(change.uid);
        view.pendingFlags.delete(change.uid);
      } else if (change.kind === 'flags' && !view.ownModseqs.has(change.modseq) && !view.pendingExpunges.has(change.uid)) {
        view.pendingFlags.add(change.uid);
      }
    }
    view.ownModseqs.clear();
    if (allowExpunge && view.pendingExpunges.size > 0) {
      const gone = [...view.pendingExpunges].sort((a, b) => a - b);
      view.pendingExpunges.clear();
      await this.expunged(gone);
    }
    if (view.uids.length !== view.exists) {
      const grew = view.uids.length > view.exists;
      view.exists = view.uids.length;
      await this.writer.untagged(`${view.exists} EXISTS`);
      if (grew && !this.rev2) await this.writer.untagged(`${view.recent.size} RECENT`);
    }
    if (view.pendingFlags.size > 0) {
      const uids = [...view.pendingFlags].sort((a, b) => a - b);
      view.pendingFlags.clear();
      const records = await this.account.fetch(view.id, { uids: toNumberSet(uids) });
      for (const record of records) {
        const sequence = this.sequenceOf(record.uid);
        if (sequence === 0) continue;
        const modseq = this.condstore ? ` MODSEQ (${record.modseq})` : '';
        await this.noteFlags(record.flags);
        await this.writer.untagged(`${sequence} FETCH (UID ${record.uid} FLAGS (${this.displayFlags(record.uid, record.flags)})${modseq})`);
      }
    }
  }

  /**
   * RFC 7162 §3.1: the first command that uses CONDSTORE in a selected mailbox is
   * followed by OK [HIGHESTMODSEQ] if the client had not been told it.
   */
  async enableCondstore(): Promise<void> {
    if (this.condstore) return;
    this.condstore = true;
    if (this.selected) await this.writer.untagged(`OK [HIGHESTMODSEQ ${this.selected.modseq}] CONDSTORE enabled`);
  }

  /** The flags as FETCH shows them: with \Recent for IMAP4rev1 clients. */
  displayFlags(uid: number, flags: readonly string[]): string {
    const recent = !this.rev2 && this.selected?.recent.has(uid);
    return (recent ? ['\\Recent', ...flags] : flags).join(' ');
  }

  /** `* FLAGS` and PERMANENTFLAGS for the selected mailbox. */
  async sendFlags(): Promise<void> {
    const view = this.view;
    const all = [...systemFlags, ...[...view.keywords].sort()].join(' ');
    await this.writer.untagged(`FLAGS (${all})`);
    await this.writer.untagged(`OK [PERMANENTFLAGS (${view.readOnly ? '' : all + ' \\*'})] flags permitted`);
  }

  /** RFC 9051 §7.3.5: a keyword is announced in FLAGS before a FETCH response uses it. */
  async noteFlags(flags: readonly string[]): Promise<void> {
    const view = this.selected;
    if (!view) return;
    let added = false;
    for (const flag of flags) {
      if (flag.startsWith('\\') || view.keywords.has(flag)) continue;
      view.keywords.add(flag);
      added = true;
    }
    if (added) await this.sendFlags();
  }

  /** Removes UIDs from the view and says so: `* n EXPUNGE` each (RFC 9051 §7.5.1), or one VANISHED (RFC 7162 §3.2.10). */
  async expunged(uids: number[]): Promise<void> {
    if (this.qresync) {
      const removed = [...uids].sort((a, b) => a - b).filter((uid) => this.forget(uid) !== null);
      if (removed.length > 0) await this.writer.untagged(`VANISHED ${formatNumberSet(removed)}`);
      return;
    }
    // Highest first, so each number sent is still right when the client applies it.
    for (const uid of [...uids].sort((a, b) => b - a)) {
      const index = this.forget(uid);
      if (index !== null) await this.writer.untagged(`${index + 1} EXPUNGE`);
    }
  }

  /**
   * Drops a UID from the view; returns its index if the client knew of the message,
   * null if not. RFC 9051 §7.5.1: an EXPUNGE (or VANISHED) names a message the client
   * knows of; one appended and expunged since the last EXISTS goes without a word
   * (EXISTS then tells the count).
   */
  private forget(uid: number): number | null {
    const view = this.view;
    const index = this.indexOf(uid);
    if (index < 0) return null;
    view.uids.splice(index, 1);
    view.recent.delete(uid);
    if (index >= view.exists) return null;
    view.exists--;
    return index;
  }

  /**
   * UIDs expunged from the selected mailbox after `modseq` that fall inside `ranges`
   * (RFC 7162 §3.2.5.2 and §3.2.6: VANISHED (EARLIER)); `Infinity` stands for `*`.
   */
  async vanishedSince(modseq: number, ranges: NumberRanges | null): Promise<number[]> {
    const changes = await this.mail.changesSince(this.view.id, modseq);
    const present = new Set(this.view.uids);
    const inside = (uid: number) => ranges === null || ranges.some(([from, to]) => uid >= Math.min(from, to) && uid <= Math.max(from, to));
    const uids = new Set<number>();
    for (const change of changes) if (change.kind === 'expunge' && change.uid !== null && !present.has(change.uid) && inside(change.uid)) uids.add(change.uid);
    return [...uids].sort((a, b) => a - b);
  }

  mailboxName(name: string): string | Buffer {
    return mailboxName(name, this.utf8);
  }
}

/** Ascending UIDs to the fewest ranges. */
export function toNumberSet(uids: readonly number[]): NumberSet {
  const ranges: [number, number][] = [];
  for (const uid of uids) {
    const last = ranges.at(-1);
    if (last && last[1] + 1 === uid) last[1] = uid;
    else ranges.push([uid, uid]);
  }
  return ranges;
}

/** `1:3,7` for UIDPLUS responses. */
export function formatNumberSet(uids: readonly number[]): string {
  return (toNumberSet(uids) as NumberRanges).map(([from, to]) => (from === to ? String(from) : `${from}:${to}`)).join(',');
}
