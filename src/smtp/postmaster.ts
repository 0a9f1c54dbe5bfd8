// RFC 5321 §4.5.1: every domain a server delivers for MUST accept mail for
// "postmaster" (any case), and "RCPT TO:<Postmaster>" with no domain at all. An
// account or alias named postmaster@<domain> takes it like any address; for a
// local domain without one it goes to `smtp.postmasterAccount`, or, with that
// unset, to the first admin account (by login). With neither, it is deferred
// (451 4.3.5, "system incorrectly configured") so that nothing sent to the
// postmaster is lost while the configuration is fixed.
import type { Logger } from '../log.js';
import type { MailStore } from '../store/types.js';
import { SmtpReply } from './smtp-reply.js';

/** How long the admin account found for an unset smtp.postmasterAccount is reused (the lookup reads every account). */
const adminLookupMilliseconds = 60_000;

export function isPostmasterAddress(address: string): boolean {
  const at = address.lastIndexOf('@');
  return (at < 0 ? address : address.slice(0, at)).toLowerCase() === 'postmaster';
}

export class PostmasterRoute {
  private admin: { login: string | null; until: number } | null = null;

  constructor(
    private readonly store: MailStore,
    /** smtp.postmasterAccount: an account's login or any of its addresses. */
    private readonly configured: string | undefined,
    private readonly log: Logger,
  ) {}

  /** The login that receives postmaster mail of a local domain without its own postmaster address. */
  async login(): Promise<string> {
    const login = this.configured === undefined ? await this.firstAdmin() : await this.configuredAccount(this.configured);
    if (login !== null) return login;
    this.log.error('smtp.postmaster_unroutable', {
      postmasterAccount: this.configured ?? null,
      hint: this.configured === undefined ? 'set smtp.postmasterAccount or make an account an admin' : 'smtp.postmasterAccount names no account',
    });
    throw new SmtpReply(451, '4.3.5', 'Postmaster mailbox not configured, try again later');
  }

  private async configuredAccount(name: string): Promise<string | null> {
    const byAddress = await this.store.admin.resolveAddress(name);
    if (byAddress !== null) return byAddress;
    return (await this.store.admin.getLoginCredentials(name))?.login ?? null;
  }

  private async firstAdmin(): Promise<string | null> {
    const now = Date.now();
    if (this.admin !== null && now < this.admin.until) return this.admin.login;
    let found: string | null = null;
    for (const account of await this.store.admin.listAccounts()) {
      if ((await this.store.admin.getLoginCredentials(account.login))?.isAdmin) {
        found = account.login;
        break;
      }
    }
    // A miss is not remembered: the admin who fixes it should not wait a minute.
    this.admin = found === null ? null : { login: found, until: now + adminLookupMilliseconds };
    return found;
  }
}
