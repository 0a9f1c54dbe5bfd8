// RFC 5322 §3.4 address-list parser producing IMAP ENVELOPE address lists
// (RFC 3501 §7.4.2). It never fails: obsolete syntax (RFC 5322 §4.4 routes,
// CFWS around dots) is tolerated and garbage becomes a best-effort address.
// Names and mailboxes stay raw (encoded-words undecoded), as IMAP sends them.

import type { Address } from './structure.js';
import { MAX_ADDRESSES } from './limits.js';

// Dovecot's placeholders for a missing part, so clients never see a NIL host
// outside group syntax (NIL host means "group marker" in IMAP).
export const MISSING_MAILBOX = 'MISSING_MAILBOX';
export const MISSING_DOMAIN = 'MISSING_DOMAIN';

type TokenKind = 'atom' | 'quoted' | 'literal' | 'special';

interface Token {
  kind: TokenKind;
  text: string; // atom text, quoted-string content (unescaped), literal with brackets, or the special character
  raw: string; // as written (quoted-string with its quotes)
  comment: string | null; // the last comment seen right before this token
}

const SPECIALS = '<>@,;:';

function tokenize(input: string): { tokens: Token[]; trailingComment: string | null } {
  const tokens: Token[] = [];
  let comment: string | null = null;
  let i = 0;
  const length = input.length;
  while (i < length) {
    const character = input[i];
    if (character === ' ' || character === '\t' || character === '\r' || character === '\n') {
      i++;
    } else if (character === '(') {
      let depth = 1;
      let text = '';
      i++;
      while (i < length && depth > 0) {
        const inner = input[i];
        if (inner === '\\' && i + 1 < length) {
          text += input[i + 1];
          i += 2;
          continue;
        }
        if (inner === '(') depth++;
        else if (inner === ')') {
          depth--;
          if (depth === 0) {
            i++;
            break;
          }
        }
        text += inner;
        i++;
      }
      comment = text.trim();
    } else if (character === '"') {
      let text = '';
      const start = i;
      i++;
      while (i < length && input[i] !== '"') {
        if (input[i] === '\\' && i + 1 < length) {
          text += input[i + 1];
          i += 2;
        } else {
          text += input[i++];
        }
      }
      i++; // closing quote (or past the end)
      tokens.push({ kind: 'quoted', text, raw: input.slice(start, Math.min(i, length)), comment });
      comment = null;
    } else if (character === '[') {
      const close = input.indexOf(']', i);
      const end = close === -1 ? length : close + 1;
      const text = input.slice(i, end);
      tokens.push({ kind: 'literal', text, raw: text, comment });
      comment = null;
      i = end;
    } else if (SPECIALS.includes(character)) {
      tokens.push({ kind: 'special', text: character, raw: character, comment });
      comment = null;
      i++;
    } else {
      // atext and "." (and anything else that is not a delimiter, to tolerate garbage)
      const start = i;
      while (i < length && !' \t\r\n()"[<>@,;:'.includes(input[i])) i++;
      if (i === start) i++; // a lone stray character such as "]" or ")"
      const text = input.slice(start, i);
      tokens.push({ kind: 'atom', text, raw: text, comment });
      comment = null;
    }
  }
  return { tokens, trailingComment: comment };
}

class AddressParser {
  private index = 0;
  readonly result: Address[] = [];

  constructor(
    private readonly tokens: Token[],
    private readonly trailingComment: string | null,
  ) {}

  parseList(): void {
    while (this.index < this.tokens.length && this.result.length < MAX_ADDRESSES) {
      const token = this.tokens[this.index];
      if (token.kind === 'special' && (token.text === ',' || token.text === ';' || token.text === '>')) {
        this.index++;
        continue;
      }
      this.parseEntry(false);
    }
  }

  /** One mailbox, or a group when not already inside one. */
  private parseEntry(inGroup: boolean): void {
    const phrase: Token[] = [];
    while (this.index < this.tokens.length) {
      const token = this.tokens[this.index];
      if (token.kind === 'special') {
        if (token.text === '<') {
          this.index++;
          this.parseAngleAddress(phrase);
          return;
        }
        if (token.text === ':' && !inGroup) {
          this.index++;
          this.parseGroup(phrase);
          return;
        }
        if (token.text === '@') {
          this.index++;
          this.parseAddressSpec(phrase);
          return;
        }
        if (token.text === ',' || token.text === ';' || token.text === '>') break;
        // A stray ':' inside a group: ignore it.
        this.index++;
        continue;
      }
      phrase.push(token);
      this.index++;
    }
    if (phrase.length > 0) {
      // No "@" at all: keep what was written as the mailbox.
      this.push(this.commentNear(phrase), joinTight(phrase), MISSING_DOMAIN);
    }
  }

