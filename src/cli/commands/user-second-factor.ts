// `postkeep user 2fa enable|disable`: TOTP enrolment (RFC 6238) from the command line.
// Enable prints the otpauth:// URI and its QR code, then asks for a current code
// (a terminal, or the first line of stdin); `--code` confirms a pending enrolment
// later, for scripts. The recovery codes are printed once, on confirmation.
import type { Command } from 'commander';
import { cliActor, logAdminAction } from '../../admin/admin-action.js';
import { beginEnrolment, confirmEnrolment, disableSecondFactor } from '../../auth/second-factor.js';
import { InvalidInput } from '../../errors.js';
import type { Logger } from '../../log.js';
import { terminalQrCode } from '../qr-code.js';
import { action, withStore, type GlobalOptions } from '../session.js';

async function readCode(): Promise<string> {
  process.stderr.write('Code shown by the app: ');
  let text = '';
  process.stdin.setEncoding('utf8');
  for await (const chunk of process.stdin) {
    text += chunk as string;
    if (text.includes('\n')) break;
  }
  process.stdin.pause();
  return (text.split(/\r?\n/)[0] ?? '').trim();
}

function printRecoveryCodes(login: string, codes: string[]): void {
  process.stdout.write(
    `two-factor authentication is on for ${login}: IMAP and SMTP now take app passwords only (postkeep app-password add).\n` +
      'Recovery codes, each good once, shown only now; keep them somewhere safe:\n\n' +
      codes.map((code) => `    ${code}\n`).join('') +
      '\n',
  );
}

function logChange(log: Logger, action: string, login: string): void {
  logAdminAction(log, cliActor(), action, { login: login.trim().toLowerCase(), protocol: 'cli' });
}

export function registerUserSecondFactor(user: Command, program: Command): void {
  const command = user.command('2fa').description('two-factor authentication (TOTP) for an account');
  command
    .command('enable <address>')
    .description('enrol a TOTP app: prints an otpauth:// URI and QR code, asks for a current code, prints recovery codes')
    .option('--code <code>', 'confirm the pending enrolment with this code (for scripts), instead of asking')
    .action(
      action(async (address: string, options: { code?: string }) => {
        await withStore(program.opts<GlobalOptions>(), async ({ store, log, config }) => {
          if (options.code !== undefined) {
            const codes = await confirmEnrolment(store, address, options.code, log);
            logChange(log, 'second_factor_enable', address);
            printRecoveryCodes(address, codes);
            return;
          }
          const { secret, uri } = await beginEnrolment(store, address, log, { issuer: `Postkeep ${config.hostname}` });
          process.stdout.write(`Scan this with the authenticator app, or enter the key ${secret} by hand:\n\n${terminalQrCode(uri)}\n${uri}\n\n`);
          const code = await readCode();
          if (code === '') {
            process.stdout.write(`enrolment of ${address} is waiting: confirm with \`postkeep user 2fa enable ${address} --code <code>\`\n`);
            return;
          }
          if (!/^\d{6}$/.test(code)) throw new InvalidInput(`a code is 6 digits; confirm later with \`postkeep user 2fa enable ${address} --code <code>\``);
          const codes = await confirmEnrolment(store, address, code, log);
          logChange(log, 'second_factor_enable', address);
          printRecoveryCodes(address, codes);
        });
      }),
    );
  command
    .command('disable <address>')
    .description('turn two-factor authentication off (the main password works for IMAP and SMTP again)')
    .action(
      action(async (address: string) => {
        await withStore(program.opts<GlobalOptions>(), async ({ store, log }) => {
          await disableSecondFactor(store, address, log);
          logChange(log, 'second_factor_disable', address);
        });
        process.stdout.write(`two-factor authentication is off for ${address}\n`);
      }),
    );
}
