// A strict reading of an RFC 5322 §3.4 mailbox-list, for checks that decide who a
// message is from (submission's From: and Sender:). Unlike address.ts, which
// never fails because IMAP must describe whatever arrived, this parser refuses
// everything outside a conservative subset of the grammar, so that what it
// accepts reads the same to every common parser:
//
//   mailbox-list = mailbox *("," mailbox)              (no empty elements, no groups)
//   mailbox      = [CFWS] addr-spec [CFWS] / [phrase] [CFWS] "<" addr-spec ">" [CFWS]
//   phrase       = 1*(atom / quoted-string), "." allowed after the first word (obs-phrase, §4.1)
//   addr-spec    = dot-atom-text "@" host name, with nothing at all between them
//
// Refused: groups, domain literals, quoted local parts, obs-route (§4.4), CFWS
// inside an addr-spec or inside "<>", unterminated quotes and comments, control
// characters, and the non-ASCII characters that render as nothing or as space
// (format and separator characters) which parsers treat differently.

export interface StrictMailbox {
  displayName: string | null;
  address: string;
}

export type MailboxListResult = { ok: true; mailboxes: StrictMailbox[] } | { ok: false; reason: string };

/** Comments nested deeper than this are refused (RFC 5322 §3.2.2 allows any depth; no client needs it). */
export const MAX_COMMENT_DEPTH = 8;

class Refused extends Error {}

// RFC 5322 §3.2.3 atext, US-ASCII part.
const ASCII_ATEXT = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]$/;
// Non-ASCII characters allowed in display names (RFC 6532 §3.2) except controls,
// format characters (bidi overrides, zero-width joiners, BOM), separators other
// than the ASCII space, and U+FFFD (what an undecodable byte became).
const REFUSED_NON_ASCII = /[\p{Cc}\p{Cf}\p{Z}\p{Co}\p{Cs}\uFFFD]/u;
// A host name: LDH labels (RFC 1035 §2.3.1, RFC 5321 §4.1.2 Domain); one label
// is allowed, since a test or home setup may serve a domain such as "localhost".
const HOST_NAME = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$/;
// RFC 5322 §3.2.3 dot-atom-text, US-ASCII only (the address must match an account's).
const DOT_ATOM_TEXT = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+(\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+)*$/;

class StrictParser {
  private position = 0;

  constructor(private readonly input: string) {}

  parse(): StrictMailbox[] {
    const mailboxes: StrictMailbox[] = [];
    for (;;) {
      mailboxes.push(this.mailbox());
      if (this.position >= this.input.length) return mailboxes;
      if (this.input[this.position] !== ',') throw new Refused(`unexpected ${this.describe()}`);
      this.position++;
    }
  }

  private mailbox(): StrictMailbox {
    this.skipCfws();
    const start = this.position;
    // addr-spec on its own: a run of atext and dots followed directly by "@".
    const run = this.atomRun();
    if (run !== '' && this.input[this.position] === '@') {
      this.position++;
      const address = this.addressFrom(run, this.atomRun());
      this.skipCfws();
      return { displayName: null, address };
    }
    this.position = start;
    const words: string[] = [];
    for (;;) {
      this.skipCfws();
      const character = this.input[this.position];
      if (character === '"') {
        words.push(this.quotedString());
        continue;
      }
      const atom = this.atomRun();
      if (atom !== '') {
        if (words.length === 0 && atom.startsWith('.')) throw new Refused('a display name starts with "."');
        if (this.input[this.position] === '@') throw new Refused('an address outside "<>" follows a display name');
        // obs-phrase "." right before "<", '"' or "(" crashes Python's email.headerregistry ("alice.<a@b>").
        if (atom.endsWith('.') && !this.atWhitespace()) throw new Refused('a "." in a display name is not followed by a space');
        words.push(atom);
        continue;
      }
      break;
    }
    if (this.input[this.position] !== '<') {
      throw new Refused(words.length === 0 ? `no mailbox at ${this.describe()}` : `a display name without "<address>" (then ${this.describe()})`);
    }
    this.position++;
    const local = this.atomRun();
    if (this.input[this.position] !== '@') throw new Refused(`"<" is not followed by local-part@domain (${this.describe()})`);
    this.position++;
    const address = this.addressFrom(local, this.atomRun());
    if (this.input[this.position] !== '>') throw new Refused(`"<${address}" is not closed by ">" directly (${this.describe()})`);
    this.position++;
    this.skipCfws();
    return { displayName: words.length > 0 ? words.join(' ') : null, address };
  }