  private parseGroup(phrase: Token[]): void {
    // RFC 3501 §7.4.2: start marker has NIL host and the group name as mailbox; end marker is all NIL.
    this.result.push({ name: null, adl: null, mailbox: joinPhrase(phrase) || '', host: null });
    while (this.index < this.tokens.length && this.result.length < MAX_ADDRESSES) {
      const token = this.tokens[this.index];
      if (token.kind === 'special' && token.text === ';') {
        this.index++;
        break;
      }
      if (token.kind === 'special' && (token.text === ',' || token.text === '>')) {
        this.index++;
        continue;
      }
      this.parseEntry(true);
    }
    this.result.push({ name: null, adl: null, mailbox: null, host: null });
  }

  /** After "<": optional obsolete route, addr-spec, then ">". */
  private parseAngleAddress(phrase: Token[]): void {
    // RFC 5322 §4.4 obs-route: "@a,@b:" before the addr-spec; IMAP's adl (RFC 3501 §7.4.2) is "@a,@b".
    const first = this.tokens[this.index];
    let route: string | null = null;
    if (first && first.kind === 'special' && first.text === '@') {
      let colon = this.index;
      while (colon < this.tokens.length && !isSpecial(this.tokens[colon], ':') && !isSpecial(this.tokens[colon], '>')) colon++;
      if (colon < this.tokens.length && isSpecial(this.tokens[colon], ':')) {
        route = joinTight(this.tokens.slice(this.index, colon));
        this.index = colon + 1;
      }
    }
    const local: Token[] = [];
    const domain: Token[] = [];
    let seenAt = false;
    while (this.index < this.tokens.length) {
      const token = this.tokens[this.index];
      if (isSpecial(token, '>')) {
        this.index++;
        break;
      }
      if (isSpecial(token, ',') || isSpecial(token, ';') || isSpecial(token, '<')) break; // unclosed "<"
      this.index++;
      if (isSpecial(token, '@') && !seenAt) {
        seenAt = true;
        continue;
      }
      if (token.kind === 'special') continue;
      (seenAt ? domain : local).push(token);
    }
    // Trailing garbage up to the next "," is skipped.
    while (this.index < this.tokens.length && !isSpecial(this.tokens[this.index], ',') && !isSpecial(this.tokens[this.index], ';')) {
      this.index++;
    }
    const name = joinPhrase(phrase) || this.trailingCommentFor() || null;
    if (local.length === 0 && domain.length === 0) {
      // "<>" (null reverse-path) or an empty bracket pair.
      this.push(name, local.length ? joinTight(local) : MISSING_MAILBOX, MISSING_DOMAIN);
      return;
    }
    this.push(name, local.length ? joinTight(local) : MISSING_MAILBOX, domain.length ? joinTight(domain) : MISSING_DOMAIN, route);
  }

  /** After "@" of a bare addr-spec; `local` are the tokens before it. */
  private parseAddressSpec(local: Token[]): void {
    const domain: Token[] = [];
    while (this.index < this.tokens.length) {
      const token = this.tokens[this.index];
      if (token.kind === 'special' && (token.text === ',' || token.text === ';' || token.text === '<' || token.text === '>')) break;
      this.index++;
      if (token.kind !== 'special') domain.push(token);
    }
    // Old style "addr (Real Name)": the comment serves as the name, as Dovecot does.
    const next = this.tokens[this.index];
    const comment = next && next.comment !== null ? next.comment : next ? null : this.trailingComment;
    this.push(comment || null, local.length ? joinTight(local) : MISSING_MAILBOX, domain.length ? joinTight(domain) : MISSING_DOMAIN);
  }

  private commentNear(phrase: Token[]): string | null {
    return phrase.find((token) => token.comment)?.comment ?? null;
  }

  private trailingCommentFor(): string | null {
    const next = this.tokens[this.index];
    return next ? next.comment : this.trailingComment;
  }

  private push(name: string | null, mailbox: string, host: string, route: string | null = null): void {
    if (this.result.length >= MAX_ADDRESSES) return;
    this.result.push({ name: name === '' ? null : name, adl: route, mailbox, host });
  }
}

function isSpecial(token: Token | undefined, character: string): boolean {
  return token !== undefined && token.kind === 'special' && token.text === character;
}

/** Display names: words separated by single spaces, quoted strings unquoted. */
function joinPhrase(tokens: Token[]): string {
  return tokens.map((token) => token.text).join(' ').trim();
}

/** Local parts and domains: no whitespace (RFC 5322 §4.4 allows CFWS around dots). Quoted local parts stay quoted. */
function joinTight(tokens: Token[]): string {
  return tokens.map((token) => (token.kind === 'quoted' ? token.raw : token.text)).join('');
}

/** Parses an address-list (or mailbox-list) header value; never throws. */
export function parseAddressList(value: string): Address[] {
  try {
    const { tokens, trailingComment } = tokenize(value);
    const parser = new AddressParser(tokens, trailingComment);
    parser.parseList();
    return parser.result;
  } catch {
    return [];
  }
}
