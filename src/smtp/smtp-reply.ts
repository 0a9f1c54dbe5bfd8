// SMTP replies with exact enhanced status codes (RFC 3463). smtp-server picks an
// enhanced code from the basic code alone (550 is always 5.1.1 there), so a
// relay refusal would read "550 5.1.1". A reply whose text starts with its own
// enhanced code is sent with that code only: install once, before any listener.
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

const enhancedCodePrefix = /^[245]\.\d{1,3}\.\d{1,3} /;

export class SmtpReply extends Error {
  constructor(
    readonly responseCode: number,
    readonly enhancedCode: string,
    text: string,
  ) {
    super(`${enhancedCode} ${text}`);
  }
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
