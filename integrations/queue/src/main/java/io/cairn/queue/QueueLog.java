package io.cairn.queue;

import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.RetentionFloors;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.Transaction;
import io.cairn.persistence.spi.ArgumentChecks;
import io.cairn.queue.MessageIndex.Tracked;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The log and recovery layer of one queue: owns the stored layout (below), the stores, recovery on
 * open, reading payloads back, the state-record writes, and truncation of the finished head. It
 * builds the queue's {@link MessageIndex} and feeds it from the log; {@link QueueEngine} drives
 * both, {@link DeadLetters} owns the dead-letter store.
 *
 * <h2>Stored layout (queue {@code <q>} on one backend)</h2>
 *
 * <pre>
 * log  queue.&lt;q&gt;          one record per message; offset = message id
 *                               [format=1][enqueuedAt epoch ms: 8][payload]
 * kv   queue.&lt;q&gt;.state    key = offset (8 bytes big-endian); one record per message that was
 *                               ever delivered, at or above the floor:
 *                               [format=1][status: 1][attempts: 4][at epoch ms: 8]
 *                               status READY(1)  - waiting for redelivery at "at" (after nack)
 *                                      LEASED(2) - delivered; lease runs out at "at"
 *                                      ACKED(3)  - finished by ack
 *                                      DEAD(4)   - finished by moving to the dead-letter store
 * kv   queue.&lt;q&gt;.dead     key = original offset; a full copy of the message:
 *                               [format=1][attempts: 4][enqueuedAt: 8][deadAt: 8][reason length: 4]
 *                               [reason UTF-8][payload]
 * kv   queue.&lt;q&gt;.meta     "floor" -> 8 bytes: every message below this offset is finished
 * </pre>
 *
 * <p>A message at or above the floor without a state record has never been delivered. Absence of a
 * state record therefore means "pending", so enqueue writes only the log.
 *
 * <h2>Commit points</h2>
 *
 * <ul>
 *   <li>Enqueue: the log append. Concurrent enqueues share one transaction ({@link
 *       GroupCommitter}).
 *   <li>Delivery: the state record LEASED(attempts + 1, now + visibility-timeout) is committed
 *       before the delivery is handed out, so attempt counts survive crashes. A poller that is
 *       waiting when a commit is made gets its lease written in that commit (for a message this
 *       commit enqueues, the log record and the lease commit together); ackAndPoll commits an ack
 *       and the next lease together.
 *   <li>Ack: state ACKED. Nack: state READY(visible-at). Dead-lettering: the dead-letter copy and
 *       state DEAD in one transaction. Redrive: delete the dead-letter copy and append a new
 *       message in one transaction. A crash therefore never half-applies a state change.
 *   <li>Truncation: when the first unfinished offset has moved {@code truncate-every} past the
 *       stored floor, one transaction writes the new floor and deletes the state records below it;
 *       then the log is truncated below the floor. A crash between the two leaves log records below
 *       the floor, which recovery truncates again.
 * </ul>
 *
 * <h2>Recovery (on open)</h2>
 *
 * <ol>
 *   <li>floor = max(stored floor, first log offset); log records below the floor are truncated and
 *       state records below it deleted.
 *   <li>Every state record at or above the floor is loaded: ACKED and DEAD are skipped by delivery;
 *       READY is redelivered at its visible-at time; LEASED is redelivered when its lease runs out
 *       (the lease is honoured even though its holder died with the old process). A message whose
 *       attempts have reached max-attempts is dead-lettered instead of redelivered.
 *   <li>Log records at or above the floor without a state record are delivered for the first time,
 *       in offset (= enqueue) order, read from the log in batches of {@code prefetch}.
 * </ol>
 *
 * <p>Thread-safe: the stores are, the index has its own lock, and truncation never runs twice at
 * once ({@link MessageIndex#beginTruncation}). No method here holds the index lock while it does
 * I/O, except the index's own read-ahead through {@link #read}.
 */
final class QueueLog {
  private static final Logger log = LoggerFactory.getLogger(QueueLog.class);

  final String queue;
  final StorageBackend backend;
  final String logName;
  final String stateName;
  final String deadName;
  final String metaName;
  final LogStore messages;
  final KeyValueStore states;
  final KeyValueStore dead; // used by DeadLetters; opened here to keep the stores' creation order
  final KeyValueStore meta;
  final MessageIndex index;
  private final Clock clock;
  private final GroupCommitter committer;

  QueueLog(StorageBackend backend, QueueSettings settings, Clock clock, GroupCommitter committer) {
    this.queue = settings.name();
    this.backend = backend;
    this.clock = clock;
    this.committer = committer;
    String base = "queue." + settings.name();
    this.logName = ArgumentChecks.check("log", base);
    this.stateName = ArgumentChecks.check("key-value namespace", base + ".state");
    this.deadName = ArgumentChecks.check("key-value namespace", base + ".dead");
    this.metaName = ArgumentChecks.check("key-value namespace", base + ".meta");
    this.messages = backend.log(logName);
    // the queue truncates its own log to what recovery needs: keep background retention off it
    backend.extension(RetentionFloors.class).ifPresent(f -> f.register(logName, () -> 0));
    this.states = backend.keyValue(stateName);
    this.dead = backend.keyValue(deadName);
    this.meta = backend.keyValue(metaName);
    this.index = new MessageIndex(queue, backend.name(), logName, settings, clock, this::read);
  }

  /** The index's log reader: up to {@code max} records from {@code from} on. */
  List<LogRecord> read(long from, int max) {
    return messages.read(from, max);
  }

  // ------------------------------------------------------------------ recovery

  /**
   * Recovers the index from the stores (see the class comment); {@code deadLetters} counts them.
   */
  void recover(LongSupplier deadLetters) {
    long started = System.nanoTime();
    byte[] storedFloor = meta.get(Records.FLOOR_KEY);
    long floor =
        storedFloor == null ? 0 : Records.longValue(storedFloor, metaName, Records.FLOOR_KEY);
    floor = Math.max(floor, messages.firstOffset());
    long end = messages.nextOffset();
    if (floor > end) {
      throw new StoreCorruptedException(
          "Queue '"
              + queue
              + "' on backend '"
              + backend.name()
              + "': stored floor "
              + floor
              + " is past the end of log '"
              + logName
              + "' ("
              + end
              + "). The log was truncated or replaced outside the queue; restore both stores from"
              + " one backup.");
    }
    if (messages.firstOffset() < floor) {
      messages.truncateBefore(floor);
    }
    List<byte[]> stale = new ArrayList<>();
    long now = clock.millis();
    int loaded = 0;
    index.start(floor, end);
    try (CloseableIterator<Entry> it = states.scan(null, null)) {
      while (it.hasNext()) {
        Entry e = it.next();
        long offset = Records.offsetOf(e.key(), stateName);
        if (offset < floor) {
          Records.State st = Records.state(e.value(), stateName, e.key());
          if (st.status() != Records.ACKED && st.status() != Records.DEAD) {
            log.error(
                "Queue '{}': message {} below the stored floor {} was not finished (status {});"
                    + " its log record is gone. IllegalStateException",
                queue,
                offset,
                floor,
                st.status());
          }
          stale.add(e.key());
          continue;
        }
        if (offset >= end) {
          throw new StoreCorruptedException(
              "Queue '"
                  + queue
                  + "': state store '"
                  + stateName
                  + "' has a record for message "
                  + offset
                  + " but log '"
                  + logName
                  + "' ends at "
                  + end
                  + ". Restore both stores from one backup.");
        }
        index.restore(offset, Records.state(e.value(), stateName, e.key()));
        loaded++;
      }
    }
    if (!stale.isEmpty()) {
      committer.commit(
          tx -> {
            var kv = tx.keyValue(stateName);
            for (byte[] k : stale) {
              kv.delete(k);
            }
          },
          () -> {});
    }
    long dead = deadLetters.getAsLong();
    index.setDeadCount(dead);
    log.info(
        "Recovered queue '{}' on backend '{}': log [{}, {}), {} state records, {} delivered and"
            + " unfinished, {} dead letters ({} ms, now {})",
        queue,
        backend.name(),
        floor,
        end,
        loaded,
        index.trackedCount(),
        dead,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started),
        Instant.ofEpochMilli(now));
    io.cairn.persistence.spi.Events.recovered(
        backend, "queue", queue, (System.nanoTime() - started) / 1_000_000, loaded);
  }

  /** Reads payload and enqueue time of a recovered message from the log (t is BUSY: ours). */
  void loadPayload(Tracked t) {
    if (t.payload != null) {
      return;
    }
    List<LogRecord> r = messages.read(t.offset, 1);
    if (r.isEmpty() || r.get(0).offset() != t.offset) {
      throw new StoreCorruptedException(
          "Queue '"
              + queue
              + "': message "
              + t.offset
              + " has a state record but no record in log '"
              + logName
              + "' on backend '"
              + backend.name()
              + "'. Run `cairn verify`; restore from a backup if the log was damaged.");
    }
    t.enqueuedAt = Records.messageEnqueuedAt(r.get(0).payload(), logName, t.offset);
    t.payload = Records.messagePayload(r.get(0).payload(), logName, t.offset);
  }

  /** Loads the payloads of {@code ts} (see {@link #loadPayload}). */
  void loadPayloads(List<Tracked> ts) {
    for (Tracked t : ts) {
      loadPayload(t);
    }
  }

  // ------------------------------------------------------------------ writes (inside a commit)

  /** Appends the message records; returns the offset of the first. */
  long append(Transaction tx, List<byte[]> records) {
    return tx.log(logName).appendAll(records);
  }

  /** Stores LEASED(attempts + 1, leaseUntil) for each pick. */
  void writeLeases(Transaction tx, List<Tracked> picks, long leaseUntil) {
    var kv = tx.keyValue(stateName);
    for (Tracked t : picks) {
      kv.put(Records.key(t.offset), Records.state(Records.LEASED, t.attempts + 1, leaseUntil));
    }
  }

  /** Stores ACKED for a claimed message. */
  void writeAck(Transaction tx, Tracked t) {
    tx.keyValue(stateName).put(Records.key(t.offset), Records.state(Records.ACKED, t.attempts, 0));
  }

  /** Stores READY(visibleAt): redelivery after a nack. */
  void writeReady(Transaction tx, Tracked t, long visibleAt) {
    tx.keyValue(stateName)
        .put(Records.key(t.offset), Records.state(Records.READY, t.attempts, visibleAt));
  }

  // ------------------------------------------------------------------ truncation

  /**
   * Stores a new floor and truncates the log below it, if it moved {@code truncate-every} (or at
   * all, when {@code force}). Returns records truncated. Never runs twice at once; a failure is
   * logged and retried on a later call.
   */
  long maybeTruncate(boolean force) {
    MessageIndex.Truncation tr = index.beginTruncation(force);
    if (tr == null) {
      return 0;
    }
    long from = tr.from();
    long to = tr.to();
    try {
      List<byte[]> finished = new ArrayList<>();
      try (CloseableIterator<Entry> it = states.scan(Records.key(from), Records.key(to))) {
        while (it.hasNext()) {
          Entry e = it.next();
          Records.State st = Records.state(e.value(), stateName, e.key());
          if (st.status() != Records.ACKED && st.status() != Records.DEAD) {
            // Never happens if the in-memory index is right; refuse to lose a message if not.
            throw new IllegalStateException(
                "Queue '"
                    + queue
                    + "': message "
                    + Records.offsetOf(e.key(), stateName)
                    + " below the new floor "
                    + to
                    + " is not finished (status "
                    + st.status()
                    + "); truncation refused");
          }
          finished.add(e.key());
        }
      }
      if (finished.size() != to - from) {
        // Every message below the floor was delivered and finished, so it has a marker.
        throw new IllegalStateException(
            "Queue '"
                + queue
                + "': only "
                + finished.size()
                + " of the "
                + (to - from)
                + " messages in ["
                + from
                + ", "
                + to
                + ") are marked finished; truncation refused. Index: "
                + tr.index());
      }
      committer.commit(
          tx -> {
            tx.keyValue(metaName).put(Records.FLOOR_KEY, Records.longValue(to));
            var s = tx.keyValue(stateName);
            for (byte[] k : finished) {
              s.delete(k);
            }
          },
          () -> index.floorStored(to));
      long removed = messages.truncateBefore(to);
      log.debug("Queue '{}': floor {} -> {}, truncated {} log records", queue, from, to, removed);
      return removed;
    } catch (RuntimeException e) {
      log.warn(
          "Queue '{}': truncating the finished head failed; will retry: {}", queue, e.toString());
      return 0;
    } finally {
      index.endTruncation();
    }
  }
}
