// Room on disk for spooled APPEND literals (DESIGN.md invariant 7). A literal's whole
// announced size is reserved before its continuation is sent (or, for `{n+}`, before a
// byte of it is written), and released when its spool file is removed: so what is on
// disk never exceeds the reservations, whatever the client sends. One budget per
// connection (imap.connectionSpoolLimit) and one for the server (imap.spoolLimit).
export class SpoolBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  get reserved(): number {
    return this.used;
  }

  /** Reserves `bytes` if they fit; false (and nothing reserved) when they do not. */
  tryReserve(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  release(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}
