package io.cairn.queue;

import com.typesafe.config.Config;
import io.cairn.persistence.Capability;
import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.StoreStats;
import io.cairn.persistence.spi.Settings;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Operator access to a queue's stored state without opening the queue: what {@code cairn queue
 * list}, {@code peek} and {@code dead-letters} show. It reads the stores laid out by {@link
 * QueueLog} and never writes, so it runs on a read-only backend beside a live service, and it does
 * not run the queue's recovery (which may write). Because it reads several stores one after another
 * while a service may be changing them, its counts are a near-instant view, not one snapshot.
 *
 * <p>Only the one-process queue layout is understood: a queue on a backend with {@link
 * Capability#MULTI_PROCESS} keeps its messages elsewhere and is refused with a message.
 */
public final class QueueInspector {
  private static final int READ_BATCH = 512;

  private QueueInspector() {}

  /** A message as stored: never leased or changed by looking at it. */
  public record Message(
      long id,
      String status,
      int attempts,
      Instant enqueuedAt,
      Instant visibleAt,
      int payloadBytes,
      byte[] payload) {
    @Override
    public String toString() {
      return "Message[id=" + id + ", status=" + status + ", payload=" + payloadBytes + " bytes]";
    }
  }

  /**
   * What a queue holds.
   *
   * @param floor every message below it is finished (the log starts there)
   * @param end the id the next enqueued message gets
   * @param pending never delivered, waiting
   * @param delayed waiting for redelivery after a nack (READY with a future visible-at)
   * @param leased delivered and not settled; redelivered when the lease runs out
   * @param finished acked or dead-lettered but not yet truncated away
   * @param deadLetters messages in the dead-letter store
   * @param next up to the requested number of messages a consumer would be offered next, in id
   *     order (pending, or READY whose visible-at has passed, or LEASED whose lease has run out)
   */
  public record Inspection(
      String queue,
      String backend,
      long floor,
      long end,
      long pending,
      long delayed,
      long leased,
      long finished,
      long deadLetters,
      List<Message> next) {}

  /** The backend a queue is configured on ({@code cairn.queues.<name>.backend} or the default). */
  public static String backendOf(Config root, String queue) {
    List<ConfigProblem> problems = new ArrayList<>();
    QueueSettings s = QueueSettings.read(root, queue, problems);
    Settings.throwIfAny(problems);
    return s.backend();
  }

  /** The queues configured under {@code cairn.queues} and those stored on {@code backend}. */
  public static SortedSet<String> queueNames(Config root, StorageBackend backend) {
    SortedSet<String> names = new TreeSet<>();
    for (String q : QueueSettings.configuredNames(root)) {
      if (backendOf(root, q).equals(backend.name())) {
        names.add(q);
      }
    }
    for (StoreStats s : backend.stats().stores()) {
      StoreId id = s.store();
      if (id.kind() == StoreKind.LOG && id.name().startsWith("queue.")) {
        names.add(id.name().substring("queue.".length()));
      }
    }
    return names;
  }

  /**
   * Reads queue {@code queue} on {@code backend}: counts, and up to {@code max} next messages (with
   * their payloads only when {@code withPayloads}).
   *
   * @throws UnsupportedOperationException for a queue on a multi-process backend
   * @throws io.cairn.persistence.StoreCorruptedException if a stored record does not decode
   */
  public static Inspection inspect(
      StorageBackend backend, String queue, int max, boolean withPayloads, Clock clock) {
    Objects.requireNonNull(backend, "backend");
    Objects.requireNonNull(clock, "clock");
    if (max < 0) {
      throw new IllegalArgumentException("max must be 0 or more, got " + max);
    }
    Stores s = stores(backend, queue);
    long floor = Math.max(storedFloor(s), s.log.firstOffset());
    long end = s.log.nextOffset();
    long now = clock.millis();
    Map<Long, Records.State> states = new HashMap<>();
    long delayed = 0;
    long leased = 0;
    long finished = 0;
    try (CloseableIterator<Entry> it = s.states.scan(null, null)) {
      while (it.hasNext()) {
        Entry e = it.next();
        long offset = Records.offsetOf(e.key(), s.stateName);
        if (offset < floor) {
          continue; // stale: the next recovery deletes it
        }
        Records.State st = Records.state(e.value(), s.stateName, e.key());
        states.put(offset, st);
        switch (st.status()) {
          case Records.READY -> delayed += st.at() > now ? 1 : 0;
          case Records.LEASED -> leased++;
          default -> finished++;
        }
      }
    }
    long pending = Math.max(0, end - floor - states.size());
    // READY with a past visible-at counts as pending: a consumer is offered it now.
    for (Records.State st : states.values()) {
      if (st.status() == Records.READY && st.at() <= now) {
        pending++;
      }
    }
    List<Message> next = new ArrayList<>();
    long from = floor;
    while (next.size() < max && from < end) {
      List<LogRecord> batch = s.log.read(from, READ_BATCH);
      if (batch.isEmpty()) {
        break;
      }
      for (LogRecord r : batch) {
        from = r.offset() + 1;
        Records.State st = states.get(r.offset());
        Message m = offered(s.logName, r, st, now, withPayloads);
        if (m != null) {
          next.add(m);
          if (next.size() == max) {
            break;
          }
        }
      }
    }
    return new Inspection(
        queue,
        backend.name(),
        floor,
        end,
        pending,
        delayed,
        leased,
        finished,
        countDeadLetters(s),
        List.copyOf(next));
  }

  static long countDeadLetters(Stores s) {
    long n = 0;
    try (CloseableIterator<Entry> it = s.dead.scan(null, null)) {
      while (it.hasNext()) {
        it.next();
        n++;
      }
    }
    return n;
  }

  /** Up to {@code max} dead letters with id at least {@code fromId}, in id order. */
  public static List<DeadLetter<byte[]>> deadLetters(
      StorageBackend backend, String queue, long fromId, int max) {
    Stores s = stores(backend, queue);
    List<DeadLetter<byte[]>> out = new ArrayList<>();
    try (CloseableIterator<Entry> it = s.dead.scan(Records.key(Math.max(0, fromId)), null)) {
      while (it.hasNext() && out.size() < max) {
        Entry e = it.next();
        out.add(Records.dead(e.key(), e.value(), s.deadName));
      }
    }
    return out;
  }

  private static Message offered(
      String logName, LogRecord r, Records.State st, long now, boolean withPayloads) {
    String status;
    int attempts = 0;
    long visibleAt;
    long enqueuedAt = Records.messageEnqueuedAt(r.payload(), logName, r.offset());
    if (st == null) {
      status = "pending";
      visibleAt = enqueuedAt;
    } else if (st.status() == Records.READY && st.at() <= now) {
      status = "ready";
      attempts = st.attempts();
      visibleAt = st.at();
    } else if (st.status() == Records.LEASED && st.at() <= now) {
      status = "lease-expired";
      attempts = st.attempts();
      visibleAt = st.at();
    } else {
      return null; // delayed, leased, or finished: not offered now
    }
    int size = r.payload().length - 9;
    byte[] payload = withPayloads ? Records.messagePayload(r.payload(), logName, r.offset()) : null;
    return new Message(
        r.offset(),
        status,
        attempts,
        Instant.ofEpochMilli(enqueuedAt),
        Instant.ofEpochMilli(visibleAt),
        size,
        payload);
  }

  static long storedFloor(Stores s) {
    byte[] stored = s.meta.get(Records.FLOOR_KEY);
    return stored == null ? 0 : Records.longValue(stored, s.metaName, Records.FLOOR_KEY);
  }

  /** The four stores of a queue, named as {@link QueueLog} names them. */
  record Stores(
      String logName,
      String stateName,
      String deadName,
      String metaName,
      LogStore log,
      KeyValueStore states,
      KeyValueStore dead,
      KeyValueStore meta) {}

  static Stores stores(StorageBackend backend, String queue) {
    Objects.requireNonNull(queue, "queue");
    if (backend.capabilities().contains(Capability.MULTI_PROCESS)) {
      throw new UnsupportedOperationException(
          "Queue '"
              + queue
              + "' is on backend '"
              + backend.name()
              + "' ("
              + backend.type()
              + "), shared by several processes: its messages are not kept in the one-process"
              + " layout this command reads. Use the queue's API (stats(), deadLetters()) from a"
              + " service instance.");
    }
    String base = "queue." + queue;
    return new Stores(
        base,
        base + ".state",
        base + ".dead",
        base + ".meta",
        backend.log(base),
        backend.keyValue(base + ".state"),
        backend.keyValue(base + ".dead"),
        backend.keyValue(base + ".meta"));
  }
}
