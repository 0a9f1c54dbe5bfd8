// RFC 5321 §2.3.8: a command line ends with CRLF and nothing else. smtp-server
// (3.21.6) splits commands at /\r?\n/, so a bare LF ends a line there and
// "MAIL FROM:<a@b>\nRCPT TO:<c@d>\r\n" runs as two commands, while a bare CR stays
// inside a command as if it were a space. Neither is a line end here: a command
// line holding a bare CR or LF is refused once (500 5.5.2) and nothing in it runs,
// up to the CRLF that really ends it. (DATA content is not affected: its lines are
// the store's business and smtp-server's own dot handling.)
//
// The seam: each command parser smtp-server makes (one per connection, a new one
// after STARTTLS) gets two wrappers. Its _write learns, for every LF it is about to
// split at, whether a CR came before it; its oncommand then knows how each line it
// is handed really ended.
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

const carriageReturn = 0x0d;
const lineFeed = 0x0a;
/** smtp-server's own default for maxCommandLength. */
const defaultCommandLimit = 16 * 1024;
/** As smtp-server does for unknown commands: this many refusals end the session. */
const maxRefusals = 10;

export const bareLineEndReply = '5.5.2 Syntax error: command lines must end with CRLF, not a bare CR or LF (RFC 5321 §2.3.8)';

interface CommandParser {
  _dataMode: boolean;
  _write(chunk: Buffer, encoding: string, next: (error?: Error | null) => void): void;
  oncommand(line: Buffer, callback?: () => void): void;
}

interface ConnectionInternals {
  _server: { options: { maxCommandLength?: number }; _closeTimeout?: unknown };
  _upgrading: boolean;
  _ready: boolean;
  _nextHandler: unknown;
  _unrecognizedCommands: number;
  send(code: number, data: string, context?: unknown): void;
  _whenWritable(next: () => void): void;
  _createParser(): CommandParser;
}

/**
 * Which LFs of the command stream had a CR before them, in order: one entry per
 * line smtp-server's parser will hand out.
 */
export class LineEndTracker {
  private readonly endings: boolean[] = [];
  private lastByte = -1;

  /** Notes the line ends of a chunk of command-mode input. */
  scan(chunk: Buffer): void {
    for (let index = chunk.indexOf(lineFeed); index >= 0; index = chunk.indexOf(lineFeed, index + 1)) {
      const before = index > 0 ? chunk[index - 1] : this.lastByte;
      this.endings.push(before === carriageReturn);
    }
    if (chunk.length > 0) this.lastByte = chunk[chunk.length - 1]!;
  }

  /** DATA began: whatever was noted past the DATA command was message content. */
  reset(): void {
    this.endings.length = 0;
    this.lastByte = -1;
  }

  /** How the next line ended: 'crlf', 'bare' (a lone LF), or 'none' (input ended without a line end). */
  next(): 'crlf' | 'bare' | 'none' {
    const ending = this.endings.shift();
    if (ending === undefined) return 'none';
    return ending ? 'crlf' : 'bare';
  }
}

let installed = false;

export function installCommandLineEnds(): void {
  if (installed) return;
  installed = true;
  const prototype = SMTPConnection.prototype as unknown as ConnectionInternals;
  const createParser = prototype._createParser;
  prototype._createParser = function (this: ConnectionInternals) {
    const parser = createParser.call(this);
    const connection = this;
    const tracker = new LineEndTracker();
    const limit = this._server.options.maxCommandLength || defaultCommandLimit;
    // Inside a command line that already held a bare LF: its later pieces are dropped up to the CRLF.
    let discarding = false;
    let discarded = 0;

    const write = parser._write;
    parser._write = function (this: CommandParser, chunk, encoding, next) {
      if (this._dataMode) tracker.reset();
      else if (chunk) tracker.scan(chunk);
      return write.call(this, chunk, encoding, next);
    };

    const dispatch = parser.oncommand;
    parser.oncommand = (line: Buffer, callback?: () => void) => {
      const ending = tracker.next();
      const proceed = callback ?? (() => {});
      // Input ended in the middle of a line: what never ended is not a command.
      if (ending === 'none') return;
      if (discarding) {
        discarded += line.length + 1;
        if (ending === 'crlf') {
          discarding = false;
          discarded = 0;
        } else if (discarded > limit) {
          return connection.send(421, '4.7.0 Error: command line too long');
        }
        return proceed();
      }
      if (ending === 'crlf' && !line.includes(carriageReturn)) return dispatch.call(parser, line, callback);
      // Before the greeting, during a TLS handshake or at shutdown smtp-server answers
      // (or ignores) any line without running it: let it.
      if (connection._upgrading || !connection._ready || connection._server._closeTimeout) return dispatch.call(parser, line, callback);
      if (ending === 'bare') {
        discarding = true;
        discarded = line.length + 1;
      }
      // A refused line is no AUTH continuation either: the exchange is over.
      connection._nextHandler = false;
      if (++connection._unrecognizedCommands >= maxRefusals) return connection.send(421, '4.7.0 Error: too many bad commands');
      connection.send(500, bareLineEndReply);
      setImmediate(() => connection._whenWritable(proceed));
    };
    return parser;
  };
}
