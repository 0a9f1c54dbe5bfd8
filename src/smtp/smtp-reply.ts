// SMTP replies with exact enhanced status codes (RFC 3463). smtp-server picks an
// enhanced code from the basic code alone (550 is always 5.1.1 there), so a
// relay refusal would read "550 5.1.1". A reply whose text starts with its own
// enhanced code is sent with that code only: install once, before any listener.
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { storageFailure } from '../store/storage-failure.js';

const enhancedCodePrefix = /^[245]\.\d{1,3}\.\d{1,3} /;

export class SmtpReply extends Error {
  constructor(
    readonly responseCode: number,
    readonly enhancedCode: string,
    text: string,
    /** The error this reply stands for, when there is one (logged with it). */
    options: { cause?: unknown } = {},
  ) {
    super(`${enhancedCode} ${text}`, options);
  }
}

/**
 * The reply for a write the disk refused (src/store/storage-failure.ts), or null for any
 * other error. No space left is RFC 5321 §4.2.2's 452 "insufficient system storage" with
 * RFC 3463 X.3.1 "mail system full"; a read-only or failing disk is 451 X.3.0. Both are
 * transient: nothing was kept, and the client tries again later.
 */
export function storageFailureReply(error: unknown): SmtpReply | null {
  const failure = storageFailure(error);
  if (failure === 'full') return new SmtpReply(452, '4.3.1', 'Insufficient system storage, try again later', { cause: error });
  if (failure === 'unavailable') return new SmtpReply(451, '4.3.0', 'Local error in processing, try again later', { cause: error });
  return null;
}

let installed = false;

export function installEnhancedCodePassThrough(): void {
  if (installed) return;
  installed = true;
  const prototype = SMTPConnection.prototype as unknown as { send(code: number, data?: unknown, context?: unknown): void };
  const original = prototype.send;
  prototype.send = function (this: unknown, code: number, data?: unknown, context?: unknown) {
    if (typeof data === 'string' && enhancedCodePrefix.test(data)) return original.call(this, code, data, false);
    return original.call(this, code, data, context);
  };
}
