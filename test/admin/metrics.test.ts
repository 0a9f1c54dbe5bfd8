// GET /metrics on the admin listener: Prometheus text, behind an admin bearer
// credential, whose counters move with what real clients do (an IMAP login that
// fails and one that succeeds, commands, an SMTP delivery), and which names no
// account, address or anything else a client sent.
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { test } from 'node:test';
import nodemailer from 'nodemailer';
import { adminLogin, password, startAdminHarness, userLogin, type AdminHarness } from './admin-harness.js';
import { openImap, parsePrometheus, valueOf, type Sample } from './probe-client.js';

async function scrape(harness: AdminHarness): Promise<{ samples: Sample[]; text: string }> {
  const response = await harness.request('GET', '/metrics', { token: harness.token });
  assert.equal(response.status, 200, response.text);
  assert.match(String(response.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  return { samples: parsePrometheus(response.text), text: response.text };
}

test('/metrics needs an admin bearer credential', async (t) => {
  const harness = await startAdminHarness();
  t.after(() => harness.close());
  assert.equal((await harness.request('GET', '/metrics')).status, 401);
  assert.equal((await harness.request('GET', '/metrics', { token: 'not-a-token' })).status, 401);
  assert.equal((await harness.request('GET', '/metrics', { token: harness.token })).status, 200);
});

test('/metrics: counters move with IMAP logins and commands and an SMTP delivery; nothing names an account', async (t) => {
  const harness = await startAdminHarness();
  t.after(() => harness.close());
  const before = (await scrape(harness)).samples;

  const imap = await openImap(harness.server.imap!.tlsPort!);
  // What the metrics must not echo: an unknown command's name, a login, a password.
  assert.match(await imap.command('a1', `LOGIN ${userLogin} "wrong-password-9d2f"`), /^a1 NO/);
  assert.match(await imap.command('a2', `LOGIN ${userLogin} "${password}"`), /^a2 OK/);
  assert.match(await imap.command('a3', 'NOOP'), /^a3 OK/);
  assert.match(await imap.command('a4', 'XYZZYPLUGH'), /^a4 BAD/);
  assert.match(await imap.command('a5', 'LOGOUT'), /^a5 OK/);
  imap.close();

  const mx = harness.server.smtp.listeners.mx!;
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: mx.port, secure: false, tls: { rejectUnauthorized: false } });
  await transport.sendMail({ from: 'sender@remote.test', to: userLogin, subject: 'counted', text: 'hello' });
  // An unknown local recipient is refused at RCPT.
  await assert.rejects(transport.sendMail({ from: 'sender@remote.test', to: 'nobody@example.com', subject: 'refused', text: 'hello' }));
  transport.close();

  const { samples: after, text } = await scrape(harness);
  const delta = (name: string, labels: Record<string, string> = {}) => valueOf(after, name, labels) - valueOf(before, name, labels);
  assert.equal(delta('postkeep_logins_total', { protocol: 'imap', result: 'failure', reason: 'wrong-password' }), 1);
  assert.equal(delta('postkeep_logins_total', { protocol: 'imap', result: 'success' }), 1);
  assert.equal(delta('postkeep_imap_commands_total', { command: 'LOGIN', result: 'no' }), 1);
  assert.equal(delta('postkeep_imap_commands_total', { command: 'LOGIN', result: 'ok' }), 1);
  assert.equal(delta('postkeep_imap_commands_total', { command: 'NOOP', result: 'ok' }), 1);
  assert.equal(delta('postkeep_imap_commands_total', { command: 'other', result: 'bad' }), 1);
  assert.equal(delta('postkeep_imap_command_duration_seconds_count', { command: 'NOOP' }), 1);
  assert.equal(delta('postkeep_smtp_deliveries_total', { result: 'accepted' }), 1);
  assert.ok(delta('postkeep_smtp_deliveries_total', { result: 'refused' }) >= 1, 'the refused recipient is counted');
  assert.ok(delta('postkeep_store_commit_duration_seconds_count') >= 1, 'the delivery committed');
  assert.ok(delta('postkeep_store_log_sync_duration_seconds_count') >= 1, 'and its log was fsynced');
  assert.equal(delta('postkeep_store_messages'), 1);
  assert.ok(valueOf(after, 'postkeep_store_bytes', { part: 'blobs' }) > 0);
  assert.ok(valueOf(after, 'postkeep_store_bytes', { part: 'database' }) > 0);
  assert.equal(valueOf(after, 'postkeep_store_writes_refused'), 0);
  assert.ok(after.some((sample) => sample.name === 'postkeep_nodejs_eventloop_lag_seconds'), 'event-loop lag is exported');
  assert.ok(after.some((sample) => sample.name === 'postkeep_outbound_queue_messages'));
  assert.ok(after.some((sample) => sample.name === 'postkeep_outbound_queue_oldest_age_seconds'));
  // The admin scrape itself holds one admin_api connection open.
  assert.ok(valueOf(after, 'postkeep_connections', { protocol: 'admin_api' }) >= 1);
  assert.ok(after.every((sample) => sample.name.startsWith('postkeep_')), 'every metric is named postkeep_*');
  for (const secret of [userLogin, adminLogin, 'example.com', 'remote.test', 'wrong-password-9d2f', 'XYZZYPLUGH', '127.0.0.1', password]) assert.ok(!text.includes(secret), `the metrics name ${secret}`);
});

