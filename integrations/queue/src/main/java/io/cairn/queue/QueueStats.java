package io.cairn.queue;

/**
 * A point-in-time view of a queue, also published as Dropwizard gauges under {@code
 * cairn.queues.<name>}.
 *
 * @param depth messages waiting for delivery (never delivered, or due or delayed for redelivery)
 * @param inFlight messages delivered and not yet acked, nacked or expired
 * @param deadLetters messages in the dead-letter store
 * @param oldestAgeMillis age of the oldest unfinished message by the registry clock, 0 if none
 * @param enqueued messages enqueued by this instance since open
 * @param acked acks since open
 * @param nacked nacks since open
 * @param deadLettered messages dead-lettered since open
 * @param redelivered deliveries after the first (nacks and expired leases) since open
 */
public record QueueStats(
    long depth,
    long inFlight,
    long deadLetters,
    long oldestAgeMillis,
    long enqueued,
    long acked,
    long nacked,
    long deadLettered,
    long redelivered) {}
