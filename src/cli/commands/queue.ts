import type { Command } from 'commander';
import { cliActor, logAdminAction } from '../../admin/admin-action.js';
import { InvalidInput, NotFound } from '../../errors.js';
import { action, withStore, type GlobalOptions } from '../session.js';

function queueId(text: string): number {
  const id = Number(text);
  if (!Number.isSafeInteger(id) || id <= 0) throw new InvalidInput(`not a queue id: ${JSON.stringify(text)}`);
  return id;
}

export function registerQueue(program: Command): void {
  const queue = program.command('queue').description('the outbound queue: mail waiting for remote servers');
  queue
    .command('list')
    .description('list queued messages with each recipient\'s state, attempts, next attempt and last error')
    .action(
      action(async () => {
        const messages = await withStore(program.opts<GlobalOptions>(), ({ store }) => store.outbound.list());
        if (messages.length === 0) process.stdout.write('the queue is empty\n');
        for (const message of messages) {
          process.stdout.write(`${message.id} from <${message.sender}> ${message.size} bytes queued ${message.createdAt.toISOString()} expires ${message.expiresAt.toISOString()}\n`);
          for (const recipient of message.recipients) {
            process.stdout.write(`  ${recipient.address} ${recipient.state} attempts=${recipient.attempts} next=${recipient.nextAttemptAt.toISOString()}${recipient.lastError ? ` last error: ${recipient.lastError}` : ''}\n`);
          }
        }
      }),
    );
  queue
    .command('retry [id]')
    .description('make one queued message (or all) due now; a running server picks it up within seconds')
    .action(
      action(async (id?: string) => {
        const count = await withStore(program.opts<GlobalOptions>(), async ({ store, log }) => {
          const target = id === undefined ? undefined : queueId(id);
          const recipients = await store.outbound.retry(target);
          if (target !== undefined && recipients === 0) throw new NotFound(`there is no queued message ${id} with recipients left`);
          // The same admin.* event as the HTTPS API's, in the security log.
          logAdminAction(log, cliActor(), 'queue_retry', { ...(target === undefined ? {} : { id: target }), recipients, protocol: 'cli' });
          return recipients;
        });
        process.stdout.write(`${count} recipient${count === 1 ? '' : 's'} due now\n`);
      }),
    );
  queue
    .command('delete <id>')
    .description('drop a queued message without a bounce')
    .action(
      action(async (id: string) => {
        await withStore(program.opts<GlobalOptions>(), async ({ store, log }) => {
          const target = queueId(id);
          if (!(await store.outbound.remove(target))) throw new NotFound(`there is no queued message ${id}`);
          logAdminAction(log, cliActor(), 'queue_delete', { id: target, protocol: 'cli' });
        });
        process.stdout.write(`queued message ${id} deleted\n`);
      }),
    );
}
