import { describe, expect, it } from 'vitest';

import { SUBJECTS } from '@ratewire/contracts';

import { MSG_ID_HEADER, decodeJobSubmit, msgIdHeaders, outboxMessage } from './jobs.messages.ts';

const job = '0b7f2c52-8a3e-4c51-9d0e-4f6a1f3e2b10';
const bytes = (text: string) => new TextEncoder().encode(text);

describe('the submit message', () => {
  it('is the outbox row of a job sent with the job id as Nats-Msg-Id, and reads back as that job', () => {
    // the row insertJobsWithOutbox writes for a job
    const message = outboxMessage({ subject: SUBJECTS.jobsSubmit, msg_id: job, payload: { job_id: job } });
    expect(message.subject).toBe('jobs.exchange.submit');
    expect(message.msgId).toBe(job);
    expect(new TextDecoder().decode(message.data)).toBe(`{"job_id":"${job}"}`);
    expect(decodeJobSubmit(message.data)).toEqual({ ok: true, value: { job_id: job } });
  });

  it('carries its msg id in the header JetStream dedupes on', () => {
    expect(MSG_ID_HEADER).toBe('Nats-Msg-Id');
    expect(msgIdHeaders(job).get('Nats-Msg-Id')).toBe(job);
  });

  it('is refused when it is not JSON or names no job id', () => {
    expect(decodeJobSubmit(bytes('{"job_id":'))).toMatchObject({ ok: false, kind: 'not-json' });
    for (const text of ['{}', '{"job_id":"not-a-uuid"}', `["${job}"]`, `{"job_id":${JSON.stringify(` ${job}`)}}`]) {
      expect(decodeJobSubmit(bytes(text)), text).toMatchObject({ ok: false, kind: 'invalid' });
    }
  });
});
