// The mail store's interface: the only way protocols, the CLI and integrity tools
// reach stored mail. Asynchronous everywhere, even though the embedded SQLite engine
// is synchronous, so that a PostgreSQL implementation can stand behind it unchanged.
// Message operations are scoped by an AccountStore handle (DESIGN.md invariant 5):
// nothing here takes an account id from the wire.
import type { Readable } from 'node:stream';
import type { MessageStructure } from '../mime/structure.js';

/** A set of numbers as closed ranges; `Infinity` stands for IMAP's `*`. */
export type NumberSet = readonly (readonly [number, number])[];

export interface MailboxInfo {
  /** MAILBOXID (RFC 8474): stable across renames, never reused. */
  id: string;
  /** Full hierarchical name, `/` as separator, `INBOX` for the inbox. */
  name: string;
  specialUse: string | null;
  subscribed: boolean;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  messages: number;
  unseen: number;
  deleted: number;
  /** Sum of RFC822.SIZE of the messages (STATUS SIZE, RFC 8438). */
  size: number;
  /** XOR of the records' checksums (DESIGN.md invariant 3), hex. */
  digest: string;
}

export interface MessageRecord {
  uid: number;
  modseq: number;
  blobHash: string;
  size: number;
  internalDate: Date;
  saveDate: Date;
  /** System flags (`\Seen`…) and keywords, sorted. */
  flags: string[];
  /** EMAILID and THREADID (RFC 8474). */
  emailId: string;
  threadId: string;
  /** SHA-256 of the record's canonical form, hex. */
  checksum: string;
  /** Present when the query asked for it: the structure parsed once at ingest. */
  structure?: MessageStructure;
}

export type MessageSource = Buffer | AsyncIterable<Buffer>;

export interface AppendOptions {
  flags?: readonly string[];
  internalDate?: Date;
  /** Refuse (InvalidInput) a message larger than this many bytes. */
  maxSize?: number;
}

export interface AppendResult {
  mailboxId: string;
  uidValidity: number;
  uid: number;
  modseq: number;
  emailId: string;
  threadId: string;
  blobHash: string;
  size: number;
}

export interface MessageQuery {
  uids?: NumberSet;
  /** Positions in UID order (IMAP message sequence numbers) at the time of the call. */
  sequences?: NumberSet;
  /** Only records whose MODSEQ is greater (CONDSTORE CHANGEDSINCE). */
  changedSince?: number;
  withStructure?: boolean;
  /** Told the UID of each record withheld because it no longer matches its checksum (edited behind the store's back). */
  onWithheld?: (uid: number) => void;
}

export interface FlagUpdate {
  mode: 'add' | 'remove' | 'replace';
  flags: readonly string[];
  /** CONDSTORE UNCHANGEDSINCE: records with a greater MODSEQ are left alone and reported. */
  unchangedSince?: number;
}

export interface FlagUpdateResult {
  modseq: number;
  updated: { uid: number; flags: string[]; modseq: number }[];
  /** UIDs not changed because their MODSEQ was above UNCHANGEDSINCE. */
  failed: number[];
  /** UIDs not changed because their record failed its checksum (withheld until audit --repair). */
  withheld: number[];
}

export interface CopyResult {
  uidValidity: number;
  /** Source UID → destination UID, in source UID order (UIDPLUS COPYUID). */
  pairs: { source: number; destination: number }[];
}

export interface ExpungeResult {
  modseq: number;
  uids: number[];
}

export type ChangeKind = 'append' | 'flags' | 'expunge' | 'mailbox-create' | 'mailbox-rename' | 'mailbox-delete' | 'mailbox-subscribe';

export interface Change {
  modseq: number;
  mailboxId: string;
  kind: ChangeKind;
  uid: number | null;
}

export type ChangeListener = (change: Change) => void;

export interface QuotaUsage {
  storage: { used: number; limit: number | null };
  messages: { used: number; limit: number | null };
}

export interface AccountStore {
  readonly login: string;

