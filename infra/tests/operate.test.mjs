// What surrounds the exports on the AWS path, on the same engine, functions and servers as
// export.test.mjs: malformed events, the schedule, the API's caller and boundary, a destination
// stored outside the boundary, and verifications started through the API. Started by
// scripts/test (see harness.mjs).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  SANDBOX_URL, SANDBOX_KEY, BUCKET, CALLER_ARN, invoke, api, sandbox, finishedEvents,
  assertFinishedEvent, s3Put, s3Get, people, destination, execute, members, warmUp,
} from './harness.mjs';

before(warmUp);

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
