// The export state machine executed by aws-local-stepfunctions, every Task invoking the real Lambda
// binaries (the workspace's debug build, behind the runtime API of `cargo lambda watch`), against
// moto (S3, Secrets Manager) and the Autopilot sandbox. Started by scripts/test, which provides the
// servers and these variables:
//   LAMBDA_URL  SANDBOX_URL  SANDBOX_KEY  SANDBOX_ADMIN_TOKEN  MOTO_URL  DATA_BUCKET
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { StateMachine } from 'aws-local-stepfunctions';
import { render } from './render.mjs';
import { startFunction } from './runtime.mjs';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these tests through scripts/test`);
  return value;
};
const LAMBDA_URL = env('LAMBDA_URL');
const SANDBOX_URL = env('SANDBOX_URL');
const SANDBOX_KEY = env('SANDBOX_KEY');
const SANDBOX_ADMIN_TOKEN = env('SANDBOX_ADMIN_TOKEN');
const MOTO_URL = env('MOTO_URL');
const BUCKET = env('DATA_BUCKET');

/** Invokes a function through cargo lambda watch; a function error is rethrown with its type. */
async function invoke(fn, payload) {
  const response = await fetch(`${LAMBDA_URL}/2015-03-31/functions/${fn}/invocations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  });
  const text = await response.text();
  const body = text ? JSON.parse(text) : null;
  if (response.status >= 400 || (body && body.errorType)) {
    const error = new Error(body?.errorMessage ?? text);
    error.name = body?.errorType ?? 'Lambda.ServiceException';
    throw error;
  }
  return body;
}

/** The IAM principal API Gateway authenticated (the IAM authorizer's requestContext). */
const CALLER_ARN = 'arn:aws:iam::123456789012:user/state-machine-test';

/** An API Gateway HTTP API (payload 2.0) event for the api function. */
function httpEvent(method, path, body) {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: `req-${Math.random()}`,
      routeKey: '$default',
      stage: '$default',
      authorizer: { iam: { accountId: '123456789012', callerId: 'AIDAEXAMPLE', userArn: CALLER_ARN } },
      time: '30/Nov/2026:00:00:00 +0000',
      timeEpoch: Date.now(),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    isBase64Encoded: false,
  };
}

async function api(method, path, body) {
  const answer = await invoke('api', httpEvent(method, path, body));
  return { status: answer.statusCode, body: answer.body ? JSON.parse(answer.body) : null };
}

