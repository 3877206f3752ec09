// A Lambda runtime API of the tests' own for one function binary, giving each invocation the
// deadline Lambda gives (milliseconds since the epoch, `timeoutMs` after the invocation starts),
// where `cargo lambda watch` always sends 600000 (ten minutes). Invocations run at once in up to
// `concurrency` processes, as Lambda runs them in separate environments; an invocation that has
// not answered at its deadline fails with `Sandbox.Timedout` and its process is replaced, as Lambda
// does. Each answered invocation's duration (from its start to its answer) is recorded.
import { createServer } from 'node:http';
import { spawn } from 'node:child_process';

async function readBody(req) {
  const parts = [];
  for await (const part of req) parts.push(part);
  return Buffer.concat(parts).toString('utf8');
}

export async function startFunction(binary, name, { timeoutMs, concurrency = 4 }) {
  const queue = [];
  const idle = []; // [process number, response] of processes waiting for an invocation
  const inflight = new Map(); // request id -> invocation
  const processes = new Map(); // process number -> child
  const durations = [];
  let invocations = 0;
  let stopped = false;

  const server = createServer(async (req, res) => {
    const match = req.url.match(/^\/p(\d+)\/2018-06-01\/runtime\/(.*)$/);
    if (!match) return res.writeHead(404).end();
    const [, number, rest] = match;
    if (req.method === 'GET' && rest === 'invocation/next') {
      const next = queue.shift();
      if (next) deliver(Number(number), res, next);
      else idle.push([Number(number), res]);
      return;
    }
    const answer = rest.match(/^invocation\/([^/]+)\/(response|error)$/);
    const body = await readBody(req);
    res.writeHead(202).end();
    if (!answer) return;
    const invocation = inflight.get(answer[1]);
    if (!invocation) return; // answered after its deadline: Lambda has moved on
    inflight.delete(answer[1]);
    clearTimeout(invocation.timer);
    durations.push(Date.now() - invocation.started);
    if (answer[2] === 'response') return invocation.resolve(body ? JSON.parse(body) : null);
    const failure = body ? JSON.parse(body) : {};
    const error = new Error(failure.errorMessage ?? 'function error');
    error.name = failure.errorType ?? 'Lambda.Unknown';
    invocation.reject(error);
  });

  function deliver(number, res, invocation) {
    invocation.started = Date.now();
    inflight.set(invocation.id, invocation);
    invocation.timer = setTimeout(() => {
      inflight.delete(invocation.id);
      const error = new Error(`Task timed out after ${timeoutMs / 1000} seconds`);
      error.name = 'Sandbox.Timedout';
      invocation.reject(error);
      processes.get(number)?.kill();
      processes.delete(number);
      if (!stopped && queue.length > 0) spawnProcess();
    }, timeoutMs);
    res.writeHead(200, {
      'content-type': 'application/json',
      'lambda-runtime-aws-request-id': invocation.id,
      'lambda-runtime-deadline-ms': String(invocation.started + timeoutMs),
      'lambda-runtime-invoked-function-arn': `arn:aws:lambda:us-east-1:123456789012:function:${name}`,
      'lambda-runtime-trace-id': 'Root=1-00000000-000000000000000000000000',
    });
    res.end(JSON.stringify(invocation.payload));
  }

  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  let spawned = 0;
  function spawnProcess() {
    spawned += 1;
    const number = spawned;
    const child = spawn(binary, [], {
      env: {
        ...process.env,
        AWS_LAMBDA_RUNTIME_API: `http://127.0.0.1:${port}/p${number}`,
        AWS_LAMBDA_FUNCTION_NAME: name,
        AWS_LAMBDA_FUNCTION_VERSION: '1',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
      },
      stdio: 'ignore',
    });
    child.on('exit', () => {
      if (processes.get(number) === child) processes.delete(number);
    });
    processes.set(number, child);
  }

  return {
    durations,
    invoke(payload) {
      return new Promise((resolve, reject) => {
        invocations += 1;
        const invocation = { id: `${name}-${invocations}`, payload, resolve, reject };
        const waiting = idle.shift();
        if (waiting) return deliver(waiting[0], waiting[1], invocation);
        queue.push(invocation);
        if (!stopped && processes.size < concurrency) spawnProcess();
      });
    },
    async stop() {
      stopped = true;
      for (const child of processes.values()) child.kill();
      for (const [, res] of idle) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
