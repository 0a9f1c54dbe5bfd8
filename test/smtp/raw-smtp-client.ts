// A plain-TCP SMTP client for exact bytes: it sends what it is given, untouched,
// and reads whole replies (a multi-line reply is one entry).
import assert from 'node:assert/strict';
import * as net from 'node:net';

export class RawSmtpClient {
  private buffer = '';
  private readonly replies: string[] = [];
  private waiting: ((reply: string) => void) | null = null;
  private closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (data: Buffer) => {
      this.buffer += data.toString('latin1');
      this.collect();
    });
    socket.on('close', () => {
      this.closed = true;
      this.deliver();
    });
    socket.on('error', () => {});
  }

  /** Connects and waits for the 220 banner (the MX greets after its early-talker delay). */
  static async connect(port: number): Promise<{ client: RawSmtpClient; banner: string }> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new RawSmtpClient(socket);
    return { client, banner: await client.reply() };
  }

  private collect(): void {
    let current = '';
    for (;;) {
      const end = this.buffer.indexOf('\r\n');
      if (end < 0) break;
      const line = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      current += (current ? '\n' : '') + line;
      // "250-" continues a reply, "250 " ends it (RFC 5321 §4.2.1).
      if (line.length < 4 || line[3] !== '-') {
        this.replies.push(current);
        current = '';
      }
    }
    if (current) this.buffer = current.split('\n').map((line) => line + '\r\n').join('') + this.buffer;
    this.deliver();
  }

  private deliver(): void {
    if (this.waiting === null) return;
    if (this.replies.length > 0) {
      const waiting = this.waiting;
      this.waiting = null;
      waiting(this.replies.shift()!);
    } else if (this.closed) {
      const waiting = this.waiting;
      this.waiting = null;
      waiting('(closed)');
    }
  }

  /** The next whole reply, or "(closed)" once the server has closed the connection. */
  reply(): Promise<string> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.deliver();
    });
  }

  /** Replies received and not yet read (the test asserts none came for a line that must not be answered). */
  get unread(): readonly string[] {
    return this.replies;
  }

  /** Writes, waiting for the socket to drain when its buffer is full. */
  async write(data: string | Buffer): Promise<void> {
    if (!this.socket.write(data)) await new Promise<void>((resolve) => this.socket.once('drain', resolve));
  }

  async command(line: string | Buffer): Promise<string> {
    await this.write(line);
    return this.reply();
  }

  close(): void {
    this.socket.destroy();
  }

  /**
   * One message from carol@example.org to alice@example.com on its own connection:
   * `data` is sent as given, then the final dot; returns the server's reply to it.
   */
  static async sendMessage(port: number, data: string): Promise<string> {
    const { client } = await RawSmtpClient.connect(port);
    try {
      assert.match(await client.command('EHLO client.example.org\r\n'), /^250/);
      assert.match(await client.command('MAIL FROM:<carol@example.org>\r\n'), /^250/);
      assert.match(await client.command('RCPT TO:<alice@example.com>\r\n'), /^250/);
      assert.match(await client.command('DATA\r\n'), /^354/);
      return await client.command(`${data}.\r\n`);
    } finally {
      client.close();
    }
  }
}