test('/metrics: the outbound queue and a failed log fsync show; refused connections count by reason', async (t) => {
  const harness = await startAdminHarness();
  t.after(() => harness.close());
  const before = (await scrape(harness)).samples;

  // Submission relays to remote.test, whose port is closed: the message stays queued.
  const submission = harness.server.smtp.listeners.submission!;
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: submission.port, secure: false, auth: { user: userLogin, pass: password }, tls: { rejectUnauthorized: false } });
  await transport.sendMail({ from: userLogin, to: 'someone@remote.test', subject: 'queued', text: 'hello' });
  transport.close();

  const commit = harness.store.context.commit;
  const realSync = commit.syncLog;
  commit.syncLog = async () => {
    throw Object.assign(new Error('EIO: injected'), { code: 'EIO' });
  };
  await assert.rejects((await harness.store.account(userLogin)).createMailbox('Doomed'));
  commit.syncLog = realSync;

  // The SMTP listeners take 20 connections from one address (the default): the 21st is refused at accept.
  const mx = harness.server.smtp.listeners.mx!;
  const open: net.Socket[] = [];
  t.after(() => open.forEach((socket) => socket.destroy()));
  const connect = () =>
    new Promise<{ socket: net.Socket; line: string }>((resolve, reject) => {
      const socket = net.connect(mx.port, '127.0.0.1');
      open.push(socket);
      socket.setEncoding('utf8');
      socket.once('data', (line: string) => resolve({ socket, line }));
      socket.once('error', reject);
    });
  for (let index = 0; index < 20; index++) assert.match((await connect()).line, /^220 /);
  assert.match((await connect()).line, /^421 /);

  const { samples: after } = await scrape(harness);
  assert.equal(valueOf(after, 'postkeep_connections_refused_total', { protocol: 'smtp', reason: 'per_address_limit' }) - valueOf(before, 'postkeep_connections_refused_total', { protocol: 'smtp', reason: 'per_address_limit' }), 1);
  assert.ok(valueOf(after, 'postkeep_connections', { protocol: 'smtp' }) >= 20, 'the 20 open SMTP connections are in the gauge');
  assert.equal(valueOf(after, 'postkeep_outbound_queue_messages'), 1);
  open.forEach((socket) => socket.destroy());
  assert.ok(valueOf(after, 'postkeep_outbound_queue_oldest_age_seconds') >= 0);
  assert.equal(valueOf(after, 'postkeep_store_writes_refused'), 1);
  assert.equal(valueOf(after, 'postkeep_integrity_events_total', { kind: 'log_sync_failed' }) - valueOf(before, 'postkeep_integrity_events_total', { kind: 'log_sync_failed' }), 1);
  assert.equal(valueOf(after, 'postkeep_logins_total', { protocol: 'smtp', result: 'success' }) - valueOf(before, 'postkeep_logins_total', { protocol: 'smtp', result: 'success' }), 1);
});
