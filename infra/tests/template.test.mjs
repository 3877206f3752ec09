// What the SAM template configures, read from infra/template.yaml (no servers needed): function
// logs that expire at LogRetentionDays and the log level Lambda applies.
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
