// The typed commands the IMAP parser produces: a discriminated union on `name`.
// Grammar references are to RFC 9051 §9 unless another RFC is named.

/** Closed ranges as the client sent them (not reordered); `Infinity` is `*`. */
export type NumberRanges = [number, number][];

/** A sequence-set, or `$` — the result saved by SEARCH RETURN (SAVE) (RFC 5182). */
export type SequenceSet = NumberRanges | '$';

/** A calendar day (RFC 9051 `date`): SEARCH compares dates without time or zone. */
export interface CalendarDate {
  year: number;
  /** 1..12 */
  month: number;
  /** 1..31, valid for the month */
  day: number;
}

/** Per-session state that changes how bytes are read. */
export interface ParseOptions {
  /**
   * Mailbox names are UTF-8 as sent: set once the client has enabled IMAP4rev2 (RFC 9051 §5.1)
   * or UTF8=ACCEPT (RFC 9755, formerly RFC 6855). When false they are 7-bit modified UTF-7
   * (RFC 3501 §5.1.3) and come out decoded.
   */
  utf8?: boolean;
  /** Parenthesis nesting allowed in SEARCH keys (default 32). */
  searchDepth?: number;
  /** Mailbox patterns, header names, flags and similar lists are capped at this many items (default 1000). */
  listItems?: number;
}

/** A literal the command reader streamed to the consumer instead of holding it (see command-reader.ts). */
export interface StreamedLiteral {
  kind: 'streamed';
  /** Index of the literal in the command, matching the reader's `literal-start` event. */
  index: number;
  size: number;
  binary: boolean;
}

export interface BufferedMessage {
  kind: 'buffered';
  bytes: Buffer;
  binary: boolean;
}

export interface AppendMessage {
  flags: string[];
  /** The INTERNALDATE to set, when the client gave one. */
  date: Date | null;
  /** `UTF8 (~{n}...)` (RFC 6855 §4, now RFC 9755): the message may carry UTF-8 headers. */
  utf8: boolean;
  content: BufferedMessage | StreamedLiteral;
}

export type StatusItem =
  | 'MESSAGES'
  | 'UIDNEXT'
  | 'UIDVALIDITY'
  | 'UNSEEN'
  | 'DELETED'
  | 'SIZE'
  | 'RECENT'
  | 'HIGHESTMODSEQ'
  | 'MAILBOXID'
  | 'APPENDLIMIT'
  | 'DELETED-STORAGE';

export type ListSelectOption = 'SUBSCRIBED' | 'REMOTE' | 'RECURSIVEMATCH' | 'SPECIAL-USE';

export interface ListReturnOptions {
  subscribed: boolean;
  children: boolean;
  specialUse: boolean;
  /** RFC 5819 LIST-STATUS */
  status: StatusItem[] | null;
}

export interface QresyncParameters {
  uidValidity: number;
  modseq: number;
  knownUids: NumberRanges | null;
  /** RFC 7162 §3.2.5.2 seq-match-data: known sequence numbers and their UIDs. */
  sequenceMatch: { sequences: NumberRanges; uids: NumberRanges } | null;
}

export interface SelectParameters {
  condstore: boolean;
  qresync: QresyncParameters | null;
}

export type SearchKey =
  | { key: 'ALL' | 'ANSWERED' | 'DELETED' | 'DRAFT' | 'FLAGGED' | 'NEW' | 'OLD' | 'RECENT' | 'SEEN' }
  | { key: 'UNANSWERED' | 'UNDELETED' | 'UNDRAFT' | 'UNFLAGGED' | 'UNSEEN' }
  | { key: 'BCC' | 'BODY' | 'CC' | 'FROM' | 'SUBJECT' | 'TEXT' | 'TO'; value: string }
  | { key: 'KEYWORD' | 'UNKEYWORD'; flag: string }
  | { key: 'BEFORE' | 'ON' | 'SINCE' | 'SENTBEFORE' | 'SENTON' | 'SENTSINCE'; date: CalendarDate }
  /** RFC 8514 SAVEDATE */
  | { key: 'SAVEDBEFORE' | 'SAVEDON' | 'SAVEDSINCE'; date: CalendarDate }
  | { key: 'SAVEDATESUPPORTED' }
  | { key: 'HEADER'; field: string; value: string }
  | { key: 'LARGER' | 'SMALLER'; size: number }
  /** RFC 5032 WITHIN: seconds */
  | { key: 'OLDER' | 'YOUNGER'; seconds: number }
  | { key: 'UID'; set: SequenceSet }
  | { key: 'SEQUENCE'; set: SequenceSet }
  | { key: 'NOT'; operand: SearchKey }
  | { key: 'OR'; left: SearchKey; right: SearchKey }
  | { key: 'AND'; operands: SearchKey[] }
  /** RFC 7162 §3.1.5; the entry is the optional per-flag metadata item. */
  | { key: 'MODSEQ'; modseq: number; entry: { name: string; type: 'priv' | 'shared' | 'all' } | null }
  /** RFC 8474 §5 */
  | { key: 'EMAILID' | 'THREADID'; id: string };

export type SearchReturnOption = 'MIN' | 'MAX' | 'ALL' | 'COUNT' | 'SAVE';

