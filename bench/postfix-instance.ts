// A private, durable Postfix instance for `npm run bench:smtp`: its own config
// directory (main.cf + master.cf written here), queue_directory and data_directory
// under a fresh temporary directory, one smtpd on 127.0.0.1:<free port> and only the
// internal services smtpd needs, every chroot column `n`. Postfix keeps its default
// durability (cleanup fsyncs each queue file before smtpd answers 250); mail for
// bench@example.com is accepted and put on HOLD, so no delivery competes for the CPU.
// No DNS, no rate or connection limits, Postfix's own log in <temporary>/maillog.
//
// Started with `postfix -c <dir> start` as root: postfix(1) is reserved for the
// superuser, and as root it accepts a config directory that the default instance's
// alternate_config_directories does not list, so /etc/postfix is neither read for
// this nor changed, and the system's default instance is never started.
// Stopped with `postfix -c <dir> stop` (then the master's PID if that fails), waiting
// until no process of the instance is left and nothing listens on its port.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { freePort, listening, waitForListener } from './loopback.js';
import * as os from 'node:os';
import * as path from 'node:path';

export interface PostfixInstance {
  port: number;
  /** Messages in the instance's hold queue. */
  queued(): Promise<number>;
  /** Deletes every message from the hold queue (`postsuper -d ALL hold`). */
  empty(): Promise<void>;
  stop(): Promise<void>;
}

const postfixCommand = '/usr/sbin/postfix';
const postsuperCommand = '/usr/sbin/postsuper';
const postmapCommand = '/usr/sbin/postmap';

function run(file: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, output: `${stdout}${stderr}`.trim() });
    });
  });
}

const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** PIDs of live processes started with MAIL_CONFIG=<configDirectory> (every daemon of the instance has it). */
async function instanceProcesses(configDirectory: string): Promise<number[]> {
  const marker = `MAIL_CONFIG=${configDirectory}\0`;
  const pids: number[] = [];
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const environment = await fs.readFile(`/proc/${entry}/environ`, 'latin1').catch(() => '');
    if (environment.startsWith(marker) || environment.includes(`\0${marker}`)) pids.push(Number(entry));
  }
  return pids;
}

async function countFiles(directory: string): Promise<number> {
  let count = 0;
  for (const entry of await fs.readdir(directory, { withFileTypes: true, recursive: true })) if (entry.isFile()) count++;
  return count;
}

function mainCf(directory: string): string {
  return [
    'compatibility_level = 3.6',
    `queue_directory = ${path.join(directory, 'queue')}`,
    `data_directory = ${path.join(directory, 'data')}`,
    'mail_owner = postfix',
    'setgid_group = postdrop',
    'myhostname = postfix-bench.example.net',
    'mydestination = example.com, localhost',
    'mynetworks = 127.0.0.0/8',
    'inet_interfaces = 127.0.0.1',
    'inet_protocols = ipv4',
    'local_recipient_maps =',
    'alias_maps =',
    'alias_database =',
    // Accept bench@example.com and put it on hold: durable in the queue, never delivered.
    `smtpd_recipient_restrictions = check_recipient_access hash:${path.join(directory, 'etc', 'hold')}, permit_mynetworks, reject_unauth_destination`,
    // No DNS.
    'smtpd_peername_lookup = no',
    'smtp_dns_support_level = disabled',
    // No throttling.
    'smtpd_client_connection_rate_limit = 0',
    'smtpd_client_message_rate_limit = 0',
    'smtpd_client_connection_count_limit = 0',
    'default_process_limit = 100',
    'smtpd_error_sleep_time = 0',
    // There is no syslog: Postfix logs to a file of its own through postlogd.
    `maillog_file = ${path.join(directory, 'maillog')}`,
    `maillog_file_prefixes = ${directory}`,
    '',
  ].join('\n');
}

function masterCf(port: number): string {
  // From Debian's master.cf, only what smtpd and the queue manager use; no chroot.
  // service type private unpriv chroot wakeup maxproc command
  return [
    `127.0.0.1:${port} inet n - n - - smtpd`,
    'cleanup   unix  n  -  n  -    0  cleanup',
    'qmgr      unix  n  -  n  300  1  qmgr',
    'rewrite   unix  -  -  n  -    -  trivial-rewrite',
    'bounce    unix  -  -  n  -    0  bounce',
    'defer     unix  -  -  n  -    0  bounce',
    'trace     unix  -  -  n  -    0  bounce',
    'verify    unix  -  -  n  -    1  verify',
    'proxymap  unix  -  -  n  -    -  proxymap',
    'anvil     unix  -  -  n  -    1  anvil',
    'scache    unix  -  -  n  -    1  scache',
    'showq     unix  n  -  n  -    -  showq',
    'error     unix  -  -  n  -    -  error',
    'retry     unix  -  -  n  -    -  error',
    'discard   unix  -  -  n  -    -  discard',
    'postlog   unix-dgram n - n -  1  postlogd',
    '',
  ].join('\n');
}