  listMailboxes(): Promise<MailboxInfo[]>;
  getMailbox(name: string): Promise<MailboxInfo>;
  getMailboxById(id: string): Promise<MailboxInfo>;
  createMailbox(name: string, options?: { specialUse?: string }): Promise<MailboxInfo>;
  renameMailbox(from: string, to: string): Promise<void>;
  deleteMailbox(name: string): Promise<void>;
  setSubscribed(name: string, subscribed: boolean): Promise<void>;
  /** Subscribed names, including ones whose mailbox no longer exists (LSUB, LIST SUBSCRIBED). */
  listSubscriptions(): Promise<string[]>;

  append(mailboxName: string, source: MessageSource, options?: AppendOptions): Promise<AppendResult>;
  fetch(mailboxId: string, query: MessageQuery): Promise<MessageRecord[]>;
  /** The message's bytes, verified against their hash before they are returned. */
  readMessage(mailboxId: string, uid: number): Promise<Buffer>;
  /** A stream of the message's bytes; it errors rather than end on bytes that fail verification. */
  openMessage(mailboxId: string, uid: number): Promise<Readable>;
  updateFlags(mailboxId: string, uids: NumberSet, update: FlagUpdate): Promise<FlagUpdateResult>;
  copy(mailboxId: string, uids: NumberSet, destinationName: string): Promise<CopyResult>;
  move(mailboxId: string, uids: NumberSet, destinationName: string): Promise<CopyResult & ExpungeResult>;
  /** Removes the messages flagged \Deleted (only those among `uids`, when given). */
  expunge(mailboxId: string, uids?: NumberSet): Promise<ExpungeResult>;
  /** The change log for one mailbox (or all of them), after `modseq`, oldest first. */
  changesSince(mailboxId: string | null, modseq: number): Promise<Change[]>;
  quota(): Promise<QuotaUsage>;
  /** Calls `listener` after every committed change in this account; returns an unsubscribe. */
  watch(listener: ChangeListener): () => void;
}

export interface DomainInfo {
  name: string;
}

export interface AccountInfo {
  login: string;
  addresses: string[];
  quotaBytes: number | null;
  quotaMessages: number | null;
  usedBytes: number;
  usedMessages: number;
}

export interface AliasInfo {
  address: string;
  login: string;
}

export interface UndeleteOptions {
  /** Only messages expunged from the mailbox with this name. */
  mailbox?: string;
  /** Only messages expunged at or after this moment. */
  since?: Date;
  /** Say what would come back, change nothing. */
  dryRun?: boolean;
}

export interface UndeleteResult {
  /** Messages brought back (0 on a dry run). */
  restored: number;
  /** Retained messages left alone: moved, not deleted (their EMAILID is still in the account), or a second copy. */
  skipped: number;
  /** The messages restored, or that a dry run would restore, by where and when they were expunged. */
  messages: { mailbox: string; uid: number; size: number; expungedAt: Date }[];
}

export interface GarbageReport {
  expiredExpunges: number;
  blobsRemoved: number;
  bytesRemoved: number;
}

/** A security log entry before the store gives it its place in the chain. */
export interface SecurityLogDraft {
  /** Milliseconds since the epoch. */
  time: number;
  event: string;
  /** The account the event is about (lower-case), or null. */
  login: string | null;
  /** Canonical JSON text of the event's fields. */
  fields: string;
}

/** One entry of the tamper-evident security log (src/security-log/). */
export interface SecurityLogEntry extends SecurityLogDraft {
  sequence: number;
  previousHash: string;
  hash: string;
}

export interface SecurityLogQuery {
  /** Only entries with a greater sequence number. */
  afterSequence?: number;
  /** Only entries about this login. */
  login?: string;
  /** Only events whose name starts with one of these. */
  eventPrefixes?: readonly string[];
  /** Newest first (default: oldest first). */
  newestFirst?: boolean;
  limit: number;
}

