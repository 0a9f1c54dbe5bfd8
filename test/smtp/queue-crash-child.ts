// Child process for the queue crash test: opens the store in the folder given as
// the first argument and runs the outbound queue against the loopback "remote MX"
// on the port given as the second, printing `empty` once the queue has drained.
// The parent kills it with SIGKILL in the middle of a run.
import { createLogger } from '../../src/log.js';
import { openStore } from '../../src/store/open-store.js';
import { configSchema } from '../../src/config/schema.js';
import { staticResolver } from '../../src/smtp/dns-resolver.js';
import { QueueRunner } from '../../src/smtp/outbound/queue-runner.js';

const [dataDir, port] = [process.argv[2]!, Number(process.argv[3])];
const store = await openStore({ dataDir, log: createLogger({ level: 'error' }) });
const settings = configSchema.parse({ outbound: { port, concurrency: 4, retryBaseSeconds: 1, retryMaxSeconds: 1, timeoutSeconds: 10 } }).outbound;
const resolver = staticResolver({ 'remote.test': { MX: [{ exchange: 'mx.remote.test', priority: 10 }] }, 'mx.remote.test': { A: ['127.0.0.1'] } });
const runner = new QueueRunner({ store, log: createLogger({ level: 'error' }), hostname: 'mx.example.com', resolver, settings, pollMilliseconds: 200 });
process.stdout.write('ready\n');
runner.start();
for (;;) {
  await new Promise((resolve) => setTimeout(resolve, 100));
  if ((await store.outbound.list()).length === 0) break;
}
await runner.stop();
await store.close();
process.stdout.write('empty\n');
