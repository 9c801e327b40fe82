package io.cairn.queue;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.ClosedException;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.Transaction;
import io.cairn.persistence.spi.StoreNames;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.WeakHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The byte-level queue: storage layout, in-memory index, leases, group commit and recovery. {@link
 * DurableQueue} is its typed face.
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
 * <p>Thread-safe. One lock guards the in-memory index; no I/O except prefetching log reads happens
 * under it, and commits happen outside it on the group committer's thread. Enqueued payloads go
 * straight from the producer to the in-memory read-ahead (up to {@code prefetch} messages), so
 * consumers read the log only for a backlog beyond that or after a restart.
 */
final class QueueEngine implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(QueueEngine.class);
  private static final long MAX_WAIT_SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
  static final int MAX_PAYLOAD_BYTES = KeyValueStore.MAX_VALUE_BYTES - 64;

  /** Queues open in this process, per backend instance: a second open would corrupt the index. */
  private static final Map<StorageBackend, Set<String>> OPEN = new WeakHashMap<>();

  final QueueSettings settings;
  private final StorageBackend backend;
  private final Clock clock;
  private final String logName;
  private final String stateName;
  private final String deadName;
  private final String metaName;
  private final LogStore messages;
  private final KeyValueStore states;
  private final KeyValueStore dead;
  private final KeyValueStore meta;
  private final GroupCommitter committer;
  private final MetricRegistry metrics;
  private final String metricPrefix;
  private final List<String> metricNames = new ArrayList<>();
  private final Meter enqueuedMeter;
  private final Meter ackedMeter;
  private final Meter nackedMeter;
  private final Meter deadMeter;
  private final Meter redeliveredMeter;
  private final List<AutoCloseable> workers = new ArrayList<>();

  private final ReentrantLock lock = new ReentrantLock();

  // ---- leader-local: touched only by the group-commit leader inside one transaction
  /** Messages appended by the current transaction, in offset order (for hand-off to pollers). */
  private final List<Tracked> batchAppends = new ArrayList<>();

  // ---- guarded by lock
  /** Next log offset to read for first deliveries. */
  private long cursor;

  /** Offsets below this are committed in the log. */
  private long knownEnd;

  /** Offsets at or above the cursor that already have a state record (skipped when read). */
  private final TreeSet<Long> skip = new TreeSet<>();

  /** Read from the log, never delivered, in offset order (all below the cursor). */
  private final ArrayDeque<Tracked> prefetched = new ArrayDeque<>();

  /** Delivered and unfinished messages. */
  private final TreeMap<Long, Tracked> tracked = new TreeMap<>();

  private final PriorityQueue<Due> timers =
      new PriorityQueue<>(Comparator.comparingLong(Due::at).thenComparingLong(Due::offset));
  private long persistedFloor;
  private int leasedCount;
  private int delayedCount;
  private long deadCount;
  private long generation;
  private boolean compacting;
  private boolean closed;
  private long oldestCacheOffset = -1;
  private long oldestCacheEnqueuedAt;

  /** Pollers waiting for a message, oldest first. */
  private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();

  private enum Phase {
    /** Never delivered; in {@link #prefetched}. */
    NEW,
    /** Waiting to be redelivered at dueAt. */
    DELAYED,
    /** Leased until dueAt. */
    LEASED,
    /** A commit for this message is in progress. */
    BUSY
  }

  /** In-memory state of one message. Fields guarded by the engine lock except while BUSY. */
  private static final class Tracked {
    final long offset;
    long enqueuedAt = -1;
    byte[] payload;
    int attempts;
    Phase phase;
    long dueAt;
    long gen;

    Tracked(long offset) {
      this.offset = offset;
    }
  }

  private record Due(long at, long offset, long gen) {}

  /**
   * A poller waiting in {@link #poll}. Guarded by the engine lock. WAITING: in {@link #waiters};
   * ASSIGNED: a commit is storing leases for {@link #picks}; DONE: the leases are stored.
   */
  private static final class Waiter {
    static final int WAITING = 0;
    static final int ASSIGNED = 1;
    static final int DONE = 2;

    final int max;
    final Condition wake;
    int state = WAITING;
    List<Tracked> picks;
    long leaseUntil;

    Waiter(int max, Condition wake) {
      this.max = max;
      this.wake = wake;
    }
  }

  private QueueEngine(
      StorageBackend backend, QueueSettings settings, Clock clock, MetricRegistry m) {
    this.backend = backend;
    this.settings = settings;
    this.clock = clock;
    String base = "queue." + settings.name();
    this.logName = StoreNames.check("log", base);
    this.stateName = StoreNames.check("key-value namespace", base + ".state");
    this.deadName = StoreNames.check("key-value namespace", base + ".dead");
    this.metaName = StoreNames.check("key-value namespace", base + ".meta");
    this.messages = backend.log(logName);
    this.states = backend.keyValue(stateName);
    this.dead = backend.keyValue(deadName);
    this.meta = backend.keyValue(metaName);
    this.metrics = m;
    this.metricPrefix = "cairn.queues." + settings.name();
    String batchMetric = metricPrefix + ".commit-batch";
    m.remove(batchMetric);
    this.committer =
        new GroupCommitter(
            backend,
            "queue " + settings.name() + " on " + backend.name(),
            1024,
            m.histogram(batchMetric));
    metricNames.add(batchMetric);
    this.committer.setHook(new Handoff());
    this.enqueuedMeter = m.meter(metricPrefix + ".enqueued");
    this.ackedMeter = m.meter(metricPrefix + ".acked");
    this.nackedMeter = m.meter(metricPrefix + ".nacked");
    this.deadMeter = m.meter(metricPrefix + ".dead-lettered");
    this.redeliveredMeter = m.meter(metricPrefix + ".redelivered");
  }

  /**
   * Opens queue {@code settings.name()} on {@code backend} and recovers it.
   *
   * @throws PersistenceException if it is already open on that backend in this process, or recovery
   *     fails (e.g. {@link StoreCorruptedException})
   */
  static QueueEngine open(
      StorageBackend backend, QueueSettings settings, Clock clock, MetricRegistry metrics) {
    synchronized (OPEN) {
      Set<String> names = OPEN.computeIfAbsent(backend, b -> new HashSet<>());
      if (!names.add(settings.name())) {
        throw new PersistenceException(
            "Queue '"
                + settings.name()
                + "' is already open on backend '"
                + backend.name()
                + "' in this process; share that instance (DurableQueues.queue(name)) or close it"
                + " first.");
      }
    }
    QueueEngine engine = null;
    try {
      engine = new QueueEngine(backend, settings, clock, metrics);
      engine.recover();
      engine.registerGauges();
      return engine;
    } catch (RuntimeException e) {
      if (engine != null) {
        engine.committer.close();
      }
      release(backend, settings.name());
      throw e;
    }
  }

  private static void release(StorageBackend backend, String name) {
    synchronized (OPEN) {
      Set<String> names = OPEN.get(backend);
      if (names != null) {
        names.remove(name);
      }
    }
  }

  String name() {
    return settings.name();
  }

  String backendName() {
    return backend.name();
  }

  // ------------------------------------------------------------------ recovery

  private void recover() {
    long started = System.nanoTime();
    byte[] storedFloor = meta.get(Records.FLOOR_KEY);
    long floor =
        storedFloor == null ? 0 : Records.longValue(storedFloor, metaName, Records.FLOOR_KEY);
    floor = Math.max(floor, messages.firstOffset());
    long end = messages.nextOffset();
    if (floor > end) {
      throw new StoreCorruptedException(
          "Queue '"
              + name()
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
    lock.lock();
    try {
      persistedFloor = floor;
      cursor = floor;
      knownEnd = end;
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
                  name(),
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
                    + name()
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
          Records.State st = Records.state(e.value(), stateName, e.key());
          skip.add(offset);
          loaded++;
          if (st.status() == Records.ACKED || st.status() == Records.DEAD) {
            continue;
          }
          Tracked t = new Tracked(offset);
          t.attempts = st.attempts();
          t.dueAt = st.at();
          t.gen = ++generation;
          if (st.status() == Records.LEASED) {
            t.phase = Phase.LEASED;
            leasedCount++;
          } else {
            t.phase = Phase.DELAYED;
            delayedCount++;
          }
          tracked.put(offset, t);
          timers.add(new Due(t.dueAt, offset, t.gen));
        }
      }
    } finally {
      lock.unlock();
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
    long deadLetters = 0;
    try (CloseableIterator<Entry> it = dead.scan(null, null)) {
      while (it.hasNext()) {
        it.next();
        deadLetters++;
      }
    }
    lock.lock();
    try {
      deadCount = deadLetters;
    } finally {
      lock.unlock();
    }
    log.info(
        "Recovered queue '{}' on backend '{}': log [{}, {}), {} state records, {} delivered and"
            + " unfinished, {} dead letters ({} ms, now {})",
        name(),
        backend.name(),
        floor,
        end,
        loaded,
        tracked.size(),
        deadLetters,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started),
        Instant.ofEpochMilli(now));
  }

  private void registerGauges() {
    gauge("depth", () -> stats().depth());
    gauge("in-flight", () -> stats().inFlight());
    gauge("dead-letters", () -> stats().deadLetters());
    gauge("oldest-age-ms", this::oldestAgeMillis);
  }

  private void gauge(String suffix, Gauge<Long> g) {
    String n = metricPrefix + "." + suffix;
    metrics.remove(n);
    metrics.register(n, g);
    metricNames.add(n);
  }

  // ------------------------------------------------------------------ enqueue

  /** Appends the payloads as one atomic group and returns the first id (ids are consecutive). */
  long enqueueAll(List<byte[]> payloads) {
    Objects.requireNonNull(payloads, "payloads");
    int n = payloads.size();
    List<byte[]> records = new ArrayList<>(n);
    long now = clock.millis();
    for (byte[] p : payloads) {
      Objects.requireNonNull(p, "payload");
      if (p.length > MAX_PAYLOAD_BYTES) {
        throw new IllegalArgumentException(
            "Payload of "
                + p.length
                + " bytes exceeds the queue limit of "
                + MAX_PAYLOAD_BYTES
                + " bytes; nothing was enqueued to queue '"
                + name()
                + "'");
      }
      records.add(Records.message(now, p));
    }
    ensureOpen();
    if (records.isEmpty()) {
      return knownEnd();
    }
    long[] first = new long[1];
    Tracked[] appended = new Tracked[n];
    committer.commit(
        n,
        tx -> {
          first[0] = tx.log(logName).appendAll(records);
          for (int i = 0; i < n; i++) {
            // The delivered payload is a private copy: the caller may reuse its array.
            Tracked t = new Tracked(first[0] + i);
            t.enqueuedAt = now;
            t.payload = payloads.get(i).clone();
            t.phase = Phase.NEW;
            appended[i] = t;
            batchAppends.add(t);
          }
        },
        () -> {
          lock.lock();
          try {
            knownEnd = Math.max(knownEnd, first[0] + n);
            // Messages below the cursor were handed to waiting pollers by this commit. The next
            // ones go to the in-memory read-ahead (while it has room) so that no consumer reads
            // back from the log what the producer just wrote; the rest are read from the log.
            for (Tracked t : appended) {
              if (t.offset < cursor) {
                continue;
              }
              if (t.offset != cursor || prefetched.size() >= settings.prefetch()) {
                break;
              }
              prefetched.add(t);
              cursor++;
            }
            signalWaitersLocked();
          } finally {
            lock.unlock();
          }
        });
    enqueuedMeter.mark(n);
    return first[0];
  }

  private long knownEnd() {
    lock.lock();
    try {
      return knownEnd;
    } finally {
      lock.unlock();
    }
  }

  // ------------------------------------------------------------------ poll

  /**
   * Up to {@code max} deliveries, waiting up to {@code timeout} for the first.
   *
   * <p>A poller that finds nothing registers as a {@link Waiter}. Every group commit then leases
   * messages to the waiting pollers inside the same transaction ({@link Handoff}), including the
   * messages that transaction enqueues, so a message enqueued while a consumer waits costs one
   * commit for enqueue and lease together. The poller also wakes for due redeliveries, for messages
   * it must read from the log, and at its deadline.
   */
  List<Delivery<byte[]>> poll(int max, Duration timeout) {
    if (max <= 0) {
      throw new IllegalArgumentException("max must be positive, got " + max);
    }
    Objects.requireNonNull(timeout, "timeout");
    long deadline = System.nanoTime() + Math.max(0, timeout.toNanos());
    while (true) {
      List<Tracked> picks = new ArrayList<>();
      List<Tracked> deads = new ArrayList<>();
      Waiter served = null;
      lock.lock();
      try {
        ensureOpen();
        take(max, picks, deads);
        if (picks.isEmpty() && deads.isEmpty()) {
          served = await(max, deadline);
          if (served == null) {
            return List.of();
          }
          if (served.state != Waiter.DONE) {
            continue; // woken because something is available to take
          }
        }
      } finally {
        lock.unlock();
      }
      if (served != null) {
        return deliveries(served.picks, served.leaseUntil);
      }
      deadLetterExpired(deads);
      if (!picks.isEmpty()) {
        return deliver(picks);
      }
    }
  }

  /**
   * Under the lock: waits as a {@link Waiter} until a commit leased messages to it (returns it
   * DONE), something may be available to take (returns it WAITING, no longer registered) or the
   * deadline passed or the thread was interrupted (returns null).
   */
  private Waiter await(int max, long deadline) {
    Waiter w = new Waiter(max, lock.newCondition());
    waiters.add(w);
    boolean interrupted = false;
    try {
      while (true) {
        if (w.state == Waiter.DONE) {
          return w;
        }
        if (w.state == Waiter.WAITING) {
          if (closed) {
            waiters.remove(w);
            throw new ClosedException(
                "queue '" + name() + "' on backend '" + backend.name() + "'",
                "open it again with DurableQueue.open or DurableQueues");
          }
          long remaining = deadline - System.nanoTime();
          if (remaining <= 0 || interrupted) {
            waiters.remove(w);
            return null;
          }
          if (availableLocked()) {
            waiters.remove(w);
            return w;
          }
          long wait = remaining;
          Due next = timers.peek();
          if (next != null) {
            long untilDue = TimeUnit.MILLISECONDS.toNanos(next.at() - clock.millis());
            wait = Math.max(1, Math.min(wait, untilDue));
          }
          try {
            w.wake.awaitNanos(wait);
          } catch (InterruptedException e) {
            interrupted = true;
          }
        } else {
          // ASSIGNED: a commit is storing our leases; it signals when done (or failed).
          w.wake.awaitUninterruptibly();
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Under the lock: whether {@link #take} would find something now. */
  private boolean availableLocked() {
    if (!prefetched.isEmpty() || cursor < knownEnd) {
      return true;
    }
    Due d = timers.peek();
    return d != null && d.at() <= clock.millis();
  }

  /** Under the lock: wakes every waiting poller so that it looks for work itself. */
  private void signalWaitersLocked() {
    for (Waiter w : waiters) {
      w.wake.signal();
    }
  }

  /**
   * The group-commit hook that leases messages to waiting pollers in the commit that is being made
   * anyway: first read-ahead messages (never from the log: that is the poller's own job), then the
   * messages this very transaction appends, in offset order and to the oldest waiters first. The
   * choice is made under the engine lock before the transaction starts ({@link #prepare}); inside
   * the transaction only leader-local state is used, because a reader holding the engine lock may
   * be waiting for the backend.
   */
  private final class Handoff implements GroupCommitter.BatchHook {
    @Override
    public void begin() {
      batchAppends.clear();
    }

    @Override
    public GroupCommitter.Outcome prepare(int appends) {
      List<Waiter> served = new ArrayList<>();
      List<Integer> fromBatch = new ArrayList<>();
      int batchTaken = 0;
      long leaseUntil;
      long appendStart;
      lock.lock();
      try {
        if (waiters.isEmpty() || closed) {
          return null;
        }
        Due due = timers.peek();
        long now = clock.millis();
        if (due != null && due.at() <= now) {
          return null; // redeliveries first, and dead-lettering: the pollers take those themselves
        }
        leaseUntil = saturatedAdd(now, settings.visibilityTimeout().toMillis());
        appendStart = knownEnd;
        for (Waiter w : waiters) {
          List<Tracked> picks = new ArrayList<>();
          while (picks.size() < w.max && !prefetched.isEmpty()) {
            Tracked t = prefetched.poll();
            t.phase = Phase.BUSY;
            tracked.put(t.offset, t);
            picks.add(t);
          }
          // This transaction's appends follow the read-ahead only if nothing unread lies between.
          int n = 0;
          if (prefetched.isEmpty() && cursor >= knownEnd) {
            n = Math.min(w.max - picks.size(), appends - batchTaken);
          }
          if (picks.isEmpty() && n == 0) {
            break;
          }
          batchTaken += n;
          w.picks = picks;
          served.add(w);
          fromBatch.add(n);
        }
        for (Waiter w : served) {
          waiters.remove(w);
          w.state = Waiter.ASSIGNED;
          w.leaseUntil = leaseUntil;
        }
      } finally {
        lock.unlock();
      }
      if (served.isEmpty()) {
        return null;
      }
      return new GroupCommitter.Outcome() {
        int handedFromBatch;

        @Override
        public void write(Transaction tx) {
          // Leader-local: only batchAppends and the assigned waiters' pick lists.
          int i = 0;
          for (int k = 0; k < served.size(); k++) {
            Waiter w = served.get(k);
            for (int j = 0; j < fromBatch.get(k); j++, i++) {
              if (i >= batchAppends.size() || batchAppends.get(i).offset != appendStart + i) {
                break; // another append (redrive) came between: leave the rest in the log
              }
              Tracked t = batchAppends.get(i);
              t.phase = Phase.BUSY;
              w.picks.add(t);
              handedFromBatch = i + 1;
            }
            writeLeases(tx, w.picks, leaseUntil);
          }
        }

        @Override
        public void committed() {
          lock.lock();
          try {
            if (handedFromBatch > 0) {
              // The handed-off appends are contiguous from the cursor (nothing was unread).
              cursor = appendStart + handedFromBatch;
              knownEnd = Math.max(knownEnd, cursor);
            }
            for (int k = served.size() - 1; k >= 0; k--) {
              Waiter w = served.get(k);
              if (w.picks.isEmpty()) {
                w.state = Waiter.WAITING; // its appends did not materialise; keep its place
                waiters.addFirst(w);
              } else {
                for (Tracked t : w.picks) {
                  tracked.put(t.offset, t);
                }
                leasedLocked(w.picks, leaseUntil);
                w.state = Waiter.DONE;
              }
              w.wake.signal();
            }
          } finally {
            lock.unlock();
          }
        }

        @Override
        public void failed(RuntimeException e) {
          lock.lock();
          try {
            for (int k = served.size() - 1; k >= 0; k--) {
              Waiter w = served.get(k);
              List<Tracked> fromPrefetch = new ArrayList<>();
              for (Tracked t : w.picks) {
                if (tracked.get(t.offset) == t) {
                  fromPrefetch.add(t);
                }
              }
              revertLocked(fromPrefetch, clock.millis());
              w.picks = null;
              w.state = Waiter.WAITING;
              waiters.addFirst(w);
            }
            signalWaitersLocked();
          } finally {
            lock.unlock();
          }
        }
      };
    }
  }

  private List<Delivery<byte[]>> deliveries(List<Tracked> picks, long leaseUntil) {
    List<Delivery<byte[]>> out = new ArrayList<>(picks.size());
    Instant deadline = Instant.ofEpochMilli(leaseUntil);
    int redeliveries = 0;
    for (Tracked t : picks) {
      if (t.attempts > 1) {
        redeliveries++;
      }
      out.add(
          new Delivery<>(
              t.offset, t.payload, t.attempts, Instant.ofEpochMilli(t.enqueuedAt), deadline));
    }
    if (redeliveries > 0) {
      redeliveredMeter.mark(redeliveries);
    }
    return out;
  }

  /** Under the lock: takes due redeliveries, then first deliveries, marking them BUSY. */
  private void take(int max, List<Tracked> picks, List<Tracked> deads) {
    long now = clock.millis();
    while (picks.size() < max && !timers.isEmpty() && timers.peek().at() <= now) {
      Due d = timers.poll();
      Tracked t = tracked.get(d.offset());
      if (t == null || t.gen != d.gen() || t.phase == Phase.BUSY) {
        continue;
      }
      if (t.phase == Phase.LEASED) {
        leasedCount--;
      } else {
        delayedCount--;
      }
      t.phase = Phase.BUSY;
      (t.attempts >= settings.maxAttempts() ? deads : picks).add(t);
    }
    while (picks.size() < max) {
      if (prefetched.isEmpty()) {
        while (cursor < knownEnd && skip.remove(cursor)) {
          cursor++; // delivered before (e.g. handed to a poller); no need to read it
        }
        if (cursor >= knownEnd) {
          break;
        }
        readAhead();
        continue;
      }
      Tracked t = prefetched.poll();
      t.phase = Phase.BUSY;
      tracked.put(t.offset, t);
      picks.add(t);
    }
  }

  /** Under the lock: reads the next batch of never-delivered messages from the log. */
  private void readAhead() {
    while (prefetched.isEmpty() && cursor < knownEnd) {
      List<LogRecord> batch =
          messages.read(cursor, (int) Math.min(settings.prefetch(), knownEnd - cursor));
      if (batch.isEmpty()) {
        throw new StoreCorruptedException(
            "Queue '"
                + name()
                + "': log '"
                + logName
                + "' returned no records from offset "
                + cursor
                + " although it holds records up to "
                + knownEnd
                + ". Run `cairn verify` on backend '"
                + backend.name()
                + "'.");
      }
      for (LogRecord r : batch) {
        if (r.offset() >= knownEnd) {
          break;
        }
        if (r.offset() != cursor) {
          throw new StoreCorruptedException(
              "Queue '"
                  + name()
                  + "': log '"
                  + logName
                  + "' on backend '"
                  + backend.name()
                  + "' returned offset "
                  + r.offset()
                  + " where "
                  + cursor
                  + " was expected (a gap in a gap-free log, or records truncated while"
                  + " unfinished). Run `cairn verify`.");
        }
        cursor = r.offset() + 1;
        if (skip.remove(r.offset())) {
          continue;
        }
        Tracked t = new Tracked(r.offset());
        t.enqueuedAt = Records.messageEnqueuedAt(r.payload(), logName, r.offset());
        t.payload = Records.messagePayload(r.payload(), logName, r.offset());
        t.phase = Phase.NEW;
        prefetched.add(t);
      }
      skip.headSet(cursor).clear();
    }
  }

  private List<Delivery<byte[]>> deliver(List<Tracked> picks) {
    try {
      for (Tracked t : picks) {
        loadPayload(t);
      }
    } catch (RuntimeException e) {
      revert(picks, clock.millis());
      throw e;
    }
    long now = clock.millis();
    long leaseUntil = saturatedAdd(now, settings.visibilityTimeout().toMillis());
    try {
      committer.commit(
          tx -> writeLeases(tx, picks, leaseUntil),
          () -> {
            lock.lock();
            try {
              leasedLocked(picks, leaseUntil);
            } finally {
              lock.unlock();
            }
          });
    } catch (RuntimeException e) {
      revert(picks, now);
      throw e;
    }
    return deliveries(picks, leaseUntil);
  }

  /** Stores LEASED(attempts + 1, leaseUntil) for each pick. */
  private void writeLeases(Transaction tx, List<Tracked> picks, long leaseUntil) {
    var kv = tx.keyValue(stateName);
    for (Tracked t : picks) {
      kv.put(Records.key(t.offset), Records.state(Records.LEASED, t.attempts + 1, leaseUntil));
    }
  }

  /** Under the lock, after {@link #writeLeases} committed: the picks are leased. */
  private void leasedLocked(List<Tracked> picks, long leaseUntil) {
    for (Tracked t : picks) {
      t.attempts++;
      t.phase = Phase.LEASED;
      t.dueAt = leaseUntil;
      t.gen = ++generation;
      timers.add(new Due(leaseUntil, t.offset, t.gen));
      leasedCount++;
    }
  }

  /** A failed commit: the messages become due again at {@code at}, unchanged in the store. */
  private void revert(List<Tracked> ts, long at) {
    lock.lock();
    try {
      revertLocked(ts, at);
    } finally {
      lock.unlock();
    }
  }

  private void revertLocked(List<Tracked> ts, long at) {
    for (Tracked t : ts) {
      t.phase = Phase.DELAYED;
      t.dueAt = at;
      t.gen = ++generation;
      timers.add(new Due(at, t.offset, t.gen));
      delayedCount++;
    }
    signalWaitersLocked();
  }

  /** Reads payload and enqueue time of a recovered message from the log (t is BUSY: ours). */
  private void loadPayload(Tracked t) {
    if (t.payload != null) {
      return;
    }
    List<LogRecord> r = messages.read(t.offset, 1);
    if (r.isEmpty() || r.get(0).offset() != t.offset) {
      throw new StoreCorruptedException(
          "Queue '"
              + name()
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

  // ------------------------------------------------------------------ settle

  /** Claims a leased delivery for settling; null if the lease was lost. Under no lock. */
  private Tracked claim(long id, int attempt) {
    lock.lock();
    try {
      ensureOpen();
      Tracked t = tracked.get(id);
      if (t == null || t.phase != Phase.LEASED || t.attempts != attempt) {
        return null;
      }
      t.phase = Phase.BUSY;
      leasedCount--;
      return t;
    } finally {
      lock.unlock();
    }
  }

  /** Returns a claimed delivery to LEASED after a failed commit. */
  private void unclaim(Tracked t) {
    lock.lock();
    try {
      t.phase = Phase.LEASED;
      t.gen = ++generation;
      timers.add(new Due(t.dueAt, t.offset, t.gen));
      leasedCount++;
    } finally {
      lock.unlock();
    }
  }

  boolean ack(long id, int attempt) {
    Tracked t = claim(id, attempt);
    if (t == null) {
      return false;
    }
    ackClaimed(t);
    return true;
  }

  /** Acks a message claimed with {@link #claim}; unclaims it if the commit fails. */
  private void ackClaimed(Tracked t) {
    boolean[] truncationDue = new boolean[1];
    try {
      committer.commit(
          tx -> writeAck(tx, t),
          () -> {
            lock.lock();
            try {
              truncationDue[0] = ackedLocked(t);
            } finally {
              lock.unlock();
            }
          });
    } catch (RuntimeException e) {
      unclaim(t);
      throw e;
    }
    ackedMeter.mark();
    if (truncationDue[0]) {
      maybeTruncate(false);
    }
  }

  private void writeAck(Transaction tx, Tracked t) {
    tx.keyValue(stateName).put(Records.key(t.offset), Records.state(Records.ACKED, t.attempts, 0));
  }

  /** Under the lock, after {@link #writeAck} committed. Returns whether truncation is due. */
  private boolean ackedLocked(Tracked t) {
    // Only finishing the lowest unfinished message can move the floor.
    boolean lowest = tracked.firstKey() == t.offset;
    tracked.remove(t.offset);
    return lowest && !compacting && floorLocked() - persistedFloor >= settings.truncateEvery();
  }

  /**
   * Acks delivery ({@code id}, {@code attempt}) and leases up to {@code max} next messages in the
   * same commit; if none is available at once, acks alone and then polls as {@link #poll}. If the
   * lease of the acked delivery was lost, nothing is acked and this only polls.
   */
  List<Delivery<byte[]>> ackAndPoll(long id, int attempt, int max, Duration timeout) {
    if (max <= 0) {
      throw new IllegalArgumentException("max must be positive, got " + max);
    }
    Objects.requireNonNull(timeout, "timeout");
    Tracked done = claim(id, attempt);
    if (done == null) {
      return poll(max, timeout);
    }
    List<Tracked> picks = new ArrayList<>();
    List<Tracked> deads = new ArrayList<>();
    lock.lock();
    try {
      take(max, picks, deads);
    } catch (RuntimeException e) {
      revertLocked(picks, clock.millis());
      revertLocked(deads, clock.millis());
      lock.unlock();
      unclaim(done);
      throw e;
    }
    lock.unlock();
    deadLetterExpired(deads);
    if (picks.isEmpty()) {
      ackClaimed(done);
      return poll(max, timeout);
    }
    try {
      for (Tracked t : picks) {
        loadPayload(t);
      }
    } catch (RuntimeException e) {
      revert(picks, clock.millis());
      ackClaimed(done);
      throw e;
    }
    long now = clock.millis();
    long leaseUntil = saturatedAdd(now, settings.visibilityTimeout().toMillis());
    boolean[] truncationDue = new boolean[1];
    try {
      committer.commit(
          tx -> {
            writeAck(tx, done);
            writeLeases(tx, picks, leaseUntil);
          },
          () -> {
            lock.lock();
            try {
              truncationDue[0] = ackedLocked(done);
              leasedLocked(picks, leaseUntil);
            } finally {
              lock.unlock();
            }
          });
    } catch (RuntimeException e) {
      unclaim(done);
      revert(picks, now);
      throw e;
    }
    ackedMeter.mark();
    if (truncationDue[0]) {
      maybeTruncate(false);
    }
    return deliveries(picks, leaseUntil);
  }

  /** Nacks; {@code delay} null means the default backoff. Dead-letters at max-attempts. */
  boolean nack(long id, int attempt, Duration delay) {
    if (delay != null && delay.isNegative()) {
      throw new IllegalArgumentException("delay must not be negative, got " + delay);
    }
    Tracked t = claim(id, attempt);
    if (t == null) {
      return false;
    }
    if (t.attempts >= settings.maxAttempts()) {
      try {
        commitDead(List.of(t), "max-attempts reached (nack)", false);
      } catch (RuntimeException e) {
        unclaim(t);
        throw e;
      }
      nackedMeter.mark();
      return true;
    }
    Duration d = delay != null ? delay : settings.backoff(t.attempts);
    long visibleAt = saturatedAdd(clock.millis(), d.toMillis());
    try {
      committer.commit(
          tx ->
              tx.keyValue(stateName)
                  .put(Records.key(id), Records.state(Records.READY, t.attempts, visibleAt)),
          () -> {
            lock.lock();
            try {
              t.phase = Phase.DELAYED;
              t.dueAt = visibleAt;
              t.gen = ++generation;
              timers.add(new Due(visibleAt, id, t.gen));
              delayedCount++;
              signalWaitersLocked();
            } finally {
              lock.unlock();
            }
          });
    } catch (RuntimeException e) {
      unclaim(t);
      throw e;
    }
    nackedMeter.mark();
    return true;
  }

  boolean deadLetter(long id, int attempt, String reason) {
    Objects.requireNonNull(reason, "reason");
    Tracked t = claim(id, attempt);
    if (t == null) {
      return false;
    }
    try {
      commitDead(List.of(t), reason, false);
    } catch (RuntimeException e) {
      unclaim(t);
      throw e;
    }
    return true;
  }

  /**
   * Dead-letters messages whose lease ran out at max-attempts; a failure is logged and retried on a
   * later pass.
   */
  private void deadLetterExpired(List<Tracked> deads) {
    if (deads.isEmpty()) {
      return;
    }
    try {
      commitDead(deads, "max-attempts reached (lease expired)", true);
    } catch (RuntimeException e) {
      log.warn(
          "Queue '{}': could not dead-letter {} expired message(s); retrying later: {}",
          name(),
          deads.size(),
          e.toString());
    }
  }

  /**
   * Moves BUSY messages to the dead-letter store in one transaction. On failure, if {@code
   * fromPoll}, the messages become due again a second later; otherwise the caller unclaims them.
   */
  private void commitDead(List<Tracked> ts, String reason, boolean fromPoll) {
    long now = clock.millis();
    try {
      for (Tracked t : ts) {
        loadPayload(t);
      }
      committer.commit(
          tx -> {
            var d = tx.keyValue(deadName);
            var s = tx.keyValue(stateName);
            for (Tracked t : ts) {
              byte[] key = Records.key(t.offset);
              d.put(key, Records.dead(t.attempts, t.enqueuedAt, now, reason, t.payload));
              s.put(key, Records.state(Records.DEAD, t.attempts, now));
            }
          },
          () -> {
            lock.lock();
            try {
              for (Tracked t : ts) {
                tracked.remove(t.offset);
              }
              deadCount += ts.size();
            } finally {
              lock.unlock();
            }
          });
    } catch (RuntimeException e) {
      if (fromPoll) {
        revert(ts, now + 1000);
      }
      throw e;
    }
    deadMeter.mark(ts.size());
    log.debug("Queue '{}': dead-lettered {} message(s): {}", name(), ts.size(), reason);
    maybeTruncate(false);
  }

  // ------------------------------------------------------------------ dead letters

  List<DeadLetter<byte[]>> deadLetters(long fromId, int max) {
    if (max <= 0) {
      throw new IllegalArgumentException("max must be positive, got " + max);
    }
    ensureOpen();
    List<DeadLetter<byte[]>> out = new ArrayList<>();
    try (CloseableIterator<Entry> it = dead.scan(Records.key(Math.max(0, fromId)), null)) {
      while (it.hasNext() && out.size() < max) {
        Entry e = it.next();
        out.add(Records.dead(e.key(), e.value(), deadName));
      }
    }
    return out;
  }

  /** Moves the given dead letters back to the queue as new messages; returns how many moved. */
  int redrive(Collection<Long> ids) {
    Objects.requireNonNull(ids, "ids");
    ensureOpen();
    List<DeadLetter<byte[]>> found = new ArrayList<>();
    for (Long id : new TreeSet<>(ids)) {
      byte[] v = dead.get(Records.key(id));
      if (v != null) {
        found.add(Records.dead(Records.key(id), v, deadName));
      }
    }
    if (found.isEmpty()) {
      return 0;
    }
    long now = clock.millis();
    long[] appended = new long[] {0, -1};
    committer.commit(
        tx -> {
          var d = tx.keyValue(deadName);
          var l = tx.log(logName);
          for (DeadLetter<byte[]> dl : found) {
            if (d.delete(Records.key(dl.id()))) {
              long off = l.append(Records.message(now, dl.payload()));
              appended[0]++;
              appended[1] = off;
            }
          }
        },
        () -> {
          lock.lock();
          try {
            if (appended[0] > 0) {
              knownEnd = Math.max(knownEnd, appended[1] + 1);
              deadCount -= appended[0];
              signalWaitersLocked();
            }
          } finally {
            lock.unlock();
          }
        });
    enqueuedMeter.mark(appended[0]);
    return (int) appended[0];
  }

  /** Redrives every dead letter, in batches; returns how many moved. */
  long redriveAll() {
    long total = 0;
    while (true) {
      List<DeadLetter<byte[]>> batch = deadLetters(0, 512);
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

  // ------------------------------------------------------------------ truncation

  /** First offset that is not finished (conservative: never above the true value). */
  private long floorLocked() {
    long f;
    if (!prefetched.isEmpty()) {
      f = prefetched.peek().offset;
    } else {
      f = cursor;
      for (Long s : skip.tailSet(cursor)) {
        if (s != f || f >= knownEnd || tracked.containsKey(s)) {
          break;
        }
        f++;
      }
    }
    if (!tracked.isEmpty()) {
      f = Math.min(f, tracked.firstKey());
    }
    return f;
  }

  /**
   * Stores a new floor and truncates the log below it, if it moved {@code truncate-every} (or at
   * all, when {@code force}). Returns records truncated. Never runs twice at once.
   */
  long maybeTruncate(boolean force) {
    long from;
    long to;
    String index;
    lock.lock();
    try {
      if (compacting || closed && !force) {
        return 0;
      }
      to = floorLocked();
      from = persistedFloor;
      if (to <= from || (!force && to - from < settings.truncateEvery())) {
        return 0;
      }
      index = describeIndexLocked();
      compacting = true;
    } finally {
      lock.unlock();
    }
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
                    + name()
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
                + name()
                + "': only "
                + finished.size()
                + " of the "
                + (to - from)
                + " messages in ["
                + from
                + ", "
                + to
                + ") are marked finished; truncation refused. Index: "
                + index);
      }
      committer.commit(
          tx -> {
            tx.keyValue(metaName).put(Records.FLOOR_KEY, Records.longValue(to));
            var s = tx.keyValue(stateName);
            for (byte[] k : finished) {
              s.delete(k);
            }
          },
          () -> {
            lock.lock();
            try {
              persistedFloor = to;
              // The floor may pass the read cursor when the records after it are all finished
              // (their markers are in skip). Their markers are now deleted, so the cursor must
              // jump past them, or they would be read as never delivered.
              cursor = Math.max(cursor, to);
              skip.headSet(cursor).clear();
            } finally {
              lock.unlock();
            }
          });
      long removed = messages.truncateBefore(to);
      log.debug("Queue '{}': floor {} -> {}, truncated {} log records", name(), from, to, removed);
      return removed;
    } catch (RuntimeException e) {
      log.warn(
          "Queue '{}': truncating the finished head failed; will retry: {}", name(), e.toString());
      return 0;
    } finally {
      lock.lock();
      try {
        compacting = false;
      } finally {
        lock.unlock();
      }
    }
  }

  private String describeIndexLocked() {
    return "cursor="
        + cursor
        + " knownEnd="
        + knownEnd
        + " prefetched="
        + prefetched.size()
        + (prefetched.isEmpty() ? "" : "@" + prefetched.peek().offset)
        + " tracked="
        + tracked.size()
        + (tracked.isEmpty() ? "" : "@" + tracked.firstKey())
        + " skip="
        + skip.size()
        + (skip.isEmpty() ? "" : "@" + skip.first())
        + " persistedFloor="
        + persistedFloor;
  }

  // ------------------------------------------------------------------ stats

  QueueStats stats() {
    lock.lock();
    try {
      long undelivered = prefetched.size() + (knownEnd - cursor - skip.size());
      return new QueueStats(
          undelivered + delayedCount,
          leasedCount + busyCount(),
          deadCount,
          oldestAgeLocked(),
          enqueuedMeter.getCount(),
          ackedMeter.getCount(),
          nackedMeter.getCount(),
          deadMeter.getCount(),
          redeliveredMeter.getCount());
    } finally {
      lock.unlock();
    }
  }

  private int busyCount() {
    return tracked.size() - leasedCount - delayedCount;
  }

  long oldestAgeMillis() {
    lock.lock();
    try {
      return oldestAgeLocked();
    } finally {
      lock.unlock();
    }
  }

  private long oldestAgeLocked() {
    if (closed) {
      return 0;
    }
    long f = floorLocked();
    long enqueuedAt;
    Tracked t = tracked.get(f);
    if (t != null && t.enqueuedAt >= 0) {
      enqueuedAt = t.enqueuedAt;
    } else if (!prefetched.isEmpty() && prefetched.peek().offset == f) {
      enqueuedAt = prefetched.peek().enqueuedAt;
    } else if (f >= knownEnd) {
      return 0;
    } else if (oldestCacheOffset == f) {
      enqueuedAt = oldestCacheEnqueuedAt;
    } else {
      try {
        List<LogRecord> r = messages.read(f, 1);
        if (r.isEmpty()) {
          return 0;
        }
        enqueuedAt = Records.messageEnqueuedAt(r.get(0).payload(), logName, r.get(0).offset());
        oldestCacheOffset = f;
        oldestCacheEnqueuedAt = enqueuedAt;
      } catch (PersistenceException e) {
        return 0;
      }
    }
    return Math.max(0, clock.millis() - enqueuedAt);
  }

  // ------------------------------------------------------------------ lifecycle

  void addWorkers(AutoCloseable w) {
    lock.lock();
    try {
      ensureOpen();
      workers.add(w);
    } finally {
      lock.unlock();
    }
  }

  void removeWorkers(AutoCloseable w) {
    lock.lock();
    try {
      workers.remove(w);
    } finally {
      lock.unlock();
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new ClosedException(
          "queue '" + name() + "' on backend '" + backend.name() + "'",
          "open it again with DurableQueue.open or DurableQueues");
    }
  }

  boolean isClosed() {
    lock.lock();
    try {
      return closed;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Stops consumer helpers, stores the floor (best effort), wakes waiting pollers and releases the
   * name. Leases held by callers stay in the store: those messages are redelivered after their
   * lease runs out, in this or a later process. Idempotent.
   */
  @Override
  public void close() {
    List<AutoCloseable> ws;
    lock.lock();
    try {
      if (closed) {
        return;
      }
      ws = new ArrayList<>(workers);
      workers.clear();
    } finally {
      lock.unlock();
    }
    for (AutoCloseable w : ws) {
      try {
        w.close();
      } catch (Exception e) {
        log.warn("Queue '{}': stopping consumers failed: {}", name(), e.toString());
      }
    }
    try {
      maybeTruncate(true);
    } catch (RuntimeException e) {
      log.debug("Queue '{}': final truncation skipped: {}", name(), e.toString());
    }
    lock.lock();
    try {
      closed = true;
      signalWaitersLocked();
    } finally {
      lock.unlock();
    }
    committer.close();
    for (String n : metricNames) {
      metrics.remove(n);
    }
    release(backend, name());
  }

  private static long saturatedAdd(long a, long b) {
    long r = a + b;
    return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
  }
}
