// Non-ASCII in the envelope (RFC 6531): an address with anything beyond US-ASCII
// is allowed only in a transaction whose MAIL FROM carried the SMTPUTF8 parameter
// (§3.4); without it the address is refused with X.6.7, "non-ASCII addresses not
// permitted for that sender/recipient" (§3.5). smtp-server decodes command lines
// as UTF-8, so bytes that were not valid UTF-8 arrive as U+FFFD: such an address
// is malformed whatever the parameters (RFC 6531 §3.3 extends the syntax with
// UTF-8 only).
import type { SMTPServerSession } from 'smtp-server';
import { SmtpReply } from './smtp-reply.js';

const nonAscii = /[^\x00-\x7f]/;
const replacementCharacter = '\ufffd';

export function checkAddressEncoding(address: string, session: SMTPServerSession, role: 'sender' | 'recipient'): void {
  if (!nonAscii.test(address)) return;
  if (address.includes(replacementCharacter)) {
    // RFC 3463: X.1.7 bad sender's, X.1.3 bad destination mailbox address syntax.
    throw new SmtpReply(553, role === 'sender' ? '5.1.7' : '5.1.3', `The ${role} address is not valid UTF-8`);
  }
  if (!session.envelope.smtpUtf8) {
    throw new SmtpReply(553, '5.6.7', `Non-ASCII ${role} address not permitted without the SMTPUTF8 parameter (RFC 6531)`);
  }
}
