// What the SAM template grants and configures, read from infra/template.yaml (no servers needed):
// each function's exact S3 actions by key prefix, snapshots readable only under SnapshotPrefix,
// function logs that expire at LogRetentionDays, the log level Lambda applies, and the
// deployment's boundary (AllowedAutopilotHosts, SnapshotBucket, SnapshotPrefix) reaching the code, and
// the functions' architecture (arm64 unless the Architecture parameter says x86_64), and the
// "Export Finished" event with its optional email.
// moto does not enforce IAM: when a job starts using another key prefix or action, this table and
// the template change together.
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

/** A resource as the table writes it: `data/exports/*`, `snapshots/${SnapshotPrefix}*`, … */
function resourceName(value) {
  if (value?.['Fn::GetAtt'] === 'DataBucket.Arn') return 'data';
  const sub = value?.['Fn::Sub'];
  if (typeof sub === 'string' && sub.startsWith('${DataBucket.Arn}/')) return `data/${sub.slice(18)}`;
  if (sub === 'arn:${AWS::Partition}:s3:::${SnapshotBucket}/${SnapshotPrefix}*') return 'snapshots/${SnapshotPrefix}*';
  if (sub === 'arn:${AWS::Partition}:s3:::${SnapshotBucket}') return 'snapshots';
  if (value?.Ref === 'SnapshotKmsKeyArn') return 'snapshot-key';
  return JSON.stringify(value);
}

/** `Action resource` for every grant of a function, sorted. */
function grants(fn) {
  const out = [];
  for (const policy of fn.Properties.Policies) {
    assert.deepEqual(Object.keys(policy), ['Statement'], `no SAM policy templates (S3CrudPolicy grants PutObjectAcl and PutLifecycleConfiguration): ${JSON.stringify(policy)}`);
    for (const entry of policy.Statement) {
      // A conditional statement (`Fn::If: [condition, statement, AWS::NoValue]`) counts as granted.
      const statement = entry['Fn::If'] ? entry['Fn::If'][1] : entry;
      assert.equal(statement.Effect, 'Allow');
      for (const action of [statement.Action].flat()) {
        for (const resource of [statement.Resource].flat()) out.push(`${action} ${resourceName(resource)}`);
      }
    }
  }
  return out.sort();
}

const s3 = (fn) => grants(fn).filter((g) => g.startsWith('s3:'));
const SNAPSHOTS = 's3:GetObject snapshots/${SnapshotPrefix}*';
const LIST_SNAPSHOTS = 's3:ListBucket snapshots';
const EXPECTED_S3 = {
  // connect, configure, read, remove (deletes the destination, its exports and its baseline, then
  // every version the bucket keeps of them), dry runs, the audit trail of every call that changes
  // something (and the record of a removal)
  ApiFunction: ['s3:ListBucket data', 's3:GetObject data/destinations/*', 's3:GetObject data/exports/*',
    's3:GetObject data/state/*', 's3:PutObject data/destinations/*', 's3:DeleteObject data/destinations/*',
    's3:DeleteObject data/exports/*', 's3:DeleteObject data/state/*', 's3:PutObject data/state/*/verification/*', SNAPSHOTS,
    's3:PutObject data/state/*/audit/*', 's3:PutObject data/audit/removed/*', LIST_SNAPSHOTS,
    's3:ListBucketVersions data', 's3:DeleteObjectVersion data/destinations/*', 's3:DeleteObjectVersion data/exports/*',
    's3:DeleteObjectVersion data/state/*'],
  // Plan: reads the destination and the baseline, writes the lock, chunks, plan and next baseline;
  // Verify: a verification's progress, what its steps read, its result, its lock
  ExportFunction: ['s3:ListBucket data', 's3:GetObject data/destinations/*', 's3:GetObject data/exports/*',
    's3:GetObject data/state/*', 's3:PutObject data/exports/*', 's3:DeleteObject data/exports/*',
    's3:PutObject data/state/*/verification/*', 's3:DeleteObject data/state/*/verification/*', SNAPSHOTS,
    LIST_SNAPSHOTS],
  UploadChunkFunction: ['s3:ListBucket data', 's3:GetObject data/destinations/*', 's3:GetObject data/exports/*',
    's3:PutObject data/exports/*', 's3:DeleteObject data/exports/*'],
  // report, baseline commit, cleanup, lock release; the destination's settings for the light verify
  FinalizeFunction: ['s3:ListBucket data', 's3:GetObject data/destinations/*', 's3:GetObject data/exports/*', 's3:GetObject data/state/*',
    's3:PutObject data/exports/*', 's3:PutObject data/state/*', 's3:DeleteObject data/exports/*'],
  SchedulerFunction: ['s3:ListBucket data', 's3:GetObject data/destinations/*', 's3:GetObject data/exports/*'],
};

