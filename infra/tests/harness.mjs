// What the state-machine tests share: the servers scripts/test started (through these
// variables), the Lambda functions behind `cargo lambda watch`, the sandboxes' /admin routes, moto's
// S3, EventBridge and SQS, and one execution of the export state machine in aws-local-stepfunctions
// with every Task invoking the real function binaries.
//   LAMBDA_URL  SANDBOX_URL  SANDBOX_KEY  SANDBOX_ADMIN_TOKEN  MOTO_URL  DATA_BUCKET
// (and, for the Ortto tests, ORTTO_SANDBOX_URL  ORTTO_SANDBOX_KEY  ORTTO_SANDBOX_ADMIN_TOKEN)
import assert from 'node:assert/strict';
import { StateMachine } from 'aws-local-stepfunctions';
import { render } from './render.mjs';

/** A variable scripts/test sets; a clear error when a test is run without it. */
export const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these tests through scripts/test`);
  return value;
};
export const LAMBDA_URL = env('LAMBDA_URL');
export const SANDBOX_URL = env('SANDBOX_URL');
export const SANDBOX_KEY = env('SANDBOX_KEY');
export const SANDBOX_ADMIN_TOKEN = env('SANDBOX_ADMIN_TOKEN');
export const MOTO_URL = env('MOTO_URL');
export const BUCKET = env('DATA_BUCKET');

/** Invokes a function through cargo lambda watch; a function error is rethrown with its type. */
export async function invoke(fn, payload) {
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
export const CALLER_ARN = 'arn:aws:iam::123456789012:user/state-machine-test';

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

export async function api(method, path, body) {
  const answer = await invoke('api', httpEvent(method, path, body));
  return { status: answer.statusCode, body: answer.body ? JSON.parse(answer.body) : null };
}

/** The /admin routes of the sandbox at `url`, with its token: a function (method, path, body)
 * answering the decoded body; a refusal is thrown. */
export function adminOf(url, token) {
  return async (method, path, body) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`sandbox ${method} ${path}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
}

/** The Autopilot sandbox's /admin routes. */
export const sandbox = adminOf(SANDBOX_URL, SANDBOX_ADMIN_TOKEN);

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
export async function finishedEvents(exportId) {
  const QueueUrl = await routeFinishedEvents();
  for (;;) {
    const { Messages = [] } = await motoCall('sqs', 'AmazonSQS.ReceiveMessage', { QueueUrl, MaxNumberOfMessages: 10 });
    if (Messages.length === 0) break;
    receivedEvents.push(...Messages.map((m) => JSON.parse(m.Body)));
  }
  return receivedEvents.filter((e) => e.detail?.export_id === exportId);
}

/**
 * Checks one export's "Export Finished" event: its schema, the API it went to (`autopilot` unless
 * said), and nothing personal in it.
 */
export function assertFinishedEvent(events, id, exportId, status, apiKind = 'autopilot') {
  assert.equal(events.length, 1, `one event for ${exportId}: ${JSON.stringify(events)}`);
  const [event] = events;
  assert.equal(event.source, 'autopilot-export');
  assert.equal(event['detail-type'], 'Export Finished');
  assert.deepEqual(Object.keys(event.detail).sort(), [
    'api', 'counts', 'destination_id', 'destination_name', 'duration_seconds', 'export_id', 'report_key', 'status',
    'trigger',
  ]);
  assert.equal(event.detail.api, apiKind);
  assert.equal(event.detail.destination_id, id);
  assert.equal(event.detail.status, status);
  assert.equal(event.detail.report_key, `exports/${id}/${exportId}/report.json`);
  assert.ok(!JSON.stringify(event).includes('@'), 'no email address in the event');
  return event.detail;
}

export async function s3Put(key, text) {
  const response = await fetch(`${MOTO_URL}/${BUCKET}/${key}`, { method: 'PUT', body: text, headers: MOTO_AUTH });
  assert.equal(response.status, 200, `moto PUT ${key}`);
}

export async function s3Get(key) {
  const response = await fetch(`${MOTO_URL}/${BUCKET}/${key}`, { headers: MOTO_AUTH });
  return response.status === 200 ? response.json() : null;
}

export function people(from, to) {
  let text = 'email,first,tier\n';
  for (let i = from; i < to; i += 1) text += `p${i}@example.com,P${i},${['gold', 'silver'][i % 2]}\n`;
  return text;
}

/** Connects and configures a destination whose one segment is `count` people, read from moto,
 * and `refused` more whose addresses the sandbox refuses (the reserved `.invalid` domain). */
export async function destination(name, count, refused = 0) {
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
export async function execute(name, input, wrap = {}) {
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

export async function members(list) {
  const state = await sandbox('GET', '/admin/state');
  return new Set(state.lists.find((l) => l.title === list)?.members ?? []);
}

/** Before a file's first test: events routed (those put before their rule exists go nowhere), and
 * each function answered once (an invoke waits until its function polls). */
export async function warmUp() {
  await routeFinishedEvents();
  for (const fn of ['api', 'export', 'upload-chunk', 'finalize', 'scheduler']) {
    await invoke(fn, {}).catch(() => {});
  }
}