/**
 * Starts the instance, or returns null (with the reason on stderr) when this is not
 * root, Postfix is not installed, or it cannot start.
 */
export async function startPostfixInstance(): Promise<PostfixInstance | null> {
  const skip = (reason: string) => {
    process.stderr.write(`Postfix: skipped, ${reason}\n`);
    return null;
  };
  if (process.getuid?.() !== 0) return skip('the benchmark does not run as root (postfix(1) is reserved for the superuser)');
  for (const file of [postfixCommand, postsuperCommand, postmapCommand, '/usr/lib/postfix/sbin/master']) {
    if (!(await fs.access(file).then(() => true, () => false))) return skip(`${file} is missing (install Debian's postfix package; its service need not run)`);
  }
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'postkeep-bench-postfix-'));
  const configDirectory = path.join(directory, 'etc');
  const queueDirectory = path.join(directory, 'queue');
  const dataDirectory = path.join(directory, 'data');
  const port = await freePort();
  let started = false;

  async function stop(): Promise<void> {
    if (started) {
      const daemons = await instanceProcesses(configDirectory);
      const stopped = await run(postfixCommand, ['-c', configDirectory, 'stop']);
      if (stopped.code !== 0) {
        // Fall back to the master's PID from the instance's own pid file.
        const pid = Number((await fs.readFile(path.join(queueDirectory, 'pid', 'master.pid'), 'utf8').catch(() => '')).trim());
        if (pid > 0) {
          try {
            process.kill(pid, 'SIGTERM');
          } catch {
            // Already gone.
          }
        }
      }
      // The master stops its children; wait until none of the instance's processes is
      // left and the port is closed, then kill what remains of this instance by PID.
      for (let attempt = 0; attempt < 100; attempt++) {
        if ((await instanceProcesses(configDirectory)).length === 0 && !(await listening(port))) break;
        await sleep(100);
      }
      const left = await instanceProcesses(configDirectory);
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      if (left.length > 0) {
        await sleep(200);
        process.stderr.write(`Postfix: killed processes left after stop: ${left.join(' ')}\n`);
      }
      if (await listening(port)) process.stderr.write(`Postfix: something still listens on 127.0.0.1:${port} after stop\n`);
      // The master detaches from this process, so its exited daemons are reaped by
      // PID 1: give it a few seconds, so that `ps` shows none of them even as <defunct>.
      for (let attempt = 0; attempt < 100; attempt++) {
        const remaining = await Promise.all(daemons.map((pid) => fs.access(`/proc/${pid}`).then(() => true, () => false)));
        if (!remaining.includes(true)) break;
        await sleep(100);
      }
      started = false;
    }
    await fs.rm(directory, { recursive: true, force: true });
  }

  try {
    // Postfix's daemons run as postfix and must reach the queue through this directory.
    await fs.chmod(directory, 0o755);
    await fs.mkdir(configDirectory);
    await fs.mkdir(queueDirectory);
    await fs.mkdir(dataDirectory);
    const owner = await run('/usr/bin/id', ['-u', 'postfix']);
    const group = await run('/usr/bin/id', ['-g', 'postfix']);
    if (owner.code !== 0) {
      await stop();
      return skip('there is no postfix user (mail_owner)');
    }
    await fs.chown(dataDirectory, Number(owner.output), Number(group.output));
    await fs.writeFile(path.join(configDirectory, 'main.cf'), mainCf(directory));
    await fs.writeFile(path.join(configDirectory, 'master.cf'), masterCf(port));
    await fs.writeFile(path.join(configDirectory, 'hold'), 'bench@example.com HOLD\n');
    const postmap = await run(postmapCommand, ['-c', configDirectory, `hash:${path.join(configDirectory, 'hold')}`]);
    if (postmap.code !== 0) throw new Error(`postmap failed: ${postmap.output}`);
    // `postfix start` also runs `postfix check`, which creates the queue's directories.
    const start = await run(postfixCommand, ['-c', configDirectory, 'start']);
    started = true;
    if (start.code !== 0) throw new Error(`postfix -c ${configDirectory} start exited with ${start.code}: ${start.output}`);
    await waitForListener(port);
  } catch (error) {
    const log = await fs.readFile(path.join(directory, 'maillog'), 'utf8').catch(() => '');
    const tail = log.trim().split('\n').slice(-5).join('\n');
    await stop();
    return skip(`it could not start: ${(error as Error).message}${tail ? `\nits log ended with:\n${tail}` : ''}`);
  }

  return {
    port,
    queued: () => countFiles(path.join(queueDirectory, 'hold')),
    async empty() {
      const deleted = await run(postsuperCommand, ['-c', configDirectory, '-d', 'ALL', 'hold']);
      if (deleted.code !== 0) throw new Error(`postsuper -d ALL hold failed: ${deleted.output}`);
    },
    stop,
  };
}
