// `postkeep audit --repair --recover-to <user>[/<mailbox>]`: a message file that no
// record points to is filed into a mailbox (a lost-and-found, made if missing) as a
// new message, through the store's own append — so its UID, MODSEQ, the digest, the
// counters and the change log are all the store's doing, and a client sees it
// arrive like any delivery. Recovering an unacknowledged delivery's file costs at
// worst a duplicate of a message its sender retried; leaving a lost record's file
// to chance would lose mail.
import { InvalidInput, NotFound } from '../errors.js';
import type { AccountStore, MailStore, MessageSource } from '../store/types.js';

export const defaultRecoveryMailbox = 'Recovered';

export interface RecoveryTarget {
  login: string;
  mailbox: string;
}

/** `alice@example.com` or `alice@example.com/Lost and Found` (a login never holds a slash). */
export function parseRecoveryTarget(text: string): RecoveryTarget {
  const slash = text.indexOf('/');
  const login = (slash < 0 ? text : text.slice(0, slash)).trim();
  const mailbox = slash < 0 ? defaultRecoveryMailbox : text.slice(slash + 1);
  if (login === '' || mailbox === '') throw new InvalidInput(`--recover-to wants <user>[/<mailbox>], got ${JSON.stringify(text)}`);
  return { login, mailbox };
}

export interface Recovered {
  uid: number;
  mailbox: string;
}

export class OrphanRecovery {
  private account: AccountStore | null = null;

  constructor(
    private readonly store: MailStore,
    readonly target: RecoveryTarget,
  ) {}

  /** Fails early (unknown account) before the audit reads anything. */
  async open(): Promise<void> {
    this.account = await this.store.account(this.target.login);
  }

  /** Files one message's verified bytes (streamed: a large one is never held whole); the mailbox is made on first use. */
  async recover(source: MessageSource, internalDate: Date): Promise<Recovered> {
    const account = this.account ?? (await this.store.account(this.target.login));
    this.account = account;
    const mailbox = await account.getMailbox(this.target.mailbox).catch(async (error: unknown) => {
      if (!(error instanceof NotFound)) throw error;
      return account.createMailbox(this.target.mailbox);
    });
    const result = await account.append(mailbox.name, source, { internalDate, flags: [] });
    return { uid: result.uid, mailbox: mailbox.name };
  }
}
