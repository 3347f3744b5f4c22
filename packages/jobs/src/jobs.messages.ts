// The submit message on the wire. A submitted job's outbox row (written with the job, by
// insertJobsWithOutbox in @ratewire/db) holds subject jobs.exchange.submit, payload {job_id} and
// msg_id = the job id; the relay sends the payload as JSON with the msg_id as Nats-Msg-Id, so a row
// published twice (a crash between publish and mark) is dropped by the stream's duplicate window.
// The worker reads the message back with the same schema (jobSubmitMessage, in the contracts).
import { jobSubmitMessage, type JobSubmitMessage } from '@ratewire/contracts';
import { decodeMessage, type Decoded } from '@ratewire/runtime';
import { headers, type MsgHdrs } from 'nats';

export { jobSubmitMessage, type JobSubmitMessage };

/** JetStream drops a second message with the same value of this header within the duplicate window. */
export const MSG_ID_HEADER = 'Nats-Msg-Id';

export interface OutgoingMessage {
  subject: string;
  /** Sent as Nats-Msg-Id. */
  msgId: string;
  data: Uint8Array;
}

const encoder = new TextEncoder();

/** An outbox row (OutboxRow of @ratewire/db) as the message the relay publishes. */
export function outboxMessage(row: { subject: string; msg_id: string; payload: unknown }): OutgoingMessage {
  return { subject: row.subject, msgId: row.msg_id, data: encoder.encode(JSON.stringify(row.payload)) };
}

/** The headers of a message sent with `msgId`. */
export function msgIdHeaders(msgId: string): MsgHdrs {
  const h = headers();
  h.set(MSG_ID_HEADER, msgId);
  return h;
}

/** A submit message as the worker receives it, or why it is refused. */
export function decodeJobSubmit(data: Uint8Array): Decoded<JobSubmitMessage> {
  return decodeMessage(jobSubmitMessage, data);
}