test('only the functions that read snapshots may decrypt them, with the snapshot key, through S3, when a key is given', () => {
  assert.equal(template.Parameters.SnapshotKmsKeyArn.Default, '');
  assert.deepEqual(template.Conditions.SnapshotsUseKms, { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'SnapshotKmsKeyArn' }, ''] }] });
  for (const [name, fn] of functions) {
    const kms = grants(fn).filter((g) => g.startsWith('kms:'));
    const reads = s3(fn).includes(SNAPSHOTS);
    assert.deepEqual(kms, reads ? ['kms:Decrypt snapshot-key'] : [], name);
    for (const policy of fn.Properties.Policies) {
      for (const entry of policy.Statement.filter((e) => e['Fn::If'])) {
        const [condition, statement, otherwise] = entry['Fn::If'];
        assert.equal(condition, 'SnapshotsUseKms', name);
        assert.deepEqual(otherwise, { Ref: 'AWS::NoValue' }, name);
        assert.deepEqual(statement.Condition, { StringEquals: { 'kms:ViaService': { 'Fn::Sub': 's3.${AWS::Region}.amazonaws.com' } } }, name);
      }
    }
  }
});

test('each function gets exactly the S3 actions it uses, on the prefixes it uses', () => {
  assert.deepEqual(functions.map(([name]) => name).sort(), Object.keys(EXPECTED_S3).sort());
  for (const [name, fn] of functions) {
    assert.deepEqual(s3(fn), [...EXPECTED_S3[name]].sort(), name);
  }
});

test('snapshots are readable only under SnapshotBucket/SnapshotPrefix, and only where segments are read', () => {
  for (const [name, fn] of functions) {
    const reads = grants(fn).filter((g) => g.includes('SnapshotBucket') || / snapshots(\/|$)/.test(g));
    const expected = ['ApiFunction', 'ExportFunction'].includes(name) ? [SNAPSHOTS, LIST_SNAPSHOTS] : [];
    assert.deepEqual(reads, expected, name);
  }
});

test('the snapshot bucket is listed under SnapshotPrefix only', () => {
  for (const [name, fn] of functions) {
    for (const statement of fn.Properties.Policies.flatMap((p) => p.Statement)) {
      if (statement.Action !== 's3:ListBucket' || resourceName(statement.Resource) !== 'snapshots') continue;
      assert.deepEqual(statement.Condition, { StringLike: { 's3:prefix': { 'Fn::Sub': '${SnapshotPrefix}*' } } }, name);
    }
  }
});

test('the scheduler may describe executions: a duplicated event is recognised by its execution name', () => {
  const scheduler = grants(resources.SchedulerFunction);
  assert.ok(scheduler.some((g) => g.startsWith('states:DescribeExecution ')), scheduler.join('\n'));
  assert.ok(scheduler.some((g) => g.startsWith('states:StartExecution ')));
});

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

