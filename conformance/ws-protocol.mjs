// GraphQL over WebSocket (graphql-transport-ws) against a running leadsync: the graphql-ws client
// runs a query and a subscription (a lead pushed through IngestLinkedInLeads arrives), and raw
// `ws` sockets check that the server closes with the protocol's codes.
//
//   LEADSYNC_URL=http://127.0.0.1:8080 LEADSYNC_TOKEN=<sales or admin> LEADSYNC_S2S_TOKEN=<S2S_INBOUND> \
//   WS_INIT_TIMEOUT_MS=1000 node ws-protocol.mjs
//
// Prints one line per check and a summary line; exits non-zero when a check fails.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const base = process.env.LEADSYNC_URL ?? 'http://127.0.0.1:8080';
const token = process.env.LEADSYNC_TOKEN;
const s2sToken = process.env.LEADSYNC_S2S_TOKEN;
const initTimeoutMs = Number(process.env.WS_INIT_TIMEOUT_MS ?? 10_000);
if (!token || !s2sToken) {
  console.error('LEADSYNC_TOKEN and LEADSYNC_S2S_TOKEN are required');
  process.exit(2);
}
const wsUrl = `${base.replace(/^http/, 'ws')}/graphql/ws`;
const auth = { authorization: `Bearer ${token}` };
const LEAD_SYNCED = 'subscription { leadSynced { outcome lead { email source } submission { id } } }';

// ------------------------------------------------------------------ helpers

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]);
}

/** A raw graphql-transport-ws socket with a queue of received messages and its close event. */
async function rawSocket() {
  const ws = new WebSocket(wsUrl, 'graphql-transport-ws');
  const queue = [];
  const waiters = [];
  ws.on('message', (data) => {
    const message = JSON.parse(data.toString());
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else queue.push(message);
  });
  const closed = new Promise((resolve) => {
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  await withTimeout(
    new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    }),
    5000,
    'the socket to open',
  );
  if (ws.protocol !== 'graphql-transport-ws') {
    throw new Error(`the server chose subprotocol ${JSON.stringify(ws.protocol)}`);
  }
  return {
    ws,
    closed,
    send: (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message)),
    next: (what = 'a message') =>
      withTimeout(
        new Promise((resolve) => (queue.length ? resolve(queue.shift()) : waiters.push(resolve))),
        5000,
        what,
      ),
  };
}

async function acknowledged() {
  const socket = await rawSocket();
  socket.send({ type: 'connection_init', payload: auth });
  const ack = await socket.next('connection_ack');
  if (ack.type !== 'connection_ack') throw new Error(`expected connection_ack, got ${JSON.stringify(ack)}`);
  return socket;
}

async function expectClose(socket, code, within = 5000) {
  const event = await withTimeout(socket.closed, within, `close ${code}`);
  if (event.code !== code) {
    throw new Error(`closed with ${event.code} (${event.reason}), expected ${code}`);
  }
  return event;
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

/** Pushes one lead through the S2S inbound door; returns its email. */
let pushed = 0;
async function pushLead(runId) {
  pushed += 1;
  const email = `ws-${runId}-${pushed}@conformance.example`;
  const text = (q) => ({ localized: { en_US: q } });
  const input = {
    forms: [
      {
        id: 4242,
        versionId: 1,
        name: 'Conformance form',
        content: {
          questions: [{ questionId: 1, name: 'Email', question: text('Email'), predefinedField: 'EMAIL' }],
        },
      },
    ],
    responses: [
      {
        id: `conformance-${runId}-${pushed}`,
        owner: { sponsoredAccount: 'urn:li:sponsoredAccount:4242' },
        leadMetadata: { sponsoredLeadMetadata: { campaign: 'urn:li:sponsoredCampaign:4242' } },
        versionedLeadGenFormUrn: 'urn:li:versionedLeadGenForm:(urn:li:leadGenForm:4242,1)',
        submittedAt: Date.now(),
        testLead: false,
        formResponse: {
          answers: [{ questionId: 1, answerDetails: { textQuestionAnswer: { answer: email } } }],
        },
      },
    ],
  };
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      authorization: `Bearer ${s2sToken}`,
    },
    body: JSON.stringify({
      query: 'mutation Ingest($input: IngestLinkedInLeadsInput!) { ingestLinkedInLeads(input: $input) { leadsCreated failed } }',
      variables: { input },
    }),
  });
  const body = await response.json();
  expect(response.status === 200 && !body.errors, `IngestLinkedInLeads failed: ${response.status} ${JSON.stringify(body)}`);
  expect(body.data.ingestLinkedInLeads.leadsCreated === 1, `no lead created: ${JSON.stringify(body)}`);
  return email;
}

