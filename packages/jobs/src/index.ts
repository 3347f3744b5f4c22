// @ratewire/jobs: the exchange-jobs pipeline between the api and the workers: the JetStream stream and
// consumer, the submit message on the wire, and the outbox relay that publishes it.
export * from './jobs.stream.ts';
export * from './jobs.messages.ts';
export * from './jetstream.publisher.ts';
export * from './outbox.relay.ts';
