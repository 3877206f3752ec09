// The AWS path, unchanged, for an Ortto destination: connected through the API function with
// `api: "ortto"` and the Ortto sandbox's URL (an origin the deployment allows, as a stack's
// AllowedAutopilotHosts would), exported by the same state machine and functions as an Autopilot
// destination, and checked in the Ortto sandbox's own state (/admin/state: each person's tags and
// fields) and counters. Started by scripts/test, which starts the Ortto sandbox beside the Autopilot
// one (see harness.mjs for the variables).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  env, BUCKET, api, adminOf, s3Put, s3Get, execute, finishedEvents, assertFinishedEvent, warmUp,
} from './harness.mjs';

const ORTTO_URL = env('ORTTO_SANDBOX_URL');
const ORTTO_KEY = env('ORTTO_SANDBOX_KEY');
const ortto = adminOf(ORTTO_URL, env('ORTTO_SANDBOX_ADMIN_TOKEN'));

const ALL = 'Ortto everyone';
const GOLD = 'Ortto gold';
const PEOPLE = 600;
/** An address on the Ortto account's suppression list: Ortto will not create it. */
const HELD = 'held@example.com';

const email = (i) => `p${i}@example.com`;
const tier = (i) => (i % 2 === 0 ? 'gold' : 'silver');
const row = (i) => `${email(i)},P${i},${tier(i)}\n`;

/** Everyone (plus a row without an address, a suppressed address and a duplicate row), and the
 * gold tier but `leavers`. */
function snapshots(leavers = new Set()) {
  let everyone = 'email,first,tier\n';
  for (let i = 0; i < PEOPLE; i += 1) everyone += row(i);
  everyone += `broken,B,gold\n${HELD},H,gold\n${row(1)}`;
  let gold = 'email,first,tier\n';
  for (let i = 0; i < PEOPLE; i += 2) if (!leavers.has(i)) gold += row(i);
  return { everyone, gold };
}

async function putSnapshots(leavers) {
  const { everyone, gold } = snapshots(leavers);
  await s3Put('snapshots/ortto-everyone.csv', everyone);
  await s3Put('snapshots/ortto-gold.csv', gold);
}

/** Connects an Ortto destination through the API and gives it both segments. */
async function orttoDestination(name) {
  const connected = await api('POST', '/destinations', {
    display_name: name,
    api: 'ortto',
    api_key: ORTTO_KEY,
    api_url: ORTTO_URL,
    consent: true,
    requests_per_second: 200,
  });
  assert.equal(connected.status, 201, JSON.stringify(connected.body));
  const id = connected.body.destination_id;
  const configured = await api('PUT', `/destinations/${id}`, {
    data_matching: { email: 'email', first_name: 'first', custom: { 'string--Tier': 'tier' } },
    segments: [
      { name: ALL, source: `s3://${BUCKET}/snapshots/ortto-everyone.csv` },
      { name: GOLD, source: `s3://${BUCKET}/snapshots/ortto-gold.csv` },
    ],
  });
  assert.equal(configured.status, 200, JSON.stringify(configured.body));
  assert.equal(configured.body.api, 'ortto', JSON.stringify(configured.body));
  return id;
}

/** Every row in exactly one bucket. */
function assertAddsUp(counts, what) {
  const buckets = ['sent', 'unchanged', 'invalid', 'duplicates', 'rejected', 'suppressed', 'unsent'];
  const sum = buckets.reduce((total, bucket) => total + counts[bucket], 0);
  assert.equal(sum, counts.rows_read, `${what}: ${JSON.stringify(counts)}`);
}

/** Runs one export of `id` through the state machine; its report, after checking that it
 * succeeded, adds up, and was announced. */
async function exportOnce(id, name) {
  const exportId = `${id}-${name}`;
  const run = await execute(exportId, { destination_id: id, trigger: 'api' });
  assert.equal(run.error, undefined, String(run.error));
  assert.equal(run.result.report.status, 'succeeded', JSON.stringify(run.result.report));
  assert.ok(run.largest < 16 * 1024, `payloads stay small (${run.largest} bytes)`);
  const report = await s3Get(`exports/${id}/${exportId}/report.json`);
  assert.equal(report.api, 'ortto');
  assertAddsUp(report.totals, 'totals');
  for (const segment of report.segments) assertAddsUp(segment, segment.name);
  const event = assertFinishedEvent(await finishedEvents(exportId), id, exportId, 'succeeded', 'ortto');
  assert.equal(event.counts.suppressed, report.totals.suppressed, 'the event counts suppressed people');
  return { report, run };
}

/** Each person in the Ortto sandbox: address → { tags (sorted), fields, subscribed }. */
async function orttoPeople() {
  const state = await ortto('GET', '/admin/state');
  return new Map(state.contacts.map((p) => [p.email, { ...p, tags: [...p.tags].sort() }]));
}

/** The merges the Ortto sandbox received so far. */
async function merges() {
  const counters = await ortto('GET', '/admin/counters');
  return counters.by_endpoint['/v1/person/merge'] ?? 0;
}

