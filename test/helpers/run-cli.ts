// Runs the real `postkeep` command as a child process.
import { fileURLToPath } from 'node:url';
import { runProcess, type ProcessResult } from './run-process.js';

export const cliPath = fileURLToPath(new URL('../../bin/postkeep.js', import.meta.url));

export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): Promise<ProcessResult> {
  return runProcess(process.execPath, [cliPath, ...args], options);
}