// ------------------------------------------------------------------ checks

const checks = [];
const check = (name, fn) => checks.push({ name, fn });

check('graphql-ws client: a query receives its result, then completes', async () => {
  const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: auth, retryAttempts: 0 });
  try {
    const results = [];
    for await (const result of client.iterate({ query: '{ viewer { name roles } }' })) results.push(result);
    expect(results.length === 1, `expected one result, got ${JSON.stringify(results)}`);
    expect(!results[0].errors && results[0].data?.viewer?.roles?.length, `bad result ${JSON.stringify(results[0])}`);
  } finally {
    await client.dispose();
  }
});

check('graphql-ws client: leadSynced receives a lead pushed by IngestLinkedInLeads, then completes', async () => {
  let connected;
  const isConnected = new Promise((resolve) => (connected = resolve));
  const client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: auth,
    retryAttempts: 0,
    on: { connected: () => connected() },
  });
  const closed = new Promise((resolve) => client.on('closed', resolve));
  try {
    const subscription = client.iterate({ query: LEAD_SYNCED });
    const first = subscription.next();
    first.catch(() => {}); // awaited below; a failed connection must not go unhandled meanwhile
    await withTimeout(isConnected, 5000, 'connection_ack');
    const runId = Date.now().toString(36);
    // The subscription starts once the server has read the subscribe message: push until a lead
    // arrives (the first push normally does).
    let email = null;
    let received = null;
    for (let attempt = 0; attempt < 5 && !received; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      email = await pushLead(runId);
      received = await withTimeout(first, 2000, 'leadSynced').catch(() => null);
    }
    expect(received && !received.done, 'no leadSynced event arrived');
    const event = received.value;
    expect(!event.errors, `errors: ${JSON.stringify(event.errors)}`);
    const emails = [event.data.leadSynced.lead.email];
    expect(event.data.leadSynced.outcome === 'CREATED', `outcome ${event.data.leadSynced.outcome}`);
    expect(emails[0].startsWith(`ws-${runId}-`), `unexpected lead ${emails[0]} (pushed ${email})`);
    // Complete from the client: the iterator ends and the socket stays usable.
    const done = await withTimeout(subscription.return(), 5000, 'the subscription to complete');
    expect(done.done, 'the subscription did not complete');
    const again = [];
    for await (const result of client.iterate({ query: '{ viewer { name } }' })) again.push(result);
    expect(again.length === 1 && again[0].data?.viewer, 'the connection is not usable after complete');
  } finally {
    await client.dispose();
  }
  const event = await withTimeout(closed, 5000, 'the client to close');
  expect(event.code === 1000, `the client closed with ${event.code}`);
});

check('ping before and after connection_init is answered with pong', async () => {
  const socket = await rawSocket();
  socket.send({ type: 'ping' });
  expect((await socket.next('pong')).type === 'pong', 'no pong before init');
  socket.send({ type: 'connection_init', payload: auth });
  expect((await socket.next('connection_ack')).type === 'connection_ack', 'no ack');
  socket.send({ type: 'ping', payload: { at: 1 } });
  expect((await socket.next('pong')).type === 'pong', 'no pong after ack');
  socket.ws.close(1000);
});

