// The bytes of DATA held at once by every SMTP connection together (in memory
// and in data/tmp/smtp), bounded by `smtp.spoolLimit`. Each message reserves its
// bytes as they arrive and gives them back when its spool is disposed, so the
// spool can never hold more than the limit however many senders stream at once.

/** Below this much free room a new DATA is refused at once (452 4.3.1) rather than after its upload. */
export const minimumDataRoom = 64 * 1024;

export class SpoolBudget {
  private held = 0;

  constructor(readonly limit: number) {}

  /** Takes `bytes` if they fit under the limit; false (and nothing taken) when they do not. */
  reserve(bytes: number): boolean {
    if (this.held + bytes > this.limit) return false;
    this.held += bytes;
    return true;
  }

  release(bytes: number): void {
    this.held = Math.max(0, this.held - bytes);
  }

  get used(): number {
    return this.held;
  }

  get free(): number {
    return this.limit - this.held;
  }
}
