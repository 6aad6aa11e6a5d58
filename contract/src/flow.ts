// A frontend's whole journey through wisdom, written only against the SDK generated from ../openapi.yaml and
// configured the way its README says: a base URL and `auth: () => token`, nothing else. Compiled with
// `tsc --strict`, so a type the contract gets wrong fails the build; run against a live wisdom (see
// tests/test_contract_flow.py), so an answer the types do not describe fails a step.
//
// Environment: WISDOM_URL, STAFF_EMAIL, STAFF_PASSWORD, MESSAGES_PER_MINUTE (the free plan's limit on that server).

import { client } from '../generated/client.gen.js';
import {
  createEntity,
  createInvite,
  deleteEntity,
  getEntity,
  getMe,
  getUsage,
  listEntities,
  listMessages,
  login,
  pauseEntity,
  previewInvite,
  redeemInvite,
  resumeEntity,
  sendMessage,
  updateEntity,
} from '../generated/sdk.gen.js';
import type { Entity, MessageReply } from '../generated/types.gen.js';

function setting(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

// The streamed reply, read with fetch as the README's streamMessage does: its events, up to the final one.
type StreamEvent =
  | { event: 'delta'; data: { text: string } }
  | { event: 'done'; data: MessageReply }
  | { event: 'error'; data: { detail: string; status: number } };

async function streamMessage(name: string, content: string): Promise<StreamEvent[]> {
  const response = await fetch(`${setting('WISDOM_URL')}/personal/entities/${encodeURIComponent(name)}/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ content }),
  });
  if (response.status !== 200 || response.body === null) throw new Error(`FAILED: the stream answered ${response.status}`);
  const events: StreamEvent[] = [];
  let buffer = '';
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return events;
    buffer += value;
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const lines = buffer.slice(0, end).split('\n');
      buffer = buffer.slice(end + 2);
      const event = lines.find((line) => line.startsWith('event: '))?.slice(7);
      const data = lines.find((line) => line.startsWith('data: '))?.slice(6);
      if (data === undefined || (event !== 'delta' && event !== 'done' && event !== 'error')) continue;
      events.push({ event, data: JSON.parse(data) } as StreamEvent);
    }
  }
}

let steps = 0;
function check(condition: boolean, what: string, seen?: unknown): asserts condition {
  if (!condition) throw new Error(`FAILED: ${what}${seen === undefined ? '' : `; saw ${JSON.stringify(seen)}`}`);
  steps += 1;
  console.log(`ok ${steps} - ${what}`);
}

// As the README's useWisdom does: the generated client, its base URL, and the token it sends.
let token: string | undefined;
client.setConfig({ baseUrl: setting('WISDOM_URL'), auth: () => token });

const run = Date.now().toString(36);
const newcomerEmail = `newcomer-${run}@example.com`;
const password = `a-long-and-unusual-passphrase-${run}`;
const entityName = `ada-${run}`;
const perMinute = Number(setting('MESSAGES_PER_MINUTE'));

async function main(): Promise<void> {
  // --- staff: log in, see myself, issue an invite -------------------------------------------------------
  {
    const { data, error, response } = await login({
      body: { email: setting('STAFF_EMAIL'), password: setting('STAFF_PASSWORD') },
    });
    check(data !== undefined && data.token_type === 'bearer', 'login answers a bearer token pair', error);
    check(response.headers.get('X-Request-ID') !== null, 'every answer carries X-Request-ID');
    token = data.access_token;
  }
  {
    const { data, error } = await getMe({ headers: { 'X-Request-ID': `contract-${run}` } });
    check(data?.is_staff === true, 'getMe with only the bearer token: the staff account', error);
  }
  {
    const { error, response } = await login({ body: { email: setting('STAFF_EMAIL'), password: 'wrong' } });
    check(response.status === 401 && error !== undefined && error.detail.length > 0, 'a wrong password is a 401 with a detail');
  }
  let inviteToken: string;
  {
    const { data, error, response } = await createInvite({
      body: { email: newcomerEmail, note: 'contract flow', expires_in_days: 7 },
    });
    check(response.status === 201 && data !== undefined, 'createInvite as staff with only the bearer token', error);
    check(data.status === 'active' && data.max_uses === 1 && data.email === newcomerEmail, 'the invite is as asked', data);
    inviteToken = data.token;
  }
  {
    const { error, response } = await createInvite({ body: { expires_at: '2001-01-01T00:00:00Z' } });
    check(response.status === 400 && error !== undefined && 'errors' in error, 'an expiry in the past is a 400', error);
    const message: string = error.errors['expires_at'][0];
    check(message.length > 0, `createInvite's 400 is read through errors[field][0]: "${message}"`);
  }

  // --- a newcomer: preview, redeem, and they are logged in ----------------------------------------------
  token = undefined;
  {
    const { data, error } = await previewInvite({ path: { token: inviteToken } });
    check(data?.email === newcomerEmail && data.use_count === 0, 'previewInvite needs no credentials', error);
  }
  {
    const { data, error, response } = await redeemInvite({
      path: { token: inviteToken },
      body: { password, first_name: 'Nia' },
    });
    check(response.status === 201 && data !== undefined, 'redeemInvite makes the account and answers tokens', error);
    token = data.access_token;
  }
  {
    const { error, response } = await redeemInvite({ path: { token: inviteToken }, body: { password, first_name: 'Nia' } });
    check(response.status === 410 && error !== undefined && 'status' in error && error.status === 'used_up', 'a used invite is a 410 that says why', error);
  }
  {
    const { data, error } = await getMe();
    check(data?.email === newcomerEmail && data.plan === 'free' && !data.is_staff, 'getMe: the newcomer on the free plan', error);
  }

  // --- entities -----------------------------------------------------------------------------------------
  {
    const { error, response } = await createEntity({ body: { name: '..' } });
    check(response.status === 400 && error !== undefined && 'errors' in error, 'a bad entity name is a 400', error);
    const message: string = error.errors['name'][0];
    check(message.length > 0, `createEntity's 400 is read through errors[field][0]: "${message}"`);
  }
  let entity: Entity;
  {
    const { data, error, response } = await createEntity({ body: { name: entityName, display_name: 'Ada' } });
    check(response.status === 201 && data !== undefined, 'createEntity', error);
    entity = data;
    check(entity.name === entityName && entity.status === 'active', 'the entity is active and named as asked', entity);
  }
  {
    const { error, response } = await createEntity({ body: { name: `${entityName}-2` } });
    check(response.status === 429 && error !== undefined && 'code' in error, 'a second entity on the free plan is a 429', error);
    if (error.code !== 'entity_quota_exceeded') throw new Error(`FAILED: expected the entity quota, saw ${error.code}`);
    check(error.plan === 'free' && error.limit === 1, `the 429 narrows by its literal code: ${error.code}, limit ${error.limit}`);
  }
  {
    const { data, error } = await listEntities();
    check(data !== undefined && data.map((e) => e.name).includes(entityName), 'listEntities has it', error);
  }
  {
    const { data, error } = await getEntity({ path: { name: entityName } });
    check(data?.display_name === 'Ada', 'getEntity', error);
  }
  {
    const { data, error } = await updateEntity({ path: { name: entityName }, body: { description: 'Reads with me.' } });
    check(data?.description === 'Reads with me.', 'updateEntity', error);
  }
  {
    const { data, error } = await pauseEntity({ path: { name: entityName } });
    check(data?.status === 'paused', 'pauseEntity', error);
  }
  {
    const { error, response } = await sendMessage({ path: { name: entityName }, body: { content: 'hello?' } });
    check(response.status === 409 && error !== undefined && error.detail.length > 0, 'a paused entity refuses a message: 409', error);
  }
  {
    const { data, error } = await resumeEntity({ path: { name: entityName } });
    check(data?.status === 'active', 'resumeEntity', error);
  }

  // --- chat, up to the plan's message limit -------------------------------------------------------------
  let reply: MessageReply | undefined;
  const idempotencyKey = `flow-${Date.now()}`;
  {
    const { data, error, response } = await sendMessage({
      path: { name: entityName },
      body: { content: 'What next?' },
      headers: { 'Idempotency-Key': idempotencyKey },
    });
    check(response.status === 201 && data !== undefined, 'sendMessage answers the whole reply', error);
    reply = data; // the generated type is MessageReply alone: the streamed answer is declared apart
    check(reply.reply.length > 0 && String(reply.message_id).length > 0, 'the reply has text and an id', reply);
    check(response.headers.get('RateLimit')?.includes('"minute"') === true, 'the answer carries RateLimit');
  }
  {
    // a retry with the same key: the same answer, and no place taken (the loop below still has perMinute - 1)
    const { data, error, response } = await sendMessage({
      path: { name: entityName },
      body: { content: 'What next?' },
      headers: { 'Idempotency-Key': idempotencyKey },
    });
    check(response.status === 201 && typeof data === 'object' && data.message_id === reply.message_id, 'a retried send answers the first reply again', error);
    check(response.headers.get('Idempotency-Replayed') === 'true', 'marked Idempotency-Replayed');
  }
  {
    const { error, response } = await sendMessage({
      path: { name: entityName },
      body: { content: 'Something else' },
      headers: { 'Idempotency-Key': idempotencyKey },
    });
    check(response.status === 422 && error !== undefined && 'code' in error && error.code === 'idempotency_key_reused', 'a reused key is a 422', error);
  }
  {
    const events = await streamMessage(entityName, 'And after that?');
    const last = events[events.length - 1];
    const deltas = events.filter((e): e is Extract<StreamEvent, { event: 'delta' }> => e.event === 'delta');
    check(deltas.length > 0 && events.slice(0, -1).every((e) => e.event === 'delta'), 'a streamed reply comes as deltas', events);
    check(last?.event === 'done', 'and ends with exactly one done event', last);
    if (last.event !== 'done') throw new Error('unreachable');
    check(last.data.reply === deltas.map((e) => e.data.text).join('') && String(last.data.message_id).length > 0, 'done holds the whole reply, the deltas joined', last);
  }
  {
    const { error, response } = await sendMessage({ path: { name: entityName }, body: { content: '' } });
    check(response.status === 400 && error !== undefined && 'errors' in error, 'an empty message is a 400', error);
    const message: string = error.errors['content'][0];
    check(message.length > 0, `sendMessage's 400 is read through errors[field][0]: "${message}"`);
  }
  for (let sent = 2; sent < perMinute; sent += 1) { // the whole reply and the streamed one were the first two
    const { response } = await sendMessage({ path: { name: entityName }, body: { content: `message ${sent}` } });
    if (response.status !== 201) throw new Error(`FAILED: message ${sent + 1} of ${perMinute} answered ${response.status}`);
  }
  {
    const { error, response } = await sendMessage({ path: { name: entityName }, body: { content: 'one too many' } });
    check(response.status === 429 && error !== undefined && 'code' in error, `message ${perMinute + 1} in a minute is a 429`, error);
    switch (error.code) {
      case 'message_quota_exceeded':
        check(error.window === 'minute' && error.limit === perMinute, `the 429 narrows by its literal code: ${error.code}, ${error.limit} per ${error.window}`);
        break;
      case 'upstream_rate_limited':
        throw new Error(`FAILED: expected the plan's limit, saw upstream's: ${error.detail}`);
    }
    check(Number(response.headers.get('Retry-After')) > 0, 'with Retry-After');
  }
  {
    const { data, error } = await getUsage();
    const minute = data?.messages.minute;
    check(
      data !== undefined && minute !== undefined && minute.used === perMinute && minute.limit === perMinute,
      `getUsage counts the minute's ${perMinute} messages against its limit`,
      error ?? data,
    );
    const resets: number | null = minute.reset_seconds;
    check(resets !== null && resets > 0 && data.entities.used >= 1, 'getUsage types its figures, null where none', data);
  }
  {
    const { data, error } = await listMessages({ path: { name: entityName }, query: { limit: 2 } });
    check(data !== undefined && data.length === 2 && data[1]?.role === 'assistant', 'listMessages pages the conversation', error);
  }

  // --- the end ------------------------------------------------------------------------------------------
  {
    const { error, response } = await deleteEntity({ path: { name: entityName } });
    check(response.status === 204, 'deleteEntity', error);
  }
  {
    const { error, response } = await getEntity({ path: { name: entityName } });
    check(response.status === 404 && error !== undefined && error.detail.length > 0, 'a deleted entity is a 404', error);
  }
  token = undefined;
  {
    const { error, response } = await getMe();
    check(response.status === 401 && error !== undefined && error.detail.length > 0, 'without a token: 401', error);
  }
  console.log(`${steps} passed, 0 failed`);
}

main().catch((failure: unknown) => {
  console.error(failure instanceof Error ? failure.message : failure);
  console.log(`${steps} passed, 1 failed`);
  process.exit(1);
});