test("the deployment's boundary reaches every function, empty by default besides the APIs' own hosts", () => {
  const { Parameters: params } = template;
  assert.equal(params.AllowedAutopilotHosts.Default, '');
  assert.equal(params.SnapshotPrefix.Default, '');
  const variables = template.Globals.Function.Environment.Variables;
  assert.deepEqual(variables.ALLOWED_AUTOPILOT_HOSTS, { Ref: 'AllowedAutopilotHosts' });
  assert.deepEqual(variables.SNAPSHOT_BUCKET, { Ref: 'SnapshotBucket' });
  assert.deepEqual(variables.SNAPSHOT_PREFIX, { Ref: 'SnapshotPrefix' });
  // The APIs' own hosts need no configuration (the functions allow them in code, as the
  // state-machine tests check through the API function): the parameter says which they are.
  for (const own of ['api2.autopilothq.com', 'api.ap3api.com', 'api.au.ap3api.com', 'api.eu.ap3api.com']) {
    assert.ok(params.AllowedAutopilotHosts.Description.includes(own), own);
  }
  const hosts = new RegExp(params.AllowedAutopilotHosts.AllowedPattern);
  for (const ok of ['', 'eu.example.com', 'eu.example.com,api.example.com:8443', 'api.eu.ap3api.com']) {
    assert.match(ok, hosts);
  }
  for (const bad of ['http://eu.example.com', 'eu.example.com/v1', 'a b']) assert.doesNotMatch(bad, hosts);
  const prefix = new RegExp(params.SnapshotPrefix.AllowedPattern);
  for (const ok of ['', 'segments/', 'cdp/segments/']) assert.match(ok, prefix);
  for (const bad of ['segments', '/segments/', 'seg*/']) assert.doesNotMatch(bad, prefix);
});

test('the account allow-list reaches every function, and the deploy output says when any account is allowed', () => {
  const { Parameters: params, Outputs: outputs } = template;
  assert.equal(params.AllowedAccounts.Default, '');
  assert.deepEqual(template.Globals.Function.Environment.Variables.ALLOWED_ACCOUNTS, { Ref: 'AllowedAccounts' });
  const accounts = new RegExp(params.AllowedAccounts.AllowedPattern);
  for (const ok of ['', '12345', '12345,678', 'acme-1']) assert.match(ok, accounts);
  for (const bad of ['12345, 678', '1,', ',1', 'a b']) assert.doesNotMatch(bad, accounts);
  assert.deepEqual(template.Conditions.AnyAccount, { 'Fn::Equals': [{ Ref: 'AllowedAccounts' }, ''] });
  const [condition, whenEmpty, whenSet] = outputs.ExportAccounts.Value['Fn::If'];
  assert.equal(condition, 'AnyAccount');
  assert.match(whenEmpty, /any caller with API access can .*export the snapshots to an account of their choosing/);
  assert.deepEqual(whenSet, { Ref: 'AllowedAccounts' });
});

test('two managed policies: one may call only the GET routes, the other every route', () => {
  const invoke = (name) => {
    const policy = resources[name];
    assert.equal(policy.Type, 'AWS::IAM::ManagedPolicy');
    const statements = policy.Properties.PolicyDocument.Statement;
    assert.deepEqual(statements.map((s) => [s.Effect, s.Action]), [['Allow', 'execute-api:Invoke']]);
    const prefix = 'arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${HttpApi}/$default/';
    return statements[0].Resource.map((r) => {
      const sub = r['Fn::Sub'];
      assert.ok(sub.startsWith(prefix), sub);
      return sub.slice(prefix.length);
    });
  };
  assert.deepEqual(invoke('ApiReadPolicy'), ['GET/destinations', 'GET/destinations/*']);
  assert.deepEqual(invoke('ApiOperatePolicy'), ['*/destinations', '*/destinations/*']);
  // Every route the API function serves is under /destinations: the read policy leaves out the
  // changing ones because their method is not GET.
  for (const output of ['ApiReadPolicyArn', 'ApiOperatePolicyArn']) assert.ok(template.Outputs[output], output);
});

test('the API is throttled at its stage, as the reserved-concurrency skip says', () => {
  const throttle = resources.HttpApi.Properties.DefaultRouteSettings;
  assert.ok(throttle?.ThrottlingRateLimit > 0 && throttle?.ThrottlingBurstLimit > 0, JSON.stringify(throttle));
  const skips = resources.ApiFunction.Metadata.checkov.skip;
  assert.match(skips.find((s) => s.id === 'CKV_AWS_115').comment, /throttled/);
});