check('an id may be reused once its operation completed (server or client complete)', async () => {
  const socket = await acknowledged();
  for (let round = 0; round < 2; round += 1) {
    socket.send({ id: 'q', type: 'subscribe', payload: { query: '{ viewer { name } }' } });
    const next = await socket.next('next');
    expect(next.type === 'next' && next.id === 'q', `round ${round}: ${JSON.stringify(next)}`);
    const complete = await socket.next('complete');
    expect(complete.type === 'complete' && complete.id === 'q', `round ${round}: ${JSON.stringify(complete)}`);
  }
  socket.send({ id: 's', type: 'subscribe', payload: { query: LEAD_SYNCED } });
  await new Promise((resolve) => setTimeout(resolve, 100));
  socket.send({ id: 's', type: 'complete' });
  await new Promise((resolve) => setTimeout(resolve, 100));
  socket.send({ id: 's', type: 'subscribe', payload: { query: '{ viewer { name } }' } });
  // No complete for an operation the client completed itself: the next message is the new result.
  const message = await socket.next('next');
  expect(message.type === 'next' && message.id === 's', `reuse after client complete: ${JSON.stringify(message)}`);
  socket.ws.close(1000);
});

check('a document that does not validate gets an error message (no next, no complete)', async () => {
  const socket = await acknowledged();
  socket.send({ id: 'bad', type: 'subscribe', payload: { query: 'subscription { noSuchField }' } });
  const error = await socket.next('error');
  expect(error.type === 'error' && error.id === 'bad', `expected error, got ${JSON.stringify(error)}`);
  expect(
    Array.isArray(error.payload) && error.payload.length && error.payload.every((e) => e.extensions?.code),
    `error payload: ${JSON.stringify(error.payload)}`,
  );
  // The operation is over: its id is free, and nothing else was sent for it.
  socket.send({ id: 'bad', type: 'subscribe', payload: { query: '{ viewer { name } }' } });
  const next = await socket.next('next');
  expect(next.type === 'next' && next.id === 'bad', `after the error: ${JSON.stringify(next)}`);
  socket.ws.close(1000);
});

check('graphql-ws client: a subscription that does not validate rejects with the errors', async () => {
  const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: auth, retryAttempts: 0 });
  try {
    let rejected = null;
    try {
      for await (const result of client.iterate({ query: 'subscription { leadSynced { noSuchField } }' })) {
        throw new Error(`a result arrived: ${JSON.stringify(result)}`);
      }
    } catch (error) {
      rejected = error;
    }
    expect(Array.isArray(rejected) && rejected[0]?.extensions?.code === 'GRAPHQL_VALIDATION_FAILED',
      `expected the validation errors, got ${rejected?.message ?? JSON.stringify(rejected)}`);
  } finally {
    await client.dispose();
  }
});

check('4400: a message that is not JSON', async () => {
  const socket = await rawSocket();
  socket.send('{ not json');
  await expectClose(socket, 4400);
});

check('4400: a message without a known type', async () => {
  const socket = await acknowledged();
  socket.send({ type: 'start', id: '1', payload: { query: '{ viewer { name } }' } });
  await expectClose(socket, 4400);
});

check('4400: subscribe without an id', async () => {
  const socket = await acknowledged();
  socket.send({ type: 'subscribe', payload: { query: '{ viewer { name } }' } });
  await expectClose(socket, 4400);
});

check('4400: subscribe whose payload has no query', async () => {
  const socket = await acknowledged();
  socket.send({ id: '1', type: 'subscribe', payload: { variables: {} } });
  await expectClose(socket, 4400);
});

check('4400: connection_init whose payload is not a map', async () => {
  const socket = await rawSocket();
  socket.send({ type: 'connection_init', payload: 'Bearer x' });
  await expectClose(socket, 4400);
});

