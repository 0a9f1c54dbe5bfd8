#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx, so `npm install && npm start`
// needs no separate build step.
//
// CommonJS on purpose (bin/package.json): libuv sizes its thread pool from
// UV_THREADPOOL_SIZE when the first fs or crypto call creates it, and Node reads an
// ES module entry file through that pool, before any line of it runs.
'use strict';

// Every durable write waits on fsyncs (blob file, directory, SQLite WAL) that run in
// the thread pool. libuv's default of 4 threads lets only 4 run at once and queues
// the rest behind them; with more, concurrent fsyncs share the file system journal's
// commits. An administrator's own setting wins.
if (process.env.UV_THREADPOOL_SIZE === undefined) process.env.UV_THREADPOOL_SIZE = '64';

// tsx's CommonJS build of this API cannot register its ES module hooks: import it.
void import('tsx/esm/api').then(({ register }) => {
  register();
  return import('../src/cli/main.ts');
});