export interface AdminTokenInfo {
  id: number;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** What auth/ needs to check a login, read in one go. */
export interface LoginCredentials {
  /** The account's login as stored. */
  login: string;
  passwordHash: string;
  isAdmin: boolean;
  /** TOTP enrolment confirmed: the main password no longer opens IMAP or SMTP. */
  secondFactorEnabled: boolean;
  /** Every app password, revoked ones included (so a failure can say why). */
  appPasswords: { id: number; name: string; passwordHash: string; scopes: string[]; revoked: boolean }[];
}

export interface AppPasswordInfo {
  id: number;
  name: string;
  scopes: string[];
  createdAt: Date;
  lastUsedAt: Date | null;
  lastUsedAddress: string | null;
  revokedAt: Date | null;
}

export interface SecondFactorState {
  /** Base32 (RFC 4648) TOTP secret. */
  secret: string;
  createdAt: Date;
  /** Null while enrolment waits for its first valid code. */
  enabledAt: Date | null;
  /** The last TOTP time step accepted; a code for it or an earlier one is a replay. */
  lastUsedStep: number | null;
  unusedRecoveryCodes: number;
}

/** Administration: what the CLI and (later) the admin API do. Never reachable from a mail protocol. */
export interface StoreAdmin {
  addDomain(name: string): Promise<void>;
  listDomains(): Promise<DomainInfo[]>;
  addAccount(login: string, passwordHash: string, options?: { quotaBytes?: number | null; quotaMessages?: number | null }): Promise<void>;
  listAccounts(): Promise<AccountInfo[]>;
  setPasswordHash(login: string, passwordHash: string): Promise<void>;
  setQuota(login: string, quota: { quotaBytes?: number | null; quotaMessages?: number | null }): Promise<void>;
  deleteAccount(login: string): Promise<void>;
  /** The stored password hash, for auth/ to verify; null when there is no such account. */
  getPasswordHash(login: string): Promise<string | null>;
  addAlias(address: string, login: string): Promise<void>;
  listAliases(): Promise<AliasInfo[]>;
  deleteAlias(address: string): Promise<void>;
  /** The account an address (primary or alias) delivers to, or null. */
  resolveAddress(address: string): Promise<string | null>;
  /** Brings expunged messages still within the retention window back, with new UIDs. */
  undelete(login: string, options?: UndeleteOptions): Promise<UndeleteResult>;
  /** Drops retained expunges older than the window and blobs no record references. */
  collectGarbage(now?: Date): Promise<GarbageReport>;
  /**
   * Appends entries to the security log in one IMMEDIATE transaction, each sealed
   * with the hash of the one before, so writers in several processes keep one chain.
   */
  appendSecurityLog(drafts: readonly SecurityLogDraft[]): Promise<SecurityLogEntry[]>;
  readSecurityLog(query: SecurityLogQuery): Promise<SecurityLogEntry[]>;
  /** Stores a new admin API token by its SHA-256 (hex); the token itself is never stored. */
  createAdminToken(name: string, tokenHash: string): Promise<AdminTokenInfo>;
  listAdminTokens(): Promise<AdminTokenInfo[]>;
  /** Revokes by id, or by name when `idOrName` is not a number; false when nothing active matched. */
  revokeAdminToken(idOrName: string): Promise<boolean>;
  /** The active token with this SHA-256, its last use recorded; null when unknown or revoked. */
  useAdminToken(tokenHash: string): Promise<AdminTokenInfo | null>;
  /** Credentials for auth/ (src/store/sqlite/credentials.ts); null when there is no such account. */
  getLoginCredentials(login: string): Promise<LoginCredentials | null>;
  /** After a successful login: remembers the source address and, for an app password, its last use. */
  recordLogin(login: string, use: { address: string; appPasswordId?: number; time: Date }): Promise<void>;
  /** Whether the account has logged in from this address before. */
  isKnownLoginSource(login: string, address: string): Promise<boolean>;
  addAppPassword(login: string, draft: { name: string; passwordHash: string; scopes: readonly string[] }): Promise<AppPasswordInfo>;
  listAppPasswords(login: string): Promise<AppPasswordInfo[]>;
  /** The revoked entry, or null when the account has no such active app password. */
  revokeAppPassword(login: string, id: number): Promise<AppPasswordInfo | null>;
  getSecondFactor(login: string): Promise<SecondFactorState | null>;
  /** Stores a new, not yet enabled TOTP secret; refused (AlreadyExists) while one is enabled. */
  beginSecondFactor(login: string, secret: string): Promise<void>;
  /** Confirms enrolment at `step` and replaces the recovery codes with these hashes. */
  enableSecondFactor(login: string, step: number, recoveryCodeHashes: readonly string[]): Promise<void>;
  /** Accepts time step `step` once: false when it (or a later one) was already used. */
  claimSecondFactorStep(login: string, step: number): Promise<boolean>;
  /** Removes the second factor and its recovery codes; false when there was none. */
  removeSecondFactor(login: string): Promise<boolean>;
  /** Marks the unused recovery code with this hash as used; false when there is none. */
  useRecoveryCode(login: string, codeHash: string): Promise<boolean>;
  setAdmin(login: string, isAdmin: boolean): Promise<void>;
}

export interface DeliveryRecipient {
  /** The account's login (resolve addresses and aliases with admin.resolveAddress first). */
  login: string;
  /** Default INBOX; a mailbox that does not exist (any more) falls back to INBOX. */
  mailbox?: string;
}

export type DeliveryOutcome =
  | ({ login: string; delivered: true } & AppendResult)
  | { login: string; delivered: false; error: Error };

export type OutboundRecipientState = 'queued' | 'sent' | 'failed';

export interface OutboundRecipient {
  address: string;
  domain: string;
  state: OutboundRecipientState;
  attempts: number;
  nextAttemptAt: Date;
  /** The last remote reply or connection error, for `queue list` and the DSN. */
  lastError: string | null;
}

export interface OutboundMessage {
  id: number;
  /** The envelope sender; empty for the null sender `<>`. */
  sender: string;
  size: number;
  createdAt: Date;
  /** After this moment a recipient still queued fails and bounces (RFC 5321 §4.5.4.1). */
  expiresAt: Date;
  recipients: OutboundRecipient[];
}

/** What one delivery attempt did for one recipient. */
export type OutboundAttempt =
  | { address: string; outcome: 'sent' }
  | { address: string; outcome: 'deferred'; error: string; nextAttemptAt: Date }
  | { address: string; outcome: 'failed'; error: string };

/**
 * The outbound queue (SMTP relay). Everything here is durable when the promise
 * resolves: `enqueue` before the submission's 250, `recordAttempt` after the remote
 * server's reply. A crash between a remote 250 and `recordAttempt` resends the
 * message (at-least-once); nothing else can lose or repeat one.
 */
export interface OutboundQueue {
  enqueue(source: MessageSource, envelope: { sender: string; recipients: readonly string[] }, options: { expiresAt: Date; maxSize?: number }): Promise<OutboundMessage>;
  /** Messages with at least one queued recipient whose next attempt is due, oldest first. */
  due(now: Date, limit: number): Promise<OutboundMessage[]>;
  get(id: number): Promise<OutboundMessage | null>;
  list(): Promise<OutboundMessage[]>;
  /** The message's bytes, verified against their hash while they stream. */
  open(id: number): Promise<Readable>;
  recordAttempt(id: number, attempts: readonly OutboundAttempt[]): Promise<void>;
  /** Makes the queued recipients of one message (or of all) due now; returns how many. */
  retry(id?: number): Promise<number>;
  /** Drops a message and its file; false when there was no such message. */
  remove(id: number): Promise<boolean>;
}

export interface DkimKey {
  domain: string;
  selector: string;
  /** PEM (PKCS#8). */
  privateKey: string;
}

export interface DkimKeyStore {
  get(domain: string): Promise<DkimKey | null>;
  /** Replaces any key the domain had. */
  set(key: DkimKey): Promise<void>;
  list(): Promise<DkimKey[]>;
}

export interface MailStore {
  readonly admin: StoreAdmin;
  /** The handle for one account; auth/ hands it to protocol code after a login. */
  account(login: string): Promise<AccountStore>;
  /**
   * Local delivery (SMTP): the bytes are streamed into one blob, parsed once, and
   * recorded for every recipient in one durable commit. Each recipient succeeds or
   * fails on its own (an over-quota one does not stop the others).
   */
  deliver(source: MessageSource, recipients: readonly DeliveryRecipient[], options?: { internalDate?: Date; maxSize?: number }): Promise<DeliveryOutcome[]>;
  readonly outbound: OutboundQueue;
  readonly dkimKeys: DkimKeyStore;
  close(): Promise<void>;
}