test('functions run on arm64 unless the Architecture parameter says x86_64, all of them alike', () => {
  const parameter = template.Parameters.Architecture;
  assert.equal(parameter.Type, 'String');
  assert.equal(parameter.Default, 'arm64');
  assert.deepEqual(parameter.AllowedValues, ['arm64', 'x86_64']);
  assert.deepEqual(template.Globals.Function.Architectures, [{ Ref: 'Architecture' }]);
  for (const [name, fn] of functions) {
    assert.equal(fn.Properties.Architectures, undefined, `${name} sets its own Architectures`);
    assert.equal(fn.Metadata.BuildMethod, 'rust-cargolambda', `${name} is not built by cargo-lambda`);
  }
});

test('finished exports are announced on the default bus, and emailed when failed or partial only if asked', () => {
  const machine = resources.ExportStateMachine.Properties;
  assert.ok(
    machine.Policies.some((p) => p.EventBridgePutEventsPolicy?.EventBusName === 'default'),
    'the state machine may put the Export Finished event on the default bus',
  );
  assert.equal(template.Parameters.NotificationEmail.Default, '', 'no email unless one is given');
  const email = ['NotificationTopic', 'NotificationSubscription', 'NotificationTopicPolicy', 'NotificationRule'];
  for (const name of email) assert.equal(resources[name].Condition, 'NotifiesByEmail', name);
  const pattern = resources.NotificationRule.Properties.EventPattern;
  assert.deepEqual(pattern.source, ['autopilot-export']);
  assert.deepEqual(pattern['detail-type'], ['Export Finished']);
  assert.deepEqual(pattern.detail.status, ['failed', 'partially_succeeded']);
  assert.deepEqual(pattern.resources, [{ Ref: 'ExportStateMachine' }], "this stack's exports only");
  const publish = resources.NotificationTopicPolicy.Properties.PolicyDocument.Statement[0];
  assert.deepEqual(publish.Principal, { Service: 'events.amazonaws.com' });
  assert.deepEqual(publish.Condition.ArnEquals['aws:SourceArn'], { 'Fn::GetAtt': 'NotificationRule.Arn' });
});

test("the functions' metrics go to the stack's own namespace, and its dashboard reads every destination there", () => {
  const namespace = { 'Fn::Sub': 'autopilot-export/${AWS::StackName}' };
  assert.deepEqual(template.Globals.Function.Environment.Variables.METRICS_NAMESPACE, namespace);
  const [body, values] = resources.ExportsDashboard.Properties.DashboardBody['Fn::Sub'];
  assert.deepEqual(values.Namespace, namespace);
  const widgets = JSON.parse(body.replaceAll('${AWS::Region}', 'us-east-1').replaceAll('${Namespace}', 'ns')).widgets;
  const searched = widgets.flatMap((w) => w.properties.metrics.flat().map((m) => m.expression)).join(' ');
  for (const metric of ['ContactsSent', 'ContactsRejected', 'ContactsUnsent', 'MembersRemoved', 'ThrottledResponses', 'ExportDuration', 'ExportsFailed']) {
    assert.ok(searched.includes(`MetricName="${metric}"`), metric);
  }
  assert.ok(searched.includes('{ns,DestinationId}'), searched);
});

test('the data bucket is versioned, exports expire, earlier versions go a day later, and only the API function deletes versions', () => {
  const bucket = resources.DataBucket.Properties;
  assert.equal(bucket.VersioningConfiguration.Status, 'Enabled');
  const rules = Object.fromEntries(bucket.LifecycleConfiguration.Rules.map((r) => [r.Id, r]));
  assert.equal(rules['expire-exports'].Prefix, 'exports/');
  assert.deepEqual(rules['expire-exports'].ExpirationInDays, { Ref: 'ExportRetentionDays' });
  assert.deepEqual([rules['expire-removal-records'].Prefix, rules['expire-removal-records'].ExpirationInDays], ['audit/removed/', { Ref: 'ExportRetentionDays' }]);
  assert.equal(rules['expire-old-versions'].NoncurrentVersionExpiration.NoncurrentDays, 1);
  for (const [name, fn] of functions) {
    const versions = s3(fn).filter((g) => g.startsWith('s3:DeleteObjectVersion ')).sort();
    const expected = name === 'ApiFunction'
      ? ['s3:DeleteObjectVersion data/destinations/*', 's3:DeleteObjectVersion data/exports/*', 's3:DeleteObjectVersion data/state/*']
      : [];
    assert.deepEqual(versions, expected, name);
  }
});