check('4401: subscribe before connection_init', async () => {
  const socket = await rawSocket();
  socket.send({ id: '1', type: 'subscribe', payload: { query: LEAD_SYNCED } });
  await expectClose(socket, 4401);
});

check('4401: connection_init without a token', async () => {
  const socket = await rawSocket();
  socket.send({ type: 'connection_init', payload: {} });
  await expectClose(socket, 4401);
});

check('4403: connection_init with a token that is not valid', async () => {
  const socket = await rawSocket();
  socket.send({ type: 'connection_init', payload: { authorization: 'Bearer lsk_not-a-real-token' } });
  await expectClose(socket, 4403);
});

check(`4408: no connection_init within the init timeout (${initTimeoutMs} ms)`, async () => {
  const started = Date.now();
  const socket = await rawSocket();
  await expectClose(socket, 4408, initTimeoutMs + 5000);
  const elapsed = Date.now() - started;
  expect(elapsed >= initTimeoutMs - 50, `closed after ${elapsed} ms, before the timeout`);
});

check('4409: subscribe with the id of a running subscription', async () => {
  const socket = await acknowledged();
  socket.send({ id: 'dup', type: 'subscribe', payload: { query: LEAD_SYNCED } });
  socket.send({ id: 'dup', type: 'subscribe', payload: { query: LEAD_SYNCED } });
  const event = await expectClose(socket, 4409);
  expect(event.reason.includes('dup'), `reason ${event.reason}`);
});

check('4429: a second connection_init after the acknowledgement', async () => {
  const socket = await acknowledged();
  socket.send({ type: 'connection_init', payload: auth });
  await expectClose(socket, 4429);
});

check('4429: two connection_init messages in a row', async () => {
  const socket = await rawSocket();
  socket.send({ type: 'connection_init', payload: auth });
  socket.send({ type: 'connection_init', payload: auth });
  expect((await socket.next('connection_ack')).type === 'connection_ack', 'the first init is acknowledged');
  await expectClose(socket, 4429);
});

// An idle subscriber stays connected: the server keeps the socket alive with WebSocket pings,
// which every client's WebSocket layer answers (before, graphql-transport-ws sockets were closed
// with 3008 after 30 s without a client message). Runs alongside the other checks.
const idleSeconds = Number(process.env.WS_IDLE_CHECK_SECONDS ?? 35);
function idleSubscriber() {
  const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: auth, retryAttempts: 0 });
  let closed = null;
  client.on('closed', (event) => (closed = event));
  const subscription = client.iterate({ query: LEAD_SYNCED });
  subscription.next().catch(() => {});
  return async () => {
    try {
      expect(!closed, `closed with ${closed?.code} (${closed?.reason}) while idle`);
    } finally {
      await client.dispose();
    }
  };
}
if (idleSeconds > 0) {
  const finish = idleSubscriber();
  const started = Date.now();
  check(`an idle subscription stays open for ${idleSeconds} s`, async () => {
    const left = idleSeconds * 1000 - (Date.now() - started);
    if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
    await finish();
  });
}

// ------------------------------------------------------------------ run

// A promise a failed check left behind must not end the run: the check itself reports.
process.on('unhandledRejection', (reason) => {
  console.log(`note: unhandled rejection ${reason?.message ?? reason}`);
});

let passed = 0;
let failed = 0;
for (const { name, fn } of checks) {
  try {
    await withTimeout(fn(), 30_000 + idleSeconds * 1000, name);
    passed += 1;
    console.log(`ok     ${name}`);
  } catch (error) {
    failed += 1;
    const detail = error?.message ?? (error?.code ? `closed with ${error.code} (${error.reason})` : JSON.stringify(error));
    console.log(`FAIL   ${name}: ${detail}`);
  }
}
console.log(`graphql-ws protocol: ${checks.length} checks, ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
