// A one-line progress bar on a terminal; nothing at all when stderr is a pipe
// or a file, so logs and scripts stay clean.
export function createProgress(label: string): { update(done: number, total: number | null): void; finish(): void } {
  if (!process.stderr.isTTY) return { update() {}, finish() {} };
  let last = 0;
  return {
    update(done, total) {
      const now = Date.now();
      if (now - last < 100 && done !== total) return;
      last = now;
      const width = 30;
      const bar = total ? '#'.repeat(Math.round((done / total) * width)).padEnd(width, '.') : '';
      process.stderr.write(`\r${label} ${total ? `[${bar}] ${done}/${total}` : `${done}`}`);
    },
    finish() {
      process.stderr.write('\n');
    },
  };
}
