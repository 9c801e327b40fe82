package io.cairn.queue;

import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Entry;
import io.cairn.persistence.StorageBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Drops a queue's messages or dead letters for an operator ({@code cairn queue purge}). The queue
 * must not be open in this process (it is reserved while the purge runs) and, on an embedded
 * backend, no other process can have it open (the backend's directory lock).
 *
 * <h2>Crash safety</h2>
 *
 * Messages: the state records at or above the floor are deleted in batches of {@value #BATCH}, then
 * one transaction moves the floor to the log's end (with the last batch), then the log is truncated
 * below the new floor — the queue's own truncation protocol ({@link QueueLog}). A crash before the
 * floor moves leaves every message in the queue (those whose state record was already deleted are
 * offered again as never delivered, attempt count reset); running the purge again finishes it. A
 * crash after the floor moved leaves log records below it, which the next recovery truncates. Dead
 * letters: deleted in batches; a crash leaves the rest, and running it again finishes. Nothing
 * outside the queue's four stores is touched.
 */
public final class QueuePurge {
  static final int BATCH = 10_000;

  private QueuePurge() {}

  /** What was removed. */
  public record Result(long messages, long deadLetters) {}

  /**
   * Removes every unfinished message (pending, delayed and leased) of queue {@code queue} when
   * {@code messages}, and every dead letter when {@code deadLetters}.
   *
   * @throws io.cairn.persistence.PersistenceException if the queue is open in this process
   */
  public static Result purge(
      StorageBackend backend, String queue, boolean messages, boolean deadLetters) {
    Objects.requireNonNull(backend, "backend");
    QueueInspector.Stores s = QueueInspector.stores(backend, queue);
    QueueEngine.reserve(backend, queue);
    try {
      long purgedMessages = messages ? purgeMessages(backend, s) : 0;
      long purgedDead = deadLetters ? deleteAll(backend, s.deadName(), s.dead()) : 0;
      return new Result(purgedMessages, purgedDead);
    } finally {
      QueueEngine.release(backend, queue);
    }
  }

  private static long purgeMessages(StorageBackend backend, QueueInspector.Stores s) {
    long floor = Math.max(QueueInspector.storedFloor(s), s.log().firstOffset());
    long end = s.log().nextOffset();
    long finished = 0;
    List<byte[]> keys = new ArrayList<>();
    try (CloseableIterator<Entry> it = s.states().scan(null, null)) {
      while (it.hasNext()) {
        Entry e = it.next();
        keys.add(e.key());
        if (Records.offsetOf(e.key(), s.stateName()) >= floor) {
          byte status = Records.state(e.value(), s.stateName(), e.key()).status();
          finished += status == Records.ACKED || status == Records.DEAD ? 1 : 0;
        }
      }
    }
    while (keys.size() > BATCH) {
      List<byte[]> batch = keys.subList(keys.size() - BATCH, keys.size());
      backend.inTransaction(
          tx -> {
            var kv = tx.keyValue(s.stateName());
            batch.forEach(kv::delete);
            return null;
          });
      batch.clear();
    }
    backend.inTransaction(
        tx -> {
          var kv = tx.keyValue(s.stateName());
          keys.forEach(kv::delete);
          tx.keyValue(s.metaName()).put(Records.FLOOR_KEY, Records.longValue(end));
          return null;
        });
    s.log().truncateBefore(end);
    return Math.max(0, end - floor - finished);
  }

  private static long deleteAll(
      StorageBackend backend, String name, io.cairn.persistence.KeyValueStore store) {
    long deleted = 0;
    while (true) {
      List<byte[]> keys = new ArrayList<>();
      try (CloseableIterator<Entry> it = store.scan(null, null)) {
        while (it.hasNext() && keys.size() < BATCH) {
          keys.add(it.next().key());
        }
      }
      if (keys.isEmpty()) {
        return deleted;
      }
      backend.inTransaction(
          tx -> {
            var kv = tx.keyValue(name);
            keys.forEach(kv::delete);
            return null;
          });
      deleted += keys.size();
    }
  }
}
