// Sessions from POST /session (admin password + TOTP): short-lived bearer tokens
// kept in memory only, so a restart ends them all. Stored by SHA-256, like tokens.
import { randomBytes } from 'node:crypto';
import { hashAdminToken } from './admin-token.js';

export const sessionTokenPrefix = 'pksess_';

interface Session {
  login: string;
  expiresAt: number;
}

export class AdminSessions {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly lifetimeMilliseconds: number) {}

  create(login: string, now = Date.now()): { token: string; expiresAt: Date } {
    this.sweep(now);
    const token = sessionTokenPrefix + randomBytes(32).toString('base64url');
    const expiresAt = now + this.lifetimeMilliseconds;
    this.sessions.set(hashAdminToken(token), { login, expiresAt });
    return { token, expiresAt: new Date(expiresAt) };
  }

  /** The admin login of a live session, or null. */
  find(token: string, now = Date.now()): string | null {
    const key = hashAdminToken(token);
    const session = this.sessions.get(key);
    if (!session) return null;
    if (session.expiresAt <= now) {
      this.sessions.delete(key);
      return null;
    }
    return session.login;
  }

  end(token: string): boolean {
    return this.sessions.delete(hashAdminToken(token));
  }

  private sweep(now: number): void {
    for (const [key, session] of this.sessions) if (session.expiresAt <= now) this.sessions.delete(key);
  }
}
