// A bound on password hashing running at once (DESIGN.md invariant 7). One argon2id
// check holds 64 MiB for its whole run (password.ts), and runs on libuv's thread
// pool, which the store's file reads and fsyncs share: unbounded, a storm of wrong
// passwords holds N × 64 MiB and queues the mail's own I/O behind it. So at most
// `maxConcurrent` checks (or new hashes) run; up to `queueLimit` more wait in arrival
// order; past that a check is refused at once with PasswordCheckBusy, which every
// protocol answers as a temporary failure (IMAP NO [UNAVAILABLE], SMTP 454 4.7.0,
// admin API 503) instead of queueing forever. One limiter per process, since memory
// is per process: IMAP, SMTP, the admin API and app-password decoys all share it.
import { PasswordCheckBusy } from '../errors.js';

export interface HashLimits {
  /** Checks that hold their memory at the same time. */
  maxConcurrent: number;
  /** Checks waiting for a slot; one more is refused. */
  queueLimit: number;
}

export const defaultHashLimits: HashLimits = { maxConcurrent: 2, queueLimit: 100 };

export interface HashLimiterStatistics {
  running: number;
  waiting: number;
  /** Most checks ever running at once since the last reset. */
  highWater: number;
  /** Checks refused because the queue was full, since the last reset. */
  refused: number;
  /** Checks that ran to the end (success or failure), since the last reset. */
  completed: number;
}

export class HashLimiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private highWater = 0;
  private refused = 0;
  private completed = 0;

  constructor(private limits: HashLimits = defaultHashLimits) {}

  /** Runs `work` when a slot is free; throws PasswordCheckBusy if the queue is full. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.limits.maxConcurrent) {
      if (this.waiting.length >= this.limits.queueLimit) {
        this.refused++;
        throw new PasswordCheckBusy();
      }
      // release() hands its slot over without lowering `running`, so none is lost or doubled.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    this.highWater = Math.max(this.highWater, this.running);
    try {
      return await work();
    } finally {
      this.completed++;
      this.release();
    }
  }

  /** New limits (from the server's config); waiting checks start at once if there is room now. */
  configure(limits: HashLimits): void {
    this.limits = { ...limits };
    while (this.running < this.limits.maxConcurrent && this.waiting.length > 0) {
      this.running++;
      this.waiting.shift()!();
    }
  }

  get settings(): HashLimits {
    return { ...this.limits };
  }

  statistics(): HashLimiterStatistics {
    return { running: this.running, waiting: this.waiting.length, highWater: this.highWater, refused: this.refused, completed: this.completed };
  }

  /** Starts the high-water mark and the counters afresh (tests, the attack suite). */
  resetStatistics(): void {
    this.highWater = this.running;
    this.refused = 0;
    this.completed = 0;
  }

  private release(): void {
    // A lowered maxConcurrent takes effect here: the slot is dropped instead of handed over.
    const next = this.running <= this.limits.maxConcurrent ? this.waiting.shift() : undefined;
    if (next) next();
    else this.running--;
  }
}

/** The process's limiter: every password verification and every new hash goes through it. */
export const passwordHashLimiter = new HashLimiter();

/** Sets the process's limits (the server does this from `[auth]`). */
export function configurePasswordHashing(limits: HashLimits): HashLimiter {
  passwordHashLimiter.configure(limits);
  return passwordHashLimiter;
}
