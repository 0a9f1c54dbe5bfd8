// The one error the IMAP parser and command reader produce. The server turns it into a
// tagged (or, without a tag, untagged) BAD — or NO when `status` says so — and goes on.
import { PostkeepError } from '../../errors.js';

export type ParseErrorCode =
  | 'syntax'
  | 'unknown-command'
  | 'line-too-long'
  | 'literal-too-large'
  | 'command-too-large'
  | 'too-deep'
  | 'mailbox-name'
  /** An APPEND literal the server will not take now (before login, over quota, no room in the spool). */
  | 'literal-refused'
  /** A bug in the parser surfaced as an error rather than a crash; tests assert it never happens. */
  | 'internal';

export class ParseError extends PostkeepError {
  /** The command's tag when it could be read, else null (answer with `* BAD`). */
  tag: string | null;
  /** `NO` for a refused APPEND message (RFC 7889 §4: `NO [TOOBIG]`), an unsupported charset and a mailbox name that cannot exist; else `BAD`. */
  readonly status: 'BAD' | 'NO';
  /** An IMAP response code to put in brackets, e.g. `TOOBIG`. */
  readonly responseCode: string | null;
  readonly reason: ParseErrorCode;

  constructor(reason: ParseErrorCode, message: string, options: { tag?: string | null; status?: 'BAD' | 'NO'; responseCode?: string | null } = {}) {
    // The text goes into a response line: printable ASCII only, and short.
    super(`imap.${reason}`, message.replace(/[^\x20-\x7e]/g, '?').slice(0, 200));
    this.reason = reason;
    this.tag = options.tag ?? null;
    this.status = options.status ?? 'BAD';
    this.responseCode = options.responseCode ?? null;
  }
}
