// The per-IP message rate shared by every SMTP listener (DESIGN.md invariant 7):
// how many messages one address starts per minute (450 at MAIL FROM). Open
// connections per address are counted at accept by src/server/connection-gate.ts.

/**
 * A token bucket per address: `perMinute` tokens, refilled continuously. Full
 * buckets are forgotten, so memory stays proportional to recently active clients.
 */
export class MessageRateLimit {
  private readonly buckets = new Map<string, { tokens: number; updated: number }>();
  private lastSweep = 0;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  tryTake(address: string): boolean {
    const now = this.now();
    this.sweep(now);
    const bucket = this.buckets.get(address) ?? { tokens: this.perMinute, updated: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + ((now - bucket.updated) * this.perMinute) / 60_000);
    bucket.updated = now;
    if (bucket.tokens < 1) {
      this.buckets.set(address, bucket);
      return false;
    }
    bucket.tokens -= 1;
    this.buckets.set(address, bucket);
    return true;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    for (const [address, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.updated) * this.perMinute) / 60_000 >= this.perMinute) this.buckets.delete(address);
    }
  }
}
