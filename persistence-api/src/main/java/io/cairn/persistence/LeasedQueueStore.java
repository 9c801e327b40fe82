package io.cairn.persistence;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * Queues whose messages are leased by the storage server itself, so that many processes on many
 * machines can consume one queue: a backend extension ({@link StorageBackend#extension}) offered by
 * networked backends that declare {@link Capability#MULTI_PROCESS} (PostgreSQL). The durable queue
 * ({@code io.cairn.queue.DurableQueue}) runs its shared engine on it; a {@code MULTI_PROCESS}
 * backend without it cannot host a queue, because a queue index kept in one process's memory would
 * hand the same message to every process.
 *
 * <h2>Contract</h2>
 *
 * <ul>
 *   <li><b>Queues</b> are named by the caller ({@code queue}, 1 to 200 characters) and need no
 *       creation; a queue nothing was ever enqueued to is empty. Message ids are positive, unique
 *       within the backend and never reused (not necessarily consecutive: several processes take
 *       ids at once).
 *   <li><b>Durability.</b> Every method that changes state is one atomic transaction that is as
 *       durable as the backend's {@link StorageBackend#durability()} when it returns (all or
 *       nothing for batch calls).
 *   <li><b>Leases.</b> {@link #lease} hands out up to {@code max} messages that are due (enqueued,
 *       nacked and now visible, or whose previous lease ran out), each under a lease of {@code
 *       visibility} and with a fresh {@link Lease#token() token}. No message is leased to two
 *       callers at once, in any number of processes: a message is leased again only after its lease
 *       ran out or it was nacked. Concurrent callers skip messages another caller is leasing
 *       instead of waiting for them. Order: due messages by due time (enqueue time for a first
 *       delivery, the end of a lease or nack delay for a redelivery), then id.
 *   <li><b>Tokens.</b> {@link #ack}, {@link #nack}, {@link #deadLetter} and {@link #extend} take
 *       the (id, token) of a lease and act only if that lease is still the message's latest one: no
 *       other lease was handed out since and the message was not settled. Otherwise they change
 *       nothing and return {@code false} (or empty): the lease is <i>stale</i> (it ran out and the
 *       message went to another consumer, or the message was already acked, nacked, dead-lettered
 *       or purged). A stale lease is not an error: someone else owns or finished the message.
 *       Settling after the lease ran out still works while no one else has leased the message. So
 *       an ack returns {@code true} exactly once per message.
 *   <li><b>Attempts.</b> {@link Lease#attempt()} counts leases of the message (1 for the first),
 *       stored with the lease. When a lease of attempt {@code maxAttempts} (the argument of {@link
 *       #lease}) runs out, the next {@link #lease} call that sees it moves it to the dead letters
 *       with reason {@code "max-attempts reached (lease expired)"} instead of leasing it.
 *   <li><b>Dead letters</b> are kept per queue until {@link #redrive}n (back into the queue as a
 *       new message with a new id and attempt 0) or {@link #purge}d.
 *   <li><b>Clock.</b> Every time (visibility, delays, lease deadlines, enqueue and dead-letter
 *       times) is taken from the storage server's clock ({@code now()} on PostgreSQL), never from
 *       the calling process: consumers run on many machines whose clocks disagree, and a lease
 *       judged by each consumer's own clock would run out early on one machine and late on another,
 *       handing a message to two consumers at once or to none. The instants returned are the
 *       server's; compare them only with each other.
 *   <li><b>Payloads</b> are stored sealed when the backend encrypts (bound to the queue and the
 *       message id) and checked on read: a damaged or moved payload throws {@link
 *       StoreCorruptedException} naming the queue and id.
 * </ul>
 *
 * <h2>Threads and exceptions</h2>
 *
 * Thread-safe; calls from any number of threads and processes may run at once. Bad arguments throw
 * {@link IllegalArgumentException} or {@link NullPointerException} and change nothing. Storage
 * failures throw {@link PersistenceException} subclasses, and nothing of the failed call is
 * applied: {@link BackendClosedException} after the backend closed; {@link StorageEngineException}
 * when the server fails the call. When the server cannot be reached (restarting, network down), the
 * exception is a retriable {@link StorageEngineException} subclass whose message says "unavailable"
 * and "Retriable" (PostgreSQL: {@code io.cairn.backend.postgres.PostgresUnavailableException}); the
 * same call may be made again, and the backend reconnects by itself. If the connection broke while
 * the commit was in flight the outcome is unknown, as if the process had crashed just before the
 * call returned: a retried ack then returns {@code false} if the first one took effect.
 */
public interface LeasedQueueStore {
  /** Longest queue name, in characters. */
  int MAX_QUEUE_NAME_LENGTH = 200;

  /**
   * One lease of one message.
   *
   * @param id the message id
   * @param payload the payload (the caller owns the array)
   * @param attempt which lease of the message this is, 1 for the first
   * @param token identifies this lease; pass it back to settle the message
   * @param enqueuedAt when the message was enqueued, by the server clock
   * @param deadline when the lease runs out, by the server clock
   */
  record Lease(
      long id, byte[] payload, int attempt, long token, Instant enqueuedAt, Instant deadline) {}

  /**
   * A dead letter.
   *
   * @param id the id the message had in the queue ({@link #redrive} takes it)
   * @param payload the payload
   * @param attempts leases made before it was dead-lettered
   * @param enqueuedAt when it was enqueued
   * @param deadAt when it was dead-lettered
   * @param reason why
   */
  record DeadMessage(
      long id, byte[] payload, int attempts, Instant enqueuedAt, Instant deadAt, String reason) {}

  /**
   * Counts of one queue at one moment of the server clock.
   *
   * @param ready due now (never leased, nacked and visible again, or with a lease that ran out)
   * @param delayed nacked with a delay that has not passed yet
   * @param leased under a lease that has not run out
   * @param dead in the dead letters
   * @param oldestAgeMillis age of the oldest message that is not dead, 0 if none
   */
  record Counts(long ready, long delayed, long leased, long dead, long oldestAgeMillis) {}

  /** The result of {@link #lease}: the leases taken and how many messages it dead-lettered. */
  record LeaseBatch(List<Lease> leases, int deadLettered) {}

  /** Enqueues one message; returns its id once it is durable. */
  long enqueue(String queue, byte[] payload);

  /**
   * Enqueues the messages atomically (all or none); returns their ids in the order given once they
   * are durable. An empty list does nothing and returns an empty list.
   */
  List<Long> enqueueAll(String queue, List<byte[]> payloads);

  /**
   * Leases up to {@code max} due messages for {@code visibility} (see the class contract). Returns
   * at once, with an empty list if none is due: it never waits for a message.
   *
   * @param maxAttempts a message whose lease of this attempt ran out is dead-lettered, not leased
   */
  LeaseBatch lease(String queue, int max, Duration visibility, int maxAttempts);

  /** Finishes the message for good; {@code false} if the lease is stale (see the contract). */
  boolean ack(String queue, long id, long token);

  /**
   * Makes the message due again after {@code delay} (zero: at once); {@code false} if the lease is
   * stale. Its attempt count is kept.
   */
  boolean nack(String queue, long id, long token, Duration delay);

  /** Moves the message to the dead letters with {@code reason}; {@code false} if stale. */
  boolean deadLetter(String queue, long id, long token, String reason);

  /**
   * Sets the lease to run out {@code visibility} from now (server clock) and returns the new
   * deadline; empty if the lease is stale. The token stays the same.
   */
  Optional<Instant> extend(String queue, long id, long token, Duration visibility);

  /** Up to {@code max} dead letters of the queue with id at least {@code fromId}, in id order. */
  List<DeadMessage> deadLetters(String queue, long fromId, int max);

  /**
   * Moves these dead letters back into the queue as new messages (new ids, attempt 0), atomically
   * with their removal from the dead letters. Unknown ids are ignored. Returns how many moved.
   */
  int redrive(String queue, Collection<Long> ids);

  /**
   * Removes every message of the queue that is not a dead letter (ready, delayed and leased:
   * outstanding leases become stale), and also the dead letters if {@code deadLetters}. Returns how
   * many were removed.
   */
  long purge(String queue, boolean deadLetters);

  /** The queue's counts now. */
  Counts counts(String queue);

  /**
   * The names of the queues that hold at least one message (ready, delayed, leased or dead), in
   * name order. Tools that copy a backend's stores (export, migrate) use it to find queue data that
   * lives outside the three stores.
   */
  java.util.SortedSet<String> queues();
}