export interface SearchQuery {
  charset: string | null;
  /** RFC 4731 ESEARCH: null when the client gave no RETURN; `[]` means `RETURN ()` (same as ALL). */
  returnOptions: SearchReturnOption[] | null;
  /** The top-level keys, all of which must match. */
  keys: SearchKey[];
}

export type SectionText =
  | { kind: 'HEADER' }
  | { kind: 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT'; fields: string[] }
  | { kind: 'TEXT' }
  | { kind: 'MIME' };

export interface Section {
  /** Part numbers, e.g. [1, 2] for `1.2`; empty for the whole message. */
  part: number[];
  text: SectionText | null;
}

export interface FetchPartial {
  offset: number;
  length: number;
}

export type FetchItem =
  | { item: 'ENVELOPE' | 'FLAGS' | 'INTERNALDATE' | 'RFC822.SIZE' | 'BODY' | 'BODYSTRUCTURE' | 'UID' }
  | { item: 'MODSEQ' | 'EMAILID' | 'THREADID' | 'SAVEDATE' }
  /** RFC 3501 only; RFC822 and RFC822.TEXT set \Seen. */
  | { item: 'RFC822' | 'RFC822.HEADER' | 'RFC822.TEXT' }
  | { item: 'BODY[]'; section: Section; partial: FetchPartial | null; peek: boolean }
  /** RFC 3516 / RFC 9051 §6.4.5 */
  | { item: 'BINARY[]'; part: number[]; partial: FetchPartial | null; peek: boolean }
  | { item: 'BINARY.SIZE'; part: number[] };

export interface FetchModifiers {
  /** RFC 7162 §3.1.4.1 */
  changedSince: number | null;
  /** RFC 7162 §3.2.6: only with UID FETCH and CHANGEDSINCE. */
  vanished: boolean;
}

export type StoreMode = 'replace' | 'add' | 'remove';

export type SortKey = 'ARRIVAL' | 'CC' | 'DATE' | 'FROM' | 'SIZE' | 'SUBJECT' | 'TO' | 'DISPLAYFROM' | 'DISPLAYTO';

export interface SortCriterion {
  key: SortKey;
  reverse: boolean;
}

interface Tagged {
  tag: string;
}

/** Commands that take no arguments. */
export type SimpleCommandName =
  | 'CAPABILITY'
  | 'NOOP'
  | 'LOGOUT'
  | 'STARTTLS'
  | 'NAMESPACE'
  | 'IDLE'
  | 'CHECK'
  | 'CLOSE'
  | 'UNSELECT'
  | 'EXPUNGE';

export type Command = Tagged &
  (
    | { name: SimpleCommandName }
    /** RFC 9051 §6.2.2; `initialResponse` is SASL-IR (RFC 4959): decoded bytes, `=` gives an empty buffer. */
    | { name: 'AUTHENTICATE'; mechanism: string; initialResponse: Buffer | null }
    | { name: 'LOGIN'; username: string; password: string }
    /** Capability names upper-cased. */
    | { name: 'ENABLE'; capabilities: string[] }
    | ({ name: 'SELECT' | 'EXAMINE'; mailbox: string } & SelectParameters)
    /** RFC 6154 §3 CREATE-SPECIAL-USE */
    | { name: 'CREATE'; mailbox: string; specialUse: string[] }
    | { name: 'DELETE' | 'SUBSCRIBE' | 'UNSUBSCRIBE'; mailbox: string }
    | { name: 'RENAME'; from: string; to: string }
    /** RFC 5258 LIST-EXTENDED; `patterns` has one entry for the basic form. */
    | { name: 'LIST'; reference: string; patterns: string[]; selectOptions: ListSelectOption[]; returnOptions: ListReturnOptions; extended: boolean }
    | { name: 'LSUB'; reference: string; pattern: string }
    | { name: 'STATUS'; mailbox: string; items: StatusItem[] }
    /** RFC 3502 MULTIAPPEND: one or more messages. */
    | { name: 'APPEND'; mailbox: string; messages: AppendMessage[] }
    | { name: 'SEARCH'; uid: boolean; query: SearchQuery }
    | { name: 'FETCH'; uid: boolean; set: SequenceSet; items: FetchItem[]; macro: 'ALL' | 'FAST' | 'FULL' | null; modifiers: FetchModifiers }
    | { name: 'STORE'; uid: boolean; set: SequenceSet; mode: StoreMode; silent: boolean; flags: string[]; unchangedSince: number | null }
    | { name: 'COPY' | 'MOVE'; uid: boolean; set: SequenceSet; mailbox: string }
    /** RFC 4315 UID EXPUNGE */
    | { name: 'UID EXPUNGE'; set: SequenceSet }
    /** RFC 2971; null for `ID NIL`. Field names as sent (compare case-insensitively). */
    | { name: 'ID'; parameters: [string, string | null][] | null }
    /** RFC 5256 (+ RFC 5267 ESORT RETURN options) */
    | { name: 'SORT'; uid: boolean; criteria: SortCriterion[]; returnOptions: SearchReturnOption[] | null; query: SearchQuery }
    | { name: 'THREAD'; uid: boolean; algorithm: string; query: SearchQuery }
    /** RFC 9208 */
    | { name: 'GETQUOTA'; root: string }
    | { name: 'GETQUOTAROOT'; mailbox: string }
    /** RFC 4978; the algorithm upper-cased (the server accepts DEFLATE). */
    | { name: 'COMPRESS'; algorithm: string }
  );

export type CommandName = Command['name'];
