// The server under attack: `postkeep start` as a child process (so its memory and
// descriptors are its own, read from /proc/<pid>/), every listener on an ephemeral
// 127.0.0.1 port learnt from its `*.listening` log events.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface Ports {
  imap: number;
  imaps: number;
  mx: number;
  submission: number;
  submissions: number;
  admin: number;
}

export interface StopOutcome {
  milliseconds: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when it had not exited within the wait and was killed. */
  killed: boolean;
}

/** The `postkeep` command of the tree under test, run through node like `npm start` does. */
export function postkeepCommand(root: string, args: string[]): { command: string; args: string[] } {
  return { command: process.execPath, args: [path.join(root, 'bin', 'postkeep.js'), ...args] };
}

export class ServerProcess {
  exit: { code: number | null; signal: NodeJS.Signals | null; at: number } | null = null;
  readonly exited: Promise<void>;

  private constructor(
    readonly child: ChildProcess,
    readonly ports: Ports,
    /** How many times each log event was written so far (kept up to date). */
    readonly events: Map<string, number>,
    /** The last lines of its log, for a report when it dies. */
    readonly tail: string[],
  ) {
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        this.exit = { code: child.exitCode, signal: child.signalCode, at: Date.now() };
        resolve();
      } else
        child.once('exit', (code, signal) => {
          this.exit = { code, signal, at: Date.now() };
          resolve();
        });
    });
  }

  static async start(root: string, configFile: string, timeoutMilliseconds = 60_000): Promise<ServerProcess> {
    const { command, args } = postkeepCommand(root, ['-c', configFile, 'start']);
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    const events = new Map<string, number>();
    const tail: string[] = [];
    const ports: Partial<Ports> = {};
    let running = false;
    let pending = '';
    let settle: (() => void) | null = null;
    child.stderr!.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        tail.push(line.slice(0, 500));
        if (tail.length > 40) tail.shift();
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        const event = String(entry.event);
        events.set(event, (events.get(event) ?? 0) + 1);
        if (event === 'imap.listening') {
          ports.imap = Number(entry.port);
          ports.imaps = Number(entry.tlsPort);
        } else if (event === 'smtp.listening') {
          ports[entry.role as 'mx' | 'submission' | 'submissions'] = Number(entry.port);
        } else if (event === 'admin_api.listening') {
          ports.admin = Number(entry.port);
        }
      }
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString('utf8').includes('Postkeep is running')) {
        running = true;
        settle?.();
      }
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the server did not start within ${timeoutMilliseconds} ms:\n${tail.join('\n')}`)), timeoutMilliseconds);
      settle = () => {
        clearTimeout(timer);
        resolve();
      };
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the server exited at start (${code ?? signal}):\n${tail.join('\n')}`));
      });
      if (running) settle();
    }).catch((error) => {
      child.kill('SIGKILL');
      throw error;
    });
    for (const name of ['imap', 'imaps', 'mx', 'submission', 'submissions', 'admin'] as const) {
      if (!ports[name]) {
        child.kill('SIGKILL');
        throw new Error(`the server did not log its ${name} port`);
      }
    }
    return new ServerProcess(child, ports as Ports, events, tail);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get up(): boolean {
    return this.exit === null;
  }

  private status(field: string): number | null {
    try {
      const text = fs.readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
      return match ? Number(match[1]) * 1024 : null;
    } catch {
      return null;
    }
  }

  /** Resident memory now, in bytes (null once gone). */
  rss(): number | null {
    return this.status('VmRSS');
  }

  /** The most resident memory since the last resetPeak(), in bytes. */
  peakRss(): number | null {
    return this.status('VmHWM');
  }

  /** Starts the peak (VmHWM) afresh: /proc/<pid>/clear_refs, value 5 (Linux ≥ 4.0). */
  resetPeak(): boolean {
    try {
      fs.writeFileSync(`/proc/${this.pid}/clear_refs`, '5');
      return true;
    } catch {
      return false;
    }
  }

  /** Open file descriptors (null once gone). */
  descriptors(): number | null {
    try {
      return fs.readdirSync(`/proc/${this.pid}/fd`).length;
    } catch {
      return null;
    }
  }

  count(event: string): number {
    return this.events.get(event) ?? 0;
  }

  /** SIGTERM, then waits up to `waitMilliseconds` for the exit; SIGKILL after that. */
  async stop(waitMilliseconds: number): Promise<StopOutcome> {
    const started = Date.now();
    if (!this.up) return { milliseconds: 0, code: this.exit!.code, signal: this.exit!.signal, killed: false };
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([this.exited.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), waitMilliseconds)))]);
    clearTimeout(timer);
    if (!inTime) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
    return { milliseconds: (this.exit?.at ?? Date.now()) - started, code: this.exit!.code, signal: this.exit!.signal, killed: !inTime };
  }

  kill(): void {
    if (this.up) this.child.kill('SIGKILL');
  }
}

/** Bytes of the files under `directory` (0 when it does not exist). */
export function directoryBytes(directory: string): number {
  let total = 0;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(directory, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const full = path.join(directory, entry.name);
    try {
      if (entry.isDirectory()) total += directoryBytes(full);
      else if (entry.isFile()) total += fs.statSync(full).size;
    } catch {
      // A spool file removed while we look: it no longer counts.
    }
  }
  return total;
}

/** Samples `measure` every `intervalMilliseconds` until stopped; the largest value seen. */
export function sampleMaximum(measure: () => number | null, intervalMilliseconds = 100): { stop(): number } {
  let maximum = measure() ?? 0;
  const timer = setInterval(() => {
    maximum = Math.max(maximum, measure() ?? 0);
  }, intervalMilliseconds);
  return {
    stop() {
      clearInterval(timer);
      maximum = Math.max(maximum, measure() ?? 0);
      return maximum;
    },
  };
}