before(warmUp);

test('an Ortto destination exports through the state machine: each person tagged with exactly their segments, consent untouched, a rerun writes nobody again', async () => {
  await ortto('POST', '/admin/reset');
  await ortto('PUT', `/admin/suppressions/${HELD}`);
  await putSnapshots();
  const id = await orttoDestination('Ortto on AWS');

  const started = Date.now();
  const { report, run } = await exportOnce(id, 'first');
  const [everyone, gold] = report.segments;
  assert.deepEqual([everyone.name, gold.name], [ALL, GOLD]);
  assert.deepEqual(
    [everyone.rows_read, everyone.sent, everyone.invalid, everyone.suppressed, everyone.duplicates],
    [PEOPLE + 3, PEOPLE, 1, 1, 1],
  );
  assert.deepEqual([gold.rows_read, gold.sent], [PEOPLE / 2, PEOPLE / 2]);
  const people = await orttoPeople();
  assert.equal(people.size, PEOPLE, 'everyone with an address but the suppressed one, once');
  assert.ok(!people.has(HELD), 'Ortto created no suppressed address');
  for (let i = 0; i < PEOPLE; i += 1) {
    const person = people.get(email(i));
    assert.ok(person, email(i));
    assert.deepEqual(person.tags, tier(i) === 'gold' ? [ALL, GOLD] : [ALL], email(i));
    assert.equal(person.fields['str::first'], `P${i}`);
    assert.equal(person.fields['str:cm:tier'], tier(i));
    assert.equal(person['bol::p'], true, 'subscribed as Ortto makes people, by its own default');
  }
  const counters = await ortto('GET', '/admin/counters');
  assert.equal(counters.consent_fields_received, 0, 'no consent field, no /audience/subscribe');
  assert.equal(counters.empty_values_received, 0, 'no empty value sent');
  const sentMerges = await merges();
  // 100 people a merge: ⌈601 / 100⌉ for everyone (the suppressed address is sent; Ortto keeps it
  // out), ⌈300 / 100⌉ for gold.
  assert.equal(sentMerges, 10, JSON.stringify(counters.by_endpoint));
  console.log(`ortto: ${(Date.now() - started) / 1000}s, ${run.calls.Upload} upload invocations, ${sentMerges} merges, largest state payload ${run.largest} bytes`);

  const written = counters.contacts_written;
  assert.equal(written, PEOPLE + PEOPLE / 2);

  // Unchanged snapshots: nobody is sent again. Only the suppressed address, never written, is
  // offered again (Ortto may have lifted its suppression), alone in one merge.
  const again = await exportOnce(id, 'again');
  assert.equal(again.report.totals.sent, 0, JSON.stringify(again.report.totals));
  assert.equal(again.report.totals.unchanged, PEOPLE + PEOPLE / 2);
  assert.equal(again.report.totals.suppressed, 1);
  assert.equal((await ortto('GET', '/admin/counters')).contacts_written, written, 'nobody written again');
  assert.equal(await merges(), sentMerges + 1, 'one merge, of the suppressed address');

  // Ten people leave the gold tier: their tag is taken off in one merge; they stay, still tagged
  // with everyone's.
  const leavers = new Set([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
  await putSnapshots(leavers);
  const left = await exportOnce(id, 'left');
  assert.equal(left.report.totals.removed, leavers.size, JSON.stringify(left.report.totals));
  assert.equal(left.report.totals.sent, 0);
  assert.equal((await ortto('GET', '/admin/counters')).contacts_written, written + leavers.size);
  assert.equal(await merges(), sentMerges + 3, 'ten removals in one merge, the suppressed address in another');
  const after = await orttoPeople();
  assert.equal(after.size, PEOPLE, 'nobody deleted');
  for (const i of leavers) assert.deepEqual(after.get(email(i)).tags, [ALL], email(i));
  assert.deepEqual(after.get(email(20)).tags, [ALL, GOLD]);
  assert.equal((await ortto('GET', '/admin/counters')).consent_fields_received, 0);
});

test("Ortto's regional hosts are allowed without configuration, and another host of theirs is refused", async () => {
  const body = { display_name: 'Ortto elsewhere', api: 'ortto', api_key: ORTTO_KEY, consent: true };
  const refused = await api('POST', '/destinations', { ...body, api_url: 'https://api.us.ap3api.com' });
  assert.equal(refused.status, 400, JSON.stringify(refused.body));
  const { message } = refused.body;
  assert.match(message, /AllowedAutopilotHosts/);
  // The refusal lists what the deployment sends to: every region's host, with nothing configured.
  for (const host of ['https://api.ap3api.com', 'https://api.au.ap3api.com', 'https://api.eu.ap3api.com']) {
    assert.ok(message.includes(`${host},`) || message.includes(`${host} `), `${host} in: ${message}`);
  }
  assert.equal((await api('GET', '/destinations/ortto-elsewhere')).status, 404, 'nothing stored');
});
