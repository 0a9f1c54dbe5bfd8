import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { login, password, startTestServer } from './server-harness.js';

// Python's imaplib: STARTTLS on the cleartext port, then the everyday commands.
const script = String.raw`
import imaplib, json, ssl, sys
port, user, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3]
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
out = {}
client = imaplib.IMAP4('127.0.0.1', port)
out['before'] = 'LOGINDISABLED' in client.capabilities
client.starttls(ssl_context=context)
client.login(user, secret)
typ, data = client.append('INBOX', '(\\Flagged)', None, b'Subject: from python\r\n\r\nhello\r\n')
out['append'] = data[0].decode()
typ, data = client.select('INBOX')
out['exists'] = int(data[0])
typ, data = client.fetch('1', '(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
out['fetch'] = [part.decode() if isinstance(part, bytes) else [p.decode() for p in part] for part in data]
typ, data = client.store('1', '+FLAGS', '(\\Deleted)')
out['store'] = data[0].decode()
typ, data = client.expunge()
out['expunge'] = [part.decode() for part in data]
typ, data = client.list()
out['list'] = sorted(part.decode() for part in data)
client.logout()
print(json.dumps(out))
`;

test('Python imaplib: STARTTLS, LOGIN, APPEND, SELECT, FETCH, STORE, EXPUNGE, LIST', async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  const child = spawn('python3', ['-c', script, String(server.port), login, password], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, stderr);
  const result = JSON.parse(stdout);
  assert.equal(result.before, true);
  assert.match(result.append, /^\[APPENDUID \d+ 1\]/);
  assert.equal(result.exists, 1);
  assert.deepEqual(result.fetch[0], ['1 (FLAGS (\\Recent \\Flagged) BODY[HEADER.FIELDS (SUBJECT)] {24}', 'Subject: from python\r\n\r\n']);
  assert.equal(result.store, '1 (FLAGS (\\Recent \\Deleted \\Flagged))');
  assert.deepEqual(result.expunge, ['1']);
  assert.ok(result.list.includes('(\\HasNoChildren \\Sent) "/" Sent') || result.list.includes('(\\HasNoChildren \\Sent) "/" "Sent"'), JSON.stringify(result.list));
});
