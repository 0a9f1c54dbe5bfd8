// Reads a new password: asked twice, unechoed, on a terminal; the first line of
// standard input otherwise (for scripts). Never from the command line, where any
// user on the machine could read it in the process list.
import { InvalidInput } from '../errors.js';

export async function readNewPassword(): Promise<string> {
  const password = process.stdin.isTTY ? await askTwice() : await readFirstLine();
  if (password.length < 8) throw new InvalidInput('a password needs at least 8 characters');
  if (password.length > 1024) throw new InvalidInput('a password is limited to 1024 characters');
  return password;
}

async function askTwice(): Promise<string> {
  const first = await askHidden('New password: ');
  const second = await askHidden('Repeat it: ');
  if (first !== second) throw new InvalidInput('the two passwords differ');
  return first;
}

function askHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const input = process.stdin;
    process.stderr.write(prompt);
    input.setRawMode(true);
    input.resume();
    let typed = '';
    const onData = (data: Buffer) => {
      for (const character of data.toString('utf8')) {
        if (character === '\r' || character === '\n') {
          finish();
          resolve(typed);
          return;
        }
        if (character === '\u0003') {
          finish();
          reject(new InvalidInput('cancelled'));
          return;
        }
        if (character === '\u007f') typed = typed.slice(0, -1);
        else typed += character;
      }
    };
    const finish = () => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write('\n');
    };
    input.on('data', onData);
  });
}

async function readFirstLine(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) {
    text += chunk.toString();
    if (text.includes('\n')) break;
  }
  return text.split(/\r?\n/)[0] ?? '';
}