/** A call to the sandbox's /admin routes, with its token; a refusal is thrown. */
async function sandbox(method, path, body) {
  const response = await fetch(`${SANDBOX_URL}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${SANDBOX_ADMIN_TOKEN}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`sandbox ${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// moto checks no signatures, but treats unsigned requests as anonymous: sign as the test account.
const MOTO_AUTH = {
  authorization: 'AWS4-HMAC-SHA256 Credential=testing/20261130/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0',
};

/** A call to one of moto's JSON APIs (EventBridge, SQS), signed as the test account. */
async function motoCall(service, target, body) {
  const response = await fetch(`${MOTO_URL}/`, {
    method: 'POST',
    headers: {
      'content-type': `application/x-amz-json-${service === 'sqs' ? '1.0' : '1.1'}`,
      'x-amz-target': target,
      authorization: MOTO_AUTH.authorization.replace('/s3/', `/${service}/`),
    },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  assert.equal(response.status, 200, JSON.stringify(answer));
  return answer;
}

/** The Notify states' EventBridge integration, against moto's EventBridge (the service turns the
 * detail object into the JSON string PutEvents takes). */
async function putEvents(payload) {
  const Entries = payload.Entries.map((entry) => ({ ...entry, Detail: JSON.stringify(entry.Detail) }));
  const answer = await motoCall('events', 'AWSEvents.PutEvents', { Entries });
  assert.equal(answer.FailedEntryCount, 0, JSON.stringify(answer));
  return answer;
}

/** Routes every event from autopilot-export on the default bus to an SQS queue, as a user would
 * route them elsewhere; its URL. */
let finishedQueue;
async function routeFinishedEvents() {
  if (finishedQueue) return finishedQueue;
  const { QueueUrl } = await motoCall('sqs', 'AmazonSQS.CreateQueue', { QueueName: 'export-finished' });
  await motoCall('events', 'AWSEvents.PutRule', {
    Name: 'export-finished',
    EventPattern: JSON.stringify({ source: ['autopilot-export'], 'detail-type': ['Export Finished'] }),
  });
  await motoCall('events', 'AWSEvents.PutTargets', {
    Rule: 'export-finished',
    Targets: [{ Id: 'queue', Arn: 'arn:aws:sqs:us-east-1:123456789012:export-finished' }],
  });
  finishedQueue = QueueUrl;
  return QueueUrl;
}

/** The events the queue received for `exportId` (every message is kept here once read). */
const receivedEvents = [];
async function finishedEvents(exportId) {
  const QueueUrl = await routeFinishedEvents();
  for (;;) {
    const { Messages = [] } = await motoCall('sqs', 'AmazonSQS.ReceiveMessage', { QueueUrl, MaxNumberOfMessages: 10 });
    if (Messages.length === 0) break;
    receivedEvents.push(...Messages.map((m) => JSON.parse(m.Body)));
  }
  return receivedEvents.filter((e) => e.detail?.export_id === exportId);
}

/** Checks one export's "Export Finished" event: its schema, and nothing personal in it. */
function assertFinishedEvent(events, id, exportId, status) {
  assert.equal(events.length, 1, `one event for ${exportId}: ${JSON.stringify(events)}`);
  const [event] = events;
  assert.equal(event.source, 'autopilot-export');
  assert.equal(event['detail-type'], 'Export Finished');
  assert.deepEqual(Object.keys(event.detail).sort(), [
    'counts', 'destination_id', 'destination_name', 'duration_seconds', 'export_id', 'report_key', 'status', 'trigger',
  ]);
  assert.equal(event.detail.destination_id, id);
  assert.equal(event.detail.status, status);
  assert.equal(event.detail.report_key, `exports/${id}/${exportId}/report.json`);
  assert.ok(!JSON.stringify(event).includes('@'), 'no email address in the event');
  return event.detail;
}

async function s3Put(key, text) {
  const response = await fetch(`${MOTO_URL}/${BUCKET}/${key}`, { method: 'PUT', body: text, headers: MOTO_AUTH });
  assert.equal(response.status, 200, `moto PUT ${key}`);
}

async function s3Get(key) {
  const response = await fetch(`${MOTO_URL}/${BUCKET}/${key}`, { headers: MOTO_AUTH });
  return response.status === 200 ? response.json() : null;
}

function people(from, to) {
  let text = 'email,first,tier\n';
  for (let i = from; i < to; i += 1) text += `p${i}@example.com,P${i},${['gold', 'silver'][i % 2]}\n`;
  return text;
}

/** Connects and configures a destination whose one segment is `count` people, read from moto,
 * and `refused` more whose addresses the sandbox refuses (the reserved `.invalid` domain). */
async function destination(name, count, refused = 0) {
  const key = `snapshots/${name}.csv`;
  let snapshot = people(0, count);
  for (let i = 0; i < refused; i += 1) snapshot += `r${i}@mail.invalid,R${i},gold\n`;
  await s3Put(key, snapshot);
  const connected = await api('POST', '/destinations', {
    display_name: name,
    api_key: SANDBOX_KEY,
    consent: true,
    export_user: 'state-machine-test',
    autopilot_url: `${SANDBOX_URL}/v1`,
    requests_per_second: 200,
  });
  assert.equal(connected.status, 201, JSON.stringify(connected.body));
  const id = connected.body.destination_id;
  const configured = await api('PUT', `/destinations/${id}`, {
    data_matching: { email: 'email', first_name: 'first', custom: { 'string--Tier': 'tier' } },
    segments: [{ name: `${name} list`, source: `s3://${BUCKET}/${key}` }],
  });
  assert.equal(configured.status, 200, JSON.stringify(configured.body));
  return id;
}

/** Task state name → function, found by walking the definition (Map processors included). */
function taskFunctions(states, out = {}) {
  for (const [name, state] of Object.entries(states)) {
    if (state.Type === 'Task') out[name] = state.Resource.split(':function:')[1] ?? state.Resource;
    if (state.Type === 'Map') taskFunctions((state.ItemProcessor ?? state.Iterator).States, out);
    if (state.Type === 'Parallel') state.Branches.forEach((b) => taskFunctions(b.States, out));
  }
  return out;
}

/** Runs one execution; `wrap` may intercept a Task's invocation. Records the largest payload. */
async function execute(name, input, wrap = {}) {
  const definition = render(4);
  const calls = {};
  let largest = JSON.stringify(input).length;
  const handlers = {};
  for (const [state, fn] of Object.entries(taskFunctions(definition.States))) {
    handlers[state] = async (payload) => {
      calls[state] = (calls[state] ?? 0) + 1;
      largest = Math.max(largest, JSON.stringify(payload).length);
      const call = () => (fn === 'arn:aws:states:::events:putEvents' ? putEvents(payload) : invoke(fn, payload));
      const result = wrap[state] ? await wrap[state](payload, call) : await call();
      largest = Math.max(largest, JSON.stringify(result).length);
      return result;
    };
  }
  const machine = new StateMachine(definition);
  const execution = machine.run(input, {
    overrides: {
      taskResourceLocalHandlers: handlers,
      retryIntervalOverrides: { Plan: 10, Upload: 10, Finalize: 10, 'Record failure': 10, Verify: 10, 'Record verify failure': 10 },
    },
    context: { Execution: { Name: name } },
  });
  let result;
  let error;
  try {
    result = await execution.result;
    largest = Math.max(largest, JSON.stringify(result).length);
  } catch (e) {
    error = e;
  }
  return { result, error, calls, largest };
}

async function members(list) {
  const state = await sandbox('GET', '/admin/state');
  return new Set(state.lists.find((l) => l.title === list)?.members ?? []);
}

before(async () => {
  // Events put before their rule exists go nowhere: route them first.
  await routeFinishedEvents();
  // Each function answers once before the first test (an invoke waits until its function polls).
  for (const fn of ['api', 'export', 'upload-chunk', 'finalize', 'scheduler']) {
    await invoke(fn, {}).catch(() => {});
  }
});

test('a 10,000-profile export ends with the sandbox holding exactly the list', async () => {
  await sandbox('POST', '/admin/reset');
  const id = await destination('Happy', 10_000);
  const started = Date.now();
  const run = await execute(`${id}-happy`, { destination_id: id, trigger: 'api' });
  assert.equal(run.error, undefined, String(run.error));
  assert.equal(run.result.report.status, 'succeeded');
  const listed = await members('Happy list');
  assert.equal(listed.size, 10_000);
  const counters = await sandbox('GET', '/admin/counters');
  assert.equal(counters.contacts_written, 10_000, 'nothing sent twice');
  const report = await s3Get(`exports/${id}/${id}-happy/report.json`);
  assert.equal(report.totals.sent, 10_000);
  assert.equal(report.trigger, 'api', 'what started the export travels through the state machine');
  const event = assertFinishedEvent(await finishedEvents(`${id}-happy`), id, `${id}-happy`, 'succeeded');
  assert.equal(event.destination_name, 'Happy');
  assert.equal(event.trigger, 'api');
  assert.equal(event.counts.sent, 10_000);
  console.log(`happy path: ${(Date.now() - started) / 1000}s, ${run.calls.Upload} upload invocations, largest state payload ${run.largest} bytes`);
  assert.ok(run.largest < 16 * 1024, `payloads stay small (${run.largest} bytes)`);
});

test('contacts refused by Autopilot end the execution in ExportPartiallySucceeded, not a success', async () => {
  await sandbox('POST', '/admin/reset');
  const id = await destination('Refused', 2_000, 7);
  const run = await execute(`${id}-refused`, { destination_id: id });
  assert.ok(run.error, 'the execution failed, so the failed-exports alarm sees it');
  assert.equal(run.error.cause?.name, 'ExportPartiallySucceeded', String(run.error));
  assert.ok(run.error.cause.message.includes(`exports/${id}/${id}-refused/report.json`), run.error.cause.message);
  assert.doesNotMatch(run.error.cause.message, /@/, 'the cause names no address');
  assert.equal(run.calls['Record failure'], undefined, 'finalized once, as a report');
  const report = await s3Get(`exports/${id}/${id}-refused/report.json`);
  assert.equal(report.status, 'partially_succeeded');
  assert.equal(report.totals.rejected, 7);
  assert.equal(report.totals.sent, 2_000);
  assert.equal((await members('Refused list')).size, 2_000);
  // The destination is free again for the next export.
  assert.equal(await s3Get(`exports/${id}/running.json`), null);
});

test("an outage longer than the function's budget ends each upload with done: false before its timeout, and the export finishes after it", async () => {
  await sandbox('POST', '/admin/reset');
  const id = await destination('Outage', 2_000);
  // upload-chunk as Lambda runs it with a 20 s timeout (its budget: 16 s); the outage lasts 45 s.
  const timeoutMs = 20_000;
  const binary = new URL('../../target/debug/upload-chunk', import.meta.url).pathname;
  const upload = await startFunction(binary, 'upload-chunk', { timeoutMs });
  const answers = [];
  let run;
  try {
    run = await execute(`${id}-outage`, { destination_id: id }, {
      Plan: async (payload, call) => {
        const planned = await call();
        await sandbox('PUT', '/admin/faults', { outage_after_ms: 0, outage_ms: 45_000 });
        return planned;
      },
      Upload: async (payload) => {
        const answer = await upload.invoke(payload);
        answers.push(answer);
        return answer;
      },
    });
  } finally {
    await upload.stop();
    await sandbox('PUT', '/admin/faults', {});
  }
  assert.equal(run.error, undefined, String(run.error));
  const paused = answers.filter((a) => a.done === false);
  assert.ok(paused.length >= 2, `each chunk paused at least once: ${JSON.stringify(answers)}`);
  const longest = Math.max(...upload.durations);
  assert.ok(longest < timeoutMs, `every invocation answered before its timeout (longest ${longest} ms)`);
  console.log(`outage: ${answers.length} upload invocations, ${paused.length} paused, longest ${longest} ms of ${timeoutMs}`);
  assert.equal(run.result.report.status, 'succeeded');
  assert.equal((await members('Outage list')).size, 2_000);
  assert.equal((await sandbox('GET', '/admin/counters')).contacts_written, 2_000, 'nothing sent twice');
});

test('a chunk that fails after others landed ends the execution in ExportPartiallySucceeded', async () => {
  await sandbox('POST', '/admin/reset');
  const id = await destination('Stopped', 3_000);
  const landed = [];
  let release;
  const othersLanded = new Promise((resolve) => { release = resolve; });
  const run = await execute(`${id}-stopped`, { destination_id: id }, {
    // Chunks 0 and 1 land; then the key is revoked, and chunk 2 fails on it (not retried).
    Upload: async (payload, call) => {
      if (payload.chunk === 2) {
        await othersLanded;
        await sandbox('PUT', '/admin/keys', { api_keys: ['another-key'] });
        return call();
      }
      const answer = await call();
      landed.push(payload.chunk);
      if (landed.length === 2) release();
      return answer;
    },
  });
  await sandbox('PUT', '/admin/keys', { api_keys: [SANDBOX_KEY] });
  assert.equal(run.error?.cause?.name, 'ExportPartiallySucceeded', String(run.error));
  assert.match(run.error.cause.message, /2000 contacts landed before it stopped on an error \(Unauthorized\)/);
  assert.doesNotMatch(run.error.cause.message, /@/, 'the cause names no address');
  assert.equal(run.calls['Record failure'], 1);
  const report = await s3Get(`exports/${id}/${id}-stopped/report.json`);
  assert.equal(report.status, 'partially_succeeded');
  assert.equal(report.totals.sent, 2_000);
  assertFinishedEvent(await finishedEvents(`${id}-stopped`), id, `${id}-stopped`, 'partially_succeeded');
});

test('a throttling storm still converges', async () => {
  await sandbox('POST', '/admin/reset');
  const id = await destination('Storm', 3_000);
  await sandbox('PUT', '/admin/faults', { throttle_burst_rate: 0.05, throttle_burst_ms: 800, seed: 5 });
  const run = await execute(`${id}-storm`, { destination_id: id });
  await sandbox('PUT', '/admin/faults', {});
  assert.equal(run.error, undefined, String(run.error));
  assert.equal(run.result.report.status, 'succeeded');
  assert.equal((await members('Storm list')).size, 3_000);
  const counters = await sandbox('GET', '/admin/counters');
  assert.ok(counters.throttled > 0, 'the storm happened');
});

test('a chunk whose Lambda fails once is retried without duplicates', async () => {
  await sandbox('POST', '/admin/reset');
  const id = await destination('Flaky', 4_500);
  let failed = false;
  const run = await execute(`${id}-flaky`, { destination_id: id }, {
    // The chunk's work is done, then the function "times out": the retry must send nothing again.
    Upload: async (payload, call) => {
      const result = await call();
      if (payload.chunk === 2 && !failed) {
        failed = true;
        const error = new Error('Task timed out');
        error.name = 'Lambda.ServiceException';
        throw error;
      }
      return result;
    },
  });
  assert.equal(run.error, undefined, String(run.error));
  assert.ok(failed);
  assert.equal(run.calls.Upload, 6, 'five chunks, one retried');
  assert.equal((await members('Flaky list')).size, 4_500);
  const counters = await sandbox('GET', '/admin/counters');
  assert.equal(counters.contacts_written, 4_500, 'the retried chunk was not sent twice');
});

test('a revoked key fails the execution with a clear reason and no retry loop', async () => {
  await sandbox('POST', '/admin/reset');
  const id = await destination('Revoked', 3_000);
  await sandbox('PUT', '/admin/keys', { api_keys: ['another-key'] });
  const run = await execute(`${id}-revoked`, { destination_id: id });
  await sandbox('PUT', '/admin/keys', { api_keys: [SANDBOX_KEY] });
  assert.ok(run.error, 'the execution failed');
  assert.equal(run.error.cause?.name, 'ExportFailed', String(run.error));
  assert.match(run.error.cause?.message ?? '', /rejected the API key/);
  const report = await s3Get(`exports/${id}/${id}-revoked/report.json`);
  assert.equal(report.status, 'failed');
  assert.equal(report.failure.error_type, 'Unauthorized');
  assert.match(report.failure.message, /rejected the API key/);
  assertFinishedEvent(await finishedEvents(`${id}-revoked`), id, `${id}-revoked`, 'failed');
  const counters = await sandbox('GET', '/admin/counters');
  assert.ok(counters.unauthorized <= 2, `no retry loop (${counters.unauthorized} refused requests)`);
  // The destination is free again for the next export.
  assert.equal(await s3Get(`exports/${id}/running.json`), null);
});

test('malformed events get a fatal error type, never a retry', async () => {
  for (const [fn, payload] of [['export', { nonsense: true }], ['upload-chunk', 'x'], ['finalize', {}]]) {
    await assert.rejects(invoke(fn, payload), (e) => e.name === 'InvalidInput', fn);
  }
  const unknown = await execute('nobody-here', { destination_id: 'nobody-here' });
  assert.equal(unknown.error?.cause?.name, 'ExportFailed');
  assert.match(unknown.error.cause.message, /no destination 'nobody-here'/);
  assert.equal(unknown.calls.Upload, undefined);
});

test('the schedule starts one export per enabled destination, once per event', async () => {
  const id = await destination('Scheduled', 10);
  const enabled = await api('PUT', `/destinations/${id}`, {
    data_matching: { email: 'email' },
    segments: [{ name: 'Scheduled list', source: `s3://${BUCKET}/snapshots/Scheduled.csv` }],
    schedule: { enabled: true },
  });
  assert.equal(enabled.status, 200, JSON.stringify(enabled.body));
  const event = { id: 'a1b2c3d4-0000-4000-8000-000000000001', 'detail-type': 'Scheduled Event', source: 'aws.events', time: '2026-11-30T17:00:00Z', detail: {} };
  const first = await invoke('scheduler', event);
  const name = `${id}-20261130T170000Z-sched-${event.id}`.slice(0, 80);
  assert.deepEqual(first.started, [name]);
  const again = await invoke('scheduler', event);
  assert.deepEqual(again.started, [], 'a duplicated event starts nothing');
  assert.deepEqual(again.already_started, [name]);
  await assert.rejects(invoke('scheduler', {}), (e) => e.name === 'InvalidInput');
});

test('the API records the calling IAM principal and refuses a host the stack did not allow', async () => {
  const body = { display_name: 'Principal', api_key: SANDBOX_KEY, consent: true, autopilot_url: `${SANDBOX_URL}/v1` };
  const connected = await api('POST', '/destinations', body);
  assert.equal(connected.status, 201, JSON.stringify(connected.body));
  const read = await api('GET', `/destinations/${connected.body.destination_id}`);
  assert.equal(read.body.consent.export_user, CALLER_ARN);
  const elsewhere = { ...body, display_name: 'Elsewhere', autopilot_url: 'https://attacker.example/v1' };
  const refused = await api('POST', '/destinations', elsewhere);
  assert.equal(refused.status, 400, JSON.stringify(refused.body));
  assert.match(refused.body.message, /AllowedAutopilotHosts/);
  assert.equal((await api('GET', '/destinations/elsewhere')).status, 404);
});

test('a destination stored outside the boundary fails in Plan, before anything is read or sent', async () => {
  await sandbox('POST', '/admin/reset');
  await s3Put('snapshots/Outside.csv', people(0, 10));
  // Written by hand, as one connected before the boundary was enforced would be.
  await s3Put('destinations/outside.json', JSON.stringify({
    id: 'outside', display_name: 'Outside', autopilot_url: 'https://attacker.example/v1', account_name: null,
    consent: { agreed_at: '2026-01-01T00:00:00Z', export_user: 'someone' }, created_at: '2026-01-01T00:00:00Z',
    data_matching: { email: 'email' }, segments: [{ name: 'Outside list', source: `s3://${BUCKET}/snapshots/Outside.csv` }],
  }));
  const run = await execute('outside-plan', { destination_id: 'outside' });
  assert.equal(run.error?.cause?.name, 'ExportFailed', String(run.error));
  assert.match(run.error.cause.message, /AllowedAutopilotHosts/);
  assert.equal(run.calls.Upload, undefined);
  assert.equal((await sandbox('GET', '/admin/counters')).requests, 0);
  // Finalized as failed by Record failure, then announced like every other finished export.
  const event = assertFinishedEvent(await finishedEvents('outside-plan'), 'outside', 'outside-plan', 'failed');
  assert.equal(event.trigger, null, 'no plan, so nothing recorded what started it');
});

test('a verification started through the API runs in budgeted steps and ends with its result in the store', async () => {
  await sandbox('POST', '/admin/reset');
  const id = await destination('Verified', 450);
  const exported = await execute(`${id}-exported`, { destination_id: id });
  assert.equal(exported.error, undefined, String(exported.error));
  // By hand: 4 members taken off the list, 2 contacts unsubscribed.
  const list = (await sandbox('GET', '/admin/state')).lists.find((l) => l.title === 'Verified list');
  for (const i of [3, 100, 250, 449]) await sandbox('DELETE', `/admin/lists/${list.list_id}/members/p${i}@example.com`);
  for (const i of [7, 8]) await sandbox('POST', `/admin/contacts/p${i}@example.com/unsubscribe`);

  const started = await api('POST', `/destinations/${id}/verify`, { repair: false });
  assert.equal(started.status, 202, JSON.stringify(started.body));
  const vid = started.body.verification_id;
  assert.equal(started.body.status_url, `/destinations/${id}/verifications/${vid}`);
  const again = await api('POST', `/destinations/${id}/verify`, {});
  assert.equal(again.status, 409, 'one verification of a destination at a time');
  const pending = await api('GET', started.body.status_url);
  assert.equal(pending.body.status, 'running', JSON.stringify(pending.body));

  // The execution the API started (moto records it; the engine runs it), forced to two pages a step.
  const run = await execute(vid, { job: 'verify', destination_id: id, repair: false, step_pages: 2 });
  assert.equal(run.error, undefined, String(run.error));
  assert.ok(run.calls.Verify >= 3, `five pages at two a step loop at least three times (${run.calls.Verify})`);
  assert.equal(run.calls.Plan, undefined, 'a verification plans no export');
  const record = await s3Get(`state/${id}/verification/${vid}.json`);
  assert.equal(record.status, 'succeeded');
  const [found] = record.result.lists;
  assert.deepEqual([found.expected, found.present, found.missing, found.unsubscribed, found.foreign], [450, 446, 4, 2, 0]);
  assert.equal(await s3Get(`state/${id}/verification/running.json`), null, 'the destination is free again');
  const read = await api('GET', started.body.status_url);
  assert.equal(read.body.status, 'succeeded', JSON.stringify(read.body));
  assert.equal(read.body.lists[0].missing, 4);
  assert.equal(read.body.in_place, false);
  assert.ok(!JSON.stringify(read.body).includes('p3@'), 'addresses are masked');
  console.log(`verify: ${run.calls.Verify} steps, largest state payload ${run.largest} bytes`);
  assert.ok(run.largest < 16 * 1024, `payloads stay small (${run.largest} bytes)`);
});

test('a verification that cannot read Autopilot fails with its reason recorded, no retry loop', async () => {
  await sandbox('POST', '/admin/reset');
  const id = await destination('Unverified', 20);
  const exported = await execute(`${id}-exported`, { destination_id: id });
  assert.equal(exported.error, undefined, String(exported.error));
  await sandbox('PUT', '/admin/keys', { api_keys: ['another-key'] });
  const vid = `${id}-verify-revoked`;
  const run = await execute(vid, { job: 'verify', destination_id: id });
  await sandbox('PUT', '/admin/keys', { api_keys: [SANDBOX_KEY] });
  assert.equal(run.error?.cause?.name, 'VerifyFailed', String(run.error));
  assert.equal(run.calls.Verify, 1, 'Unauthorized is not retried');
  assert.equal(run.calls['Record verify failure'], 1);
  const read = await api('GET', `/destinations/${id}/verifications/${vid}`);
  assert.equal(read.body.status, 'failed', JSON.stringify(read.body));
  assert.equal(read.body.failure.error_type, 'Unauthorized');
  assert.match(read.body.failure.message, /rejected the API key/);
});
