// @ratewire/jobs: the exchange-jobs pipeline between the api and the workers: the JetStream stream and
// consumer, the submit message on the wire, and the outbox relay that publishes it.
export {
  JOBS_CONSUMER,
  JOBS_DUPLICATE_WINDOW_MS,
  JOBS_MAX_ACK_PENDING,
  JOBS_STREAM,
  ensureJobsConsumer,
  ensureJobsStream,
  jobsConsumerConfig,
  jobsStreamConfig,
  type JetStreamTopologyOptions,
} from './jobs.stream.ts';
export {
  MSG_ID_HEADER,
  decodeJobSubmit,
  jobSubmitMessage,
  msgIdHeaders,
  outboxMessage,
  type JobSubmitMessage,
  type OutgoingMessage,
} from './jobs.messages.ts';
export {
  JetStreamBatchPublisher,
  type JetStreamBatchPublisherOptions,
  type PublishOutcome,
} from './jetstream.publisher.ts';
export { OutboxRelay, type OutboxRelayDeps, type OutboxRelayOptions } from './outbox.relay.ts';