  private addressFrom(local: string, domain: string): string {
    if (!DOT_ATOM_TEXT.test(local)) throw new Refused(`local part "${local}" is not a dot-atom`);
    if (!HOST_NAME.test(domain)) throw new Refused(`domain "${domain}" is not a host name`);
    return `${local}@${domain}`;
  }

  /** A run of atext (non-ASCII included) and dots; stops at anything else. */
  private atomRun(): string {
    const start = this.position;
    while (this.position < this.input.length) {
      const character = this.characterAt(this.position);
      if (character === '.' || ASCII_ATEXT.test(character)) this.position++;
      else if (character.charCodeAt(0) >= 0x80) {
        this.checkNonAscii(character);
        this.position += character.length;
      } else break;
    }
    return this.input.slice(start, this.position);
  }

  /** RFC 5322 §3.2.4 quoted-string at the current '"'; returns its content, unescaped. */
  private quotedString(): string {
    this.position++;
    let text = '';
    while (this.position < this.input.length) {
      const character = this.characterAt(this.position);
      if (character === '"') {
        this.position++;
        return text;
      }
      if (character === '\\') {
        if (this.position + 1 >= this.input.length) break;
        const escaped = this.characterAt(this.position + 1);
        this.checkText(escaped);
        text += escaped;
        this.position += 1 + escaped.length;
        continue;
      }
      this.checkText(character);
      text += character;
      this.position += character.length;
    }
    throw new Refused('an unterminated quoted string');
  }

  /**
   * RFC 5322 §3.2.2 CFWS: spaces, tabs, folds and (nested) comments. A fold is
   * taken only here, between tokens: folded inside a comment or a quoted string,
   * Python's email.utils.getaddresses reads one more (empty) address.
   */
  private skipCfws(): void {
    while (this.position < this.input.length) {
      const character = this.input[this.position]!;
      if (character === ' ' || character === '\t') this.position++;
      else if (character === '(') this.skipComment();
      else if (this.foldLength() > 0) this.position += this.foldLength();
      else return;
    }
  }

  private atWhitespace(): boolean {
    const character = this.input[this.position];
    return character === ' ' || character === '\t' || this.foldLength() > 0;
  }

  /** Length of a fold (CRLF or LF, then WSP; the WSP stays) at the current position, else 0. */
  private foldLength(): number {
    const input = this.input;
    const at = this.position;
    const length = input[at] === '\r' && input[at + 1] === '\n' ? 2 : input[at] === '\n' ? 1 : 0;
    return length > 0 && (input[at + length] === ' ' || input[at + length] === '\t') ? length : 0;
  }

  private skipComment(): void {
    let depth = 0;
    while (this.position < this.input.length) {
      const character = this.characterAt(this.position);
      if (character === '\\') {
        if (this.position + 1 >= this.input.length) break;
        const escaped = this.characterAt(this.position + 1);
        this.checkText(escaped);
        this.position += 1 + escaped.length;
        continue;
      }
      this.position += character.length;
      if (character === '(') {
        depth++;
        if (depth > MAX_COMMENT_DEPTH) throw new Refused(`comments nested deeper than ${MAX_COMMENT_DEPTH}`);
      } else if (character === ')') {
        depth--;
        if (depth === 0) return;
      } else this.checkText(character);
    }
    throw new Refused('an unterminated comment');
  }

  /** Text inside quotes or comments: printable ASCII, space, tab, or allowed non-ASCII. */
  private checkText(character: string): void {
    const code = character.charCodeAt(0);
    if (code === 0x09 || (code >= 0x20 && code < 0x7f)) return;
    if (code >= 0x80) return this.checkNonAscii(character);
    throw new Refused(`control character U+${code.toString(16).padStart(4, '0').toUpperCase()}`);
  }

  private checkNonAscii(character: string): void {
    if (REFUSED_NON_ASCII.test(character)) {
      throw new Refused(`character U+${character.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}`);
    }
  }

  /** The whole code point at `position` (a surrogate pair is one character; a lone surrogate is refused later). */
  private characterAt(position: number): string {
    const code = this.input.codePointAt(position)!;
    return String.fromCodePoint(code);
  }

  private describe(): string {
    if (this.position >= this.input.length) return 'the end of the field';
    const code = this.input.charCodeAt(this.position);
    if (code < 0x20 || code === 0x7f) return `control character U+${code.toString(16).padStart(4, '0').toUpperCase()}`;
    return `"${this.input[this.position]}"`;
  }
}

/** Parses a From:/Sender: value (decoded text, folds as received) strictly. */
export function parseMailboxListStrictly(value: string): MailboxListResult {
  try {
    return { ok: true, mailboxes: new StrictParser(value).parse() };
  } catch (error) {
    if (error instanceof Refused) return { ok: false, reason: error.message };
    throw error;
  }
}
