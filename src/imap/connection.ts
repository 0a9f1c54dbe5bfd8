// One client connection: bytes in through the command reader, commands run one at a
// time against the session, replies out through the response writer. Also the
// connection-level parts of commands: STARTTLS's upgrade, AUTHENTICATE's continuation
// lines, IDLE's wait for DONE, APPEND literals spooled to a temporary file.
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import type * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Writable } from 'node:stream';
import * as tls from 'node:tls';
import * as zlib from 'node:zlib';
import type { Logger } from '../log.js';
import type { MailStore } from '../store/types.js';
import { commands } from './commands/index.js';
import { CommandReader, isIdleDone, parseCommand, type CommandFrame, type ParseError } from './parser/index.js';
import { bad, ConnectionBroken, errorToReply, formatReply, ImapReply, ResponseWriter } from './response.js';
import type { ImapLimits } from './server.js';
import { Session, type ConnectionControl } from './session.js';

/** An APPEND literal too large to hold: written to a temporary file as it arrives. */
class LiteralSpool {
  private handle: Promise<fs.FileHandle>;
  private pending: Promise<unknown>;
  private failed: Error | null = null;
  inFlight = 0;
  constructor(readonly file: string) {
    this.handle = fs.open(file, 'wx', 0o600);
    this.pending = this.handle;
  }
  write(data: Buffer, onDrained: () => void): void {
    const copy = Buffer.from(data);
    this.inFlight += copy.length;
    this.pending = this.pending
      .then(async () => {
        if (!this.failed) await (await this.handle).write(copy);
      })
      .catch((error: Error) => {
        this.failed = error;
      })
      .finally(() => {
        this.inFlight -= copy.length;
        onDrained();
      });
  }
  async finish(): Promise<void> {
    await this.pending;
    await (await this.handle).close().catch(() => {});
    if (this.failed) throw this.failed;
  }
  async discard(): Promise<void> {
    await this.pending.catch(() => {});
    await (await this.handle.catch(() => null))?.close().catch(() => {});
    await fs.rm(this.file, { force: true });
  }
}

type QueueItem = { kind: 'command'; frame: CommandFrame; spools: Map<number, LiteralSpool> } | { kind: 'error'; error: ParseError };

let spoolCounter = 0;
const maximumQueued = 32;
const spoolHighWater = 4 * 1024 * 1024;

export interface ConnectionOptions {
  store: MailStore;
  log: Logger;
  limits: ImapLimits;
  /** The context in service now (certificates reload while the server runs). */
  secureContext: () => tls.SecureContext;
  /** True for the implicit-TLS port: the socket is already a TLSSocket. */
  secure: boolean;
  spoolDirectory?: string;
}

export class ImapConnection implements ConnectionControl {
  private socket: net.Socket;
  private readonly reader: CommandReader;
  readonly session: Session;
  private readonly writer: ResponseWriter;
  private queue: QueueItem[] = [];
  private running = false;
  private spools = new Map<number, LiteralSpool>();
  private activeSpools: Map<number, LiteralSpool> | null = null;
  private lineWaiter: { resolve: (frame: CommandFrame) => void; reject: (error: Error) => void; idle: boolean } | null = null;
  private upgradePending = false;
  private compressionPending = false;
  compressed = false;
  /** The stream corked until the end of this event-loop turn (see afterWrite). */
  private corked: Writable | null = null;
  /** Where responses go: the socket, or the deflate stream in front of it. */
  private output: Writable;
  private deflate: zlib.DeflateRaw | null = null;
  private closed = false;
  secure: boolean;
  readonly remoteAddress: string;
  readonly loopback: boolean;
  private readonly onData = (chunk: Buffer) => this.receive(chunk);

  constructor(socket: net.Socket, private readonly options: ConnectionOptions) {
    this.socket = socket;
    this.secure = options.secure;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.loopback = /^(127\.|::1$|::ffff:127\.)/.test(this.remoteAddress);
    this.reader = new CommandReader({
      lineLimit: options.limits.lineLimit,
      literalLimit: options.limits.literalLimit,
      appendLimit: options.limits.appendLimit,
      commandLimit: options.limits.commandLimit,
    });
    this.output = socket;
    this.writer = new ResponseWriter(
      () => this.output,
      () => this.afterWrite(),
    );
    this.session = new Session(options.store, this.writer, this, options.limits, options.log);
    this.attach(socket);
  }

  start(): void {
    void this.writer.untagged(`OK [CAPABILITY ${this.session.capabilities().join(' ')}] Postkeep IMAP ready`);
  }

