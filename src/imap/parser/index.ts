// The IMAP command parser: pure, bytes in and typed commands out (STYLE.md).
//
// How a connection uses it:
//
//   const reader = new CommandReader({ appendLimit });
//   socket.on('data', (chunk) => {
//     for (const event of reader.push(chunk)) {
//       switch (event.type) {
//         case 'continuation': write('+ Ready\r\n'); break;            // synchronizing literal accepted
//         case 'literal-start': /* open a spool for APPEND message `event.index` */ break;
//         case 'literal-data':  /* write event.data to it (a slice of `chunk`, copy if kept) */ break;
//         case 'literal-end':   /* close it */ break;
//         case 'error':   reply(event.error); break;                  // `tag BAD ...` / `tag NO [TOOBIG] ...`, or `* BAD`
//         case 'command': {
//           // In IDLE, isIdleDone(frame); in AUTHENTICATE, parseAuthenticateResponse(frame).
//           const result = parseCommand(event.frame, { utf8: session.utf8Enabled });
//           if (result.ok) run(result.command); else reply(result.error);
//         }
//       }
//     }
//   });
//   // After STARTTLS or COMPRESS, call reader.reset() so pipelined plaintext is not run.
export { CommandReader, defaultLimits } from './command-reader.js';
export type { BufferedLiteral, CommandFrame, CommandReaderLimits, CommandReaderOptions, FrameLiteral, LiteralOffer, ReaderEvent, StreamedLiteralMarker } from './command-reader.js';
export { parseCommand } from './parse-command.js';
export type { ParseResult } from './parse-command.js';
export { parseAuthenticateResponse, isIdleDone } from './authenticate.js';
export type { AuthenticateResponse } from './authenticate.js';
export { ParseError } from './parse-error.js';
export type { ParseErrorCode } from './parse-error.js';
export type * from './types.js';
