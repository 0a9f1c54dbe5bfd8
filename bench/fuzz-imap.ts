// `npm run fuzz -- [iterations] [seed]`: a longer run of the IMAP command fuzzer than
// `npm test` makes (test/imap/parser-fuzz.test.ts). Random bytes and mutated valid
// commands go through the command reader and the parser; any throw, any internal
// parser error or any limit overrun stops the run with the shrunk input. Prints JSON.
import fc from 'fast-check';
import { checkInput, fuzzInput, newTally } from '../test/imap/command-fuzz.js';

const iterations = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? Date.now() % 2 ** 31);
if (!Number.isSafeInteger(iterations) || iterations <= 0) {
  console.error('usage: fuzz-imap.ts [iterations] [seed]');
  process.exit(2);
}

const tally = newTally();
let bytes = 0;
let slowest = 0;
const started = performance.now();
const details = fc.check(
  fc.property(fuzzInput, (input) => {
    const before = performance.now();
    checkInput(input, tally);
    slowest = Math.max(slowest, performance.now() - before);
    bytes += input.bytes.length;
  }),
  { numRuns: iterations, seed },
);
const seconds = (performance.now() - started) / 1000;
console.log(
  JSON.stringify(
    {
      seed,
      inputs: details.numRuns,
      failed: details.failed,
      seconds: Number(seconds.toFixed(2)),
      inputsPerSecond: Math.round(details.numRuns / seconds),
      megabytes: Number((bytes / 1e6).toFixed(1)),
      slowestInputMs: Number(slowest.toFixed(2)),
      ...tally,
    },
    null,
    2,
  ),
);
if (details.failed) {
  console.error(fc.defaultReportMessage(details));
  process.exit(1);
}
