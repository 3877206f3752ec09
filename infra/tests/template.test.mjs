// What the SAM template configures, read from infra/template.yaml (no servers needed): snapshots
// readable only under SnapshotPrefix, function logs that expire at LogRetentionDays, the log level
// Lambda applies, and the deployment's boundary (AllowedAutopilotHosts, SnapshotBucket,
// SnapshotPrefix) reaching the code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

const FUNCTIONS = ['Ref', 'Sub', 'GetAtt', 'Join', 'If', 'Select', 'Split', 'Equals', 'Not'];
const customTags = FUNCTIONS.flatMap((name) => {
  const key = name === 'Ref' ? 'Ref' : `Fn::${name}`;
  return [
    { tag: `!${name}`, resolve: (value) => ({ [key]: value }) },
    { tag: `!${name}`, collection: 'seq', resolve: (seq) => ({ [key]: seq.toJSON() }) },
  ];
});
const template = parse(readFileSync(new URL('../template.yaml', import.meta.url), 'utf8'), {
  customTags,
  merge: true,
});
const resources = template.Resources;
const functions = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Serverless::Function');

test('every function logs to a group of its own that expires, and Lambda drops logs below INFO', () => {
  const logging = template.Globals.Function.LoggingConfig;
  assert.equal(logging.LogFormat, 'JSON', 'level filtering needs the JSON log format');
  assert.equal(logging.ApplicationLogLevel, 'INFO');
  assert.ok(['INFO', 'WARN'].includes(logging.SystemLogLevel));
  assert.match(template.Globals.Function.Environment.Variables.RUST_LOG, /^(info|warn|error)$/);
  const groups = new Set();
  for (const [name, fn] of functions) {
    const group = fn.Properties.LoggingConfig?.LogGroup?.Ref;
    assert.ok(group, `${name} names its log group`);
    assert.equal(resources[group]?.Type, 'AWS::Logs::LogGroup', name);
    assert.deepEqual(resources[group].Properties.RetentionInDays, { Ref: 'LogRetentionDays' }, name);
    groups.add(group);
  }
  assert.equal(groups.size, functions.length, 'one group per function');
});

test('snapshots are readable only under SnapshotBucket/SnapshotPrefix, and only where segments are read', () => {
  for (const [name, fn] of functions) {
    const reads = JSON.stringify(fn.Properties.Policies).match(/[^"]*SnapshotBucket[^"]*/g) ?? [];
    const expected = ['ConnectFunction', 'ExportFunction'].includes(name)
      ? ['arn:${AWS::Partition}:s3:::${SnapshotBucket}/${SnapshotPrefix}*']
      : [];
    assert.deepEqual(reads, expected, name);
  }
});

test("the deployment's boundary reaches every function, empty by default", () => {
  const { Parameters: params } = template;
  assert.equal(params.AllowedAutopilotHosts.Default, '');
  assert.equal(params.SnapshotPrefix.Default, '');
  const variables = template.Globals.Function.Environment.Variables;
  assert.deepEqual(variables.ALLOWED_AUTOPILOT_HOSTS, { Ref: 'AllowedAutopilotHosts' });
  assert.deepEqual(variables.SNAPSHOT_BUCKET, { Ref: 'SnapshotBucket' });
  assert.deepEqual(variables.SNAPSHOT_PREFIX, { Ref: 'SnapshotPrefix' });
  const hosts = new RegExp(params.AllowedAutopilotHosts.AllowedPattern);
  for (const ok of ['', 'eu.example.com', 'eu.example.com,api.example.com:8443']) assert.match(ok, hosts);
  for (const bad of ['http://eu.example.com', 'eu.example.com/v1', 'a b']) assert.doesNotMatch(bad, hosts);
  const prefix = new RegExp(params.SnapshotPrefix.AllowedPattern);
  for (const ok of ['', 'segments/', 'cdp/segments/']) assert.match(ok, prefix);
  for (const bad of ['segments', '/segments/', 'seg*/']) assert.doesNotMatch(bad, prefix);
});