  private attach(socket: net.Socket): void {
    // A reply is often several small writes (untagged lines, then the tagged one): with
    // Nagle's algorithm the last waits for the client's delayed ACK, about 40 ms each time.
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('error', () => {});
    socket.on('close', () => this.closeDown());
    // RFC 9051 §5.4: the autologout timer is at least 30 minutes.
    socket.setTimeout(this.options.limits.autologoutSeconds * 1000, () => {
      void this.writer.untagged('BYE Autologout; idle for too long').then(() => this.output.end());
    });
  }

  /** Ends the connection from the server side (server stop): BYE and close. */
  shutdown(): void {
    if (this.closed) return;
    this.output.end('* BYE Server shutting down\r\n');
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private closeDown(): void {
    if (this.closed) return;
    this.closed = true;
    this.session.close();
    this.lineWaiter?.reject(new Error('connection closed'));
    this.lineWaiter = null;
    for (const spool of this.spools.values()) void spool.discard();
    for (const item of this.queue) if (item.kind === 'command') for (const spool of item.spools.values()) void spool.discard();
    this.queue = [];
  }

  private receive(chunk: Buffer): void {
    for (const event of this.reader.push(chunk)) {
      switch (event.type) {
        case 'continuation':
          void this.writer.write('+ Ready for literal data\r\n');
          break;
        case 'literal-start': {
          // Before login an APPEND cannot run: its bytes are dropped, never written to disk.
          if (this.session.state === 'not-authenticated') break;
          const directory = this.options.spoolDirectory ?? os.tmpdir();
          const file = path.join(directory, `postkeep-append-${process.pid}-${++spoolCounter}.tmp`);
          this.spools.set(event.index, new LiteralSpool(file));
          break;
        }
        case 'literal-data': {
          const spool = this.spools.get(event.index);
          if (!spool) break;
          spool.write(event.data, () => {
            if (spool.inFlight < spoolHighWater / 2 && this.queue.length < maximumQueued) this.socket.resume();
          });
          if (spool.inFlight > spoolHighWater) this.socket.pause();
          break;
        }
        case 'literal-end':
          break;
        case 'error':
          for (const spool of this.spools.values()) void spool.discard();
          this.spools = new Map();
          this.enqueue({ kind: 'error', error: event.error });
          break;
        case 'command':
          if (this.lineWaiter) {
            const waiter = this.lineWaiter;
            this.lineWaiter = null;
            if (waiter.idle && !isIdleDone(event.frame)) waiter.reject(bad('expected DONE'));
            else waiter.resolve(event.frame);
            break;
          }
          this.enqueue({ kind: 'command', frame: event.frame, spools: this.spools });
          this.spools = new Map();
          break;
      }
    }
  }

  private enqueue(item: QueueItem): void {
    this.queue.push(item);
    // A client that pipelines faster than commands run is slowed down, not buffered without bound.
    if (this.queue.length >= maximumQueued) this.socket.pause();
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const item = this.queue.shift()!;
        if (this.queue.length < maximumQueued / 2) this.socket.resume();
        if (item.kind === 'error') {
          await this.writer.write(formatReply(item.error.tag ?? '*', errorToReply(item.error)));
          continue;
        }
        this.activeSpools = item.spools;
        // From the reply's first byte (afterWrite corks only after a write).
        this.cork();
        try {
          await this.run(item.frame);
        } finally {
          for (const spool of item.spools.values()) await spool.discard();
          this.activeSpools = null;
        }
        if (this.session.state === 'logout') {
          this.output.end();
          return;
        }
        if (this.upgradePending) this.upgrade();
        if (this.compressionPending) this.compress();
      }
    } catch (error) {
      this.options.log.error('imap.connection_failed', { error: String(error), remoteAddress: this.remoteAddress });
      this.socket.destroy();
    } finally {
      this.running = false;
    }
  }

  private async run(frame: CommandFrame): Promise<void> {
    const session = this.session;
    const parsed = parseCommand(frame, { utf8: session.utf8 });
    if (!parsed.ok) {
      await this.writer.write(formatReply(parsed.error.tag ?? frame.tag ?? '*', errorToReply(parsed.error)));
      return;
    }
    const command = parsed.command;
    const spec = commands.get(command.name);
    let reply: ImapReply;
    if (!spec) {
      reply = bad(`${command.name} is not supported`);
    } else if (!spec.states.includes(session.state)) {
      reply = bad(`${command.name} is not allowed in the ${session.state} state`);
    } else {
      try {
        reply = (await spec.handler(session, command)) ?? new ImapReply('OK', `${command.name} completed`);
      } catch (error) {
        if (error instanceof ConnectionBroken) {
          this.options.log.error('imap.connection_broken', { command: command.name, error: error.message });
          this.socket.destroy();
          return;
        }
        reply = errorToReply(error);
        if (reply.responseCode === 'SERVERBUG') this.options.log.error('imap.command_failed', { command: command.name, error: String(error) });
      }
    }
    if (session.selected && session.state === 'selected') {
      // RFC 9051 §7.5.1: no EXPUNGE while answering FETCH, STORE or SEARCH.
      const allowExpunge = !['FETCH', 'STORE', 'SEARCH'].includes(command.name);
      await session.sync(allowExpunge).catch((error) => this.options.log.warn('imap.sync_failed', { error: String(error) }));
    }
    await this.writer.tagged(command.tag, reply);
  }

  // ---- ConnectionControl ----

  async startTls(): Promise<void> {
    this.upgradePending = true;
  }

  /**
   * One reply is many small writes (untagged lines, FETCH pieces, the tagged line); each
   * would be its own syscall and packet (and TLS record). They are corked together until
   * the end of the event-loop turn, or sooner once a buffer's worth is waiting, so a large
   * FETCH still streams and the writer's wait for 'drain' always ends.
   */
  private afterWrite(): void {
    if (this.deflate) {
      this.deflate.flush(zlib.constants.Z_SYNC_FLUSH);
      return;
    }
    const output = this.output;
    if (output.writableLength >= output.writableHighWaterMark) {
      this.uncork();
      return;
    }
    this.cork();
  }

  private cork(): void {
    if (this.corked || this.deflate) return;
    const output = this.output;
    this.corked = output;
    output.cork();
    setImmediate(() => this.uncork());
  }

  private uncork(): void {
    const corked = this.corked;
    this.corked = null;
    corked?.uncork();
  }

  private upgrade(): void {
    // The tagged OK goes out in the clear before the handshake starts.
    this.uncork();
    this.upgradePending = false;
    // RFC 9051 §6.2.1: anything sent before the handshake must not be run.
    this.reader.reset();
    this.queue = [];
    const plain = this.socket;
    plain.off('data', this.onData);
    plain.setTimeout(0);
    const secure = new tls.TLSSocket(plain, { isServer: true, secureContext: this.options.secureContext() });
    this.socket = secure;
    this.output = secure;
    this.secure = true;
    secure.on('data', this.onData);
    secure.on('error', () => secure.destroy());
    secure.setTimeout(this.options.limits.autologoutSeconds * 1000, () => {
      void this.writer.untagged('BYE Autologout; idle for too long').then(() => this.output.end());
    });
  }

  async startCompression(): Promise<void> {
    this.compressionPending = true;
  }

  // RFC 4978 §3: both directions are raw DEFLATE from the byte after the tagged OK.
  private compress(): void {
    this.uncork();
    this.compressionPending = false;
    this.reader.reset();
    const inflate = zlib.createInflateRaw();
    const deflate = zlib.createDeflateRaw();
    const socket = this.socket;
    socket.off('data', this.onData);
    socket.on('data', (chunk: Buffer) => inflate.write(chunk));
    inflate.on('data', this.onData);
    inflate.on('error', () => socket.destroy());
    deflate.on('error', () => socket.destroy());
    deflate.pipe(socket);
    this.deflate = deflate;
    this.output = deflate;
    this.compressed = true;
  }

  async readContinuation(text: string): Promise<CommandFrame> {
    const frame = new Promise<CommandFrame>((resolve, reject) => {
      this.lineWaiter = { resolve, reject, idle: false };
    });
    await this.writer.write(`+ ${text}\r\n`);
    return frame;
  }

  async idle(): Promise<void> {
    const done = new Promise<CommandFrame>((resolve, reject) => {
      this.lineWaiter = { resolve, reject, idle: true };
    });
    await this.writer.write('+ idling\r\n');
    if (this.session.selected) await this.session.sync(true);
    await done;
  }

  literal(index: number): AsyncIterable<Buffer> | null {
    const spool = this.activeSpools?.get(index);
    if (!spool) return null;
    return (async function* () {
      await spool.finish();
      for await (const chunk of createReadStream(spool.file)) yield chunk as Buffer;
    })();
  }
}
