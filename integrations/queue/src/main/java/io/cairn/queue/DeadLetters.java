package io.cairn.queue;

import com.codahale.metrics.Meter;
import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValueStore;
import io.cairn.queue.MessageIndex.Tracked;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dead letters of one queue: moving messages to the dead-letter store ({@code queue.<q>.dead},
 * layout in {@link QueueLog}), listing them, and redriving them as new messages. A message is
 * dead-lettered in one transaction that writes its full copy and its DEAD state record; a redrive
 * deletes the copy and appends a new message in one transaction, so a crash never half-applies
 * either. Thread-safe.
 */
final class DeadLetters {
  private static final Logger log = LoggerFactory.getLogger(DeadLetters.class);

  private final QueueLog store;
  private final MessageIndex index;
  private final GroupCommitter committer;
  private final Clock clock;
  private final KeyValueStore dead;
  private final Meter deadMeter;
  private final Meter enqueuedMeter;

  DeadLetters(
      QueueLog store, GroupCommitter committer, Clock clock, Meter deadMeter, Meter enqueuedMeter) {
    this.store = store;
    this.index = store.index;
    this.committer = committer;
    this.clock = clock;
    this.dead = store.dead;
    this.deadMeter = deadMeter;
    this.enqueuedMeter = enqueuedMeter;
  }

  /** How many dead letters are stored (a full scan; used at recovery). */
  long count() {
    long n = 0;
    try (CloseableIterator<Entry> it = dead.scan(null, null)) {
      while (it.hasNext()) {
        it.next();
        n++;
      }
    }
    return n;
  }

  /**
   * Dead-letters messages whose lease ran out at max-attempts; a failure is logged and retried on a
   * later pass.
   */
  void deadLetterExpired(List<Tracked> deads) {
    if (deads.isEmpty()) {
      return;
    }
    try {
      commitDead(deads, "max-attempts reached (lease expired)", true);
    } catch (RuntimeException e) {
      log.warn(
          "Queue '{}': could not dead-letter {} expired message(s); retrying later: {}",
          store.queue,
          deads.size(),
          e.toString());
    }
  }

  /**
   * Moves BUSY messages to the dead-letter store in one transaction. On failure, if {@code
   * fromPoll}, the messages become due again a second later; otherwise the caller unclaims them.
   */
  void commitDead(List<Tracked> ts, String reason, boolean fromPoll) {
    long now = clock.millis();
    try {
      store.loadPayloads(ts);
      committer.commit(
          tx -> {
            var d = tx.keyValue(store.deadName);
            var s = tx.keyValue(store.stateName);
            for (Tracked t : ts) {
              byte[] key = Records.key(t.offset);
              d.put(key, Records.dead(t.attempts, t.enqueuedAt, now, reason, t.payload));
              s.put(key, Records.state(Records.DEAD, t.attempts, now));
            }
          },
          () -> index.deadLettered(ts));
    } catch (RuntimeException e) {
      if (fromPoll) {
        index.revert(ts, now + 1000);
      }
      throw e;
    }
    deadMeter.mark(ts.size());
    log.debug("Queue '{}': dead-lettered {} message(s): {}", store.queue, ts.size(), reason);
    store.maybeTruncate(false);
  }

  List<DeadLetter<byte[]>> list(long fromId, int max) {
    if (max <= 0) {
      throw new IllegalArgumentException("max must be positive, got " + max);
    }
    index.ensureOpen();
    List<DeadLetter<byte[]>> out = new ArrayList<>();
    try (CloseableIterator<Entry> it = dead.scan(Records.key(Math.max(0, fromId)), null)) {
      while (it.hasNext() && out.size() < max) {
        Entry e = it.next();
        out.add(Records.dead(e.key(), e.value(), store.deadName));
      }
    }
    return out;
  }

  /** Moves the given dead letters back to the queue as new messages; returns how many moved. */
  int redrive(Collection<Long> ids) {
    java.util.Objects.requireNonNull(ids, "ids");
    index.ensureOpen();
    List<DeadLetter<byte[]>> found = new ArrayList<>();
    for (Long id : new TreeSet<>(ids)) {
      byte[] v = dead.get(Records.key(id));
      if (v != null) {
        found.add(Records.dead(Records.key(id), v, store.deadName));
      }
    }
    if (found.isEmpty()) {
      return 0;
    }
    long now = clock.millis();
    long[] appended = new long[] {0, -1};
    committer.commit(
        tx -> {
          var d = tx.keyValue(store.deadName);
          var l = tx.log(store.logName);
          for (DeadLetter<byte[]> dl : found) {
            if (d.delete(Records.key(dl.id()))) {
              long off = l.append(Records.message(now, dl.payload()));
              appended[0]++;
              appended[1] = off;
            }
          }
        },
        () -> index.redriven(appended[0], appended[1]));
    enqueuedMeter.mark(appended[0]);
    return (int) appended[0];
  }

  /** Redrives every dead letter, in batches; returns how many moved. */
  long redriveAll() {
    long total = 0;
    while (true) {
      List<DeadLetter<byte[]>> batch = list(0, 512);
      if (batch.isEmpty()) {
        return total;
      }
      List<Long> ids = new ArrayList<>();
      for (DeadLetter<byte[]> d : batch) {
        ids.add(d.id());
      }
      int moved = redrive(ids);
      total += moved;
      if (moved == 0) {
        return total;
      }
    }
  }
}
