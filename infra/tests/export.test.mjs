// Exports run by the export state machine on aws-local-stepfunctions, every Task invoking the real
// Lambda binaries (the workspace's debug build, behind the runtime API of `cargo lambda watch`),
// against moto (S3, Secrets Manager) and the Autopilot sandbox: the happy path and what ends an
// execution otherwise — refused contacts, an outage longer than a function's budget, a chunk that
// stops after others landed, throttling, a Lambda that fails once, a revoked key. Started by
// scripts/test (see harness.mjs for the servers and variables).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  SANDBOX_KEY, api, sandbox, finishedEvents, assertFinishedEvent, s3Get, destination,
  execute, members, warmUp,
} from './harness.mjs';
import { startFunction } from './runtime.mjs';

before(warmUp);

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
