package io.cairn.queue;

import io.cairn.persistence.ClosedException;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.StoreCorruptedException;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The in-memory index of one queue: the phase of every message that is not finished (never
 * delivered, waiting for redelivery, leased, or being committed), lease and redelivery timers, the
 * read cursor over the log, the finished floor, and the pollers waiting for messages.
 *
 * <p>No I/O: it reads never-delivered messages through the {@link LogReader} it is given (the log,
 * or a list in a unit test), and it never writes. The caller commits each state change first and
 * then reports it here ({@link #leased}, {@link #acked}, {@link #delayed}, ...); a failed commit is
 * reported with {@link #revert} or {@link #unclaim}, so the index never runs ahead of the store.
 *
 * <p>Thread-safe: one lock guards everything, and every method takes it itself. The only call out
 * under the lock is {@link LogReader#read}. Times are {@link Clock#millis()} of the clock given
 * (leases, redeliveries); poll deadlines are {@link System#nanoTime()}.
 */
final class MessageIndex {
  /**
   * Reads log records for first deliveries; called under the index lock. Returns up to {@code max}
   * records from offset {@code from} on, in offset order.
   */
  interface LogReader {
    List<LogRecord> read(long from, int max);
  }

  enum Phase {
    /** Never delivered; in {@link #prefetched}. */
    NEW,
    /** Waiting to be redelivered at dueAt. */
    DELAYED,
    /** Leased until dueAt. */
    LEASED,
    /** A commit for this message is in progress. */
    BUSY
  }

  /** In-memory state of one message. Fields guarded by the index lock except while BUSY. */
  static final class Tracked {
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

    /** A message just appended to the log (never delivered). */
    static Tracked appended(long offset, long enqueuedAt, byte[] payload) {
      Tracked t = new Tracked(offset);
      t.enqueuedAt = enqueuedAt;
      t.payload = payload;
      t.phase = Phase.NEW;
      return t;
    }
  }

  private record Due(long at, long offset, long gen) {}

  /**
   * A poller waiting in {@link #pollStep}. Guarded by the index lock. WAITING: in {@link #waiters};
   * ASSIGNED: a commit is storing leases for {@link #picks}; DONE: the leases are stored.
   */
  static final class Waiter {
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

    boolean isDone() {
      return state == DONE;
    }
  }

  /**
   * Leases chosen for waiting pollers by {@link #assignWaiters}, to be written in one commit.
   * {@code fromBatch.get(k)}: how many of that commit's appends go to {@code served.get(k)}.
   */
  static final class Assignment {
    final List<Waiter> served;
    final List<Integer> fromBatch;
    final long leaseUntil;
    final long appendStart;

    /** How many of the commit's appends were handed out (set by the committing leader). */
    int handedFromBatch;

    Assignment(List<Waiter> served, List<Integer> fromBatch, long leaseUntil, long appendStart) {
      this.served = served;
      this.fromBatch = fromBatch;
      this.leaseUntil = leaseUntil;
      this.appendStart = appendStart;
    }
  }

  /**
   * A truncation begun by {@link #beginTruncation}: the floor moves from {@code from} to {@code
   * to}.
   */
  record Truncation(long from, long to, String index) {}

  /** The counts behind {@link QueueStats}, taken at one instant. */
  record Counts(long depth, long inFlight, long deadLetters, long oldestAgeMillis) {}

  private final String queue;
  private final String backendName;
  private final String logName;
  private final QueueSettings settings;
  private final Clock clock;
  private final LogReader reader;
  private final ReentrantLock lock = new ReentrantLock();

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
  private volatile boolean closed;
  private long oldestCacheOffset = -1;
  private long oldestCacheEnqueuedAt;

  /** Pollers waiting for a message, oldest first. */
  private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();

  MessageIndex(
      String queue,
      String backendName,
      String logName,
      QueueSettings settings,
      Clock clock,
      LogReader reader) {
    this.queue = queue;
    this.backendName = backendName;
    this.logName = logName;
    this.settings = settings;
    this.clock = clock;
    this.reader = reader;
  }

  // ------------------------------------------------------------------ recovery

  /** Starts the index over the log range [{@code floor}, {@code end}), floor stored as given. */
  void start(long floor, long end) {
    lock.lock();
    try {
      persistedFloor = floor;
      cursor = floor;
      knownEnd = end;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Restores one state record at or above the floor: the message is skipped by first delivery;
   * READY and LEASED messages are redelivered when {@code at} comes.
   */
  void restore(long offset, Records.State st) {
    lock.lock();
    try {
      skip.add(offset);
      if (st.status() == Records.ACKED || st.status() == Records.DEAD) {
        return;
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
    } finally {
      lock.unlock();
    }
  }

  void setDeadCount(long count) {
    lock.lock();
    try {
      deadCount = count;
    } finally {
      lock.unlock();
    }
  }

  /** Delivered and unfinished messages. */
  int trackedCount() {
    lock.lock();
    try {
      return tracked.size();
    } finally {
      lock.unlock();
    }
  }

  // ------------------------------------------------------------------ enqueue

  long knownEnd() {
    lock.lock();
    try {
      return knownEnd;
    } finally {
      lock.unlock();
    }
  }

  /**
   * After messages {@code first ..} were committed to the log: the next ones go to the read-ahead
   * (while it has room) so that no consumer reads back from the log what the producer just wrote.
   */
  void appended(long first, Tracked[] appended) {
    lock.lock();
    try {
      knownEnd = Math.max(knownEnd, first + appended.length);
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
  }

  // ------------------------------------------------------------------ poll

  /**
   * One step of a poll: takes due redeliveries and first deliveries (up to {@code max}, into {@code
   * picks}; those at max-attempts into {@code deads}); if there are none, waits as a {@link
   * Waiter}. Returns null when it took something or the deadline passed (then both lists are
   * empty), or the waiter: DONE if a commit leased messages to it, otherwise the caller should call
   * again because something may be available.
   *
   * @throws ClosedException if the queue is closed
   */
  Waiter pollStep(int max, long deadlineNanos, List<Tracked> picks, List<Tracked> deads) {
    lock.lock();
    try {
      ensureOpen();
      take(max, picks, deads);
      if (picks.isEmpty() && deads.isEmpty()) {
        return await(max, deadlineNanos);
      }
      return null;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Takes due redeliveries, then first deliveries, marking them BUSY. On failure (a log read) the
   * taken messages become due again at once.
   */
  void takeOrRevert(int max, List<Tracked> picks, List<Tracked> deads) {
    lock.lock();
    try {
      take(max, picks, deads);
    } catch (RuntimeException e) {
      revertLocked(picks, clock.millis());
      revertLocked(deads, clock.millis());
      throw e;
    } finally {
      lock.unlock();
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
            throw closedException();
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
          reader.read(cursor, (int) Math.min(settings.prefetch(), knownEnd - cursor));
      if (batch.isEmpty()) {
        throw new StoreCorruptedException(
            "Queue '"
                + queue
                + "': log '"
                + logName
                + "' returned no records from offset "
                + cursor
                + " although it holds records up to "
                + knownEnd
                + ". Run `cairn verify` on backend '"
                + backendName
                + "'.");
      }
      for (LogRecord r : batch) {
        if (r.offset() >= knownEnd) {
          break;
        }
        if (r.offset() != cursor) {
          throw new StoreCorruptedException(
              "Queue '"
                  + queue
                  + "': log '"
                  + logName
                  + "' on backend '"
                  + backendName
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

  // ------------------------------------------------------------------ hand-off to waiters

  /**
   * Chooses messages for the waiting pollers, to be leased in a commit about to be made that
   * appends {@code appends} messages: first read-ahead messages (never from the log: that is the
   * poller's own job), then that commit's appends, in offset order and to the oldest waiters first.
   * Returns null if there is nothing to hand out (no waiter, closed, or redeliveries are due: the
   * pollers take those themselves). The chosen waiters are ASSIGNED until {@link #handoffCommitted}
   * or {@link #handoffFailed}.
   */
  Assignment assignWaiters(int appends) {
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
    return new Assignment(served, fromBatch, leaseUntil, appendStart);
  }

  /** After the commit of an {@link Assignment} succeeded: its waiters hold their leases. */
  void handoffCommitted(Assignment a) {
    lock.lock();
    try {
      if (a.handedFromBatch > 0) {
        // The handed-off appends are contiguous from the cursor (nothing was unread).
        cursor = a.appendStart + a.handedFromBatch;
        knownEnd = Math.max(knownEnd, cursor);
      }
      for (int k = a.served.size() - 1; k >= 0; k--) {
        Waiter w = a.served.get(k);
        if (w.picks.isEmpty()) {
          w.state = Waiter.WAITING; // its appends did not materialise; keep its place
          waiters.addFirst(w);
        } else {
          for (Tracked t : w.picks) {
            tracked.put(t.offset, t);
          }
          leasedLocked(w.picks, a.leaseUntil);
          w.state = Waiter.DONE;
        }
        w.wake.signal();
      }
    } finally {
      lock.unlock();
    }
  }

  /** After the commit of an {@link Assignment} failed: read-ahead picks are due again. */
  void handoffFailed(Assignment a) {
    lock.lock();
    try {
      for (int k = a.served.size() - 1; k >= 0; k--) {
        Waiter w = a.served.get(k);
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

  // ------------------------------------------------------------------ state changes

  /** After LEASED(attempts + 1, leaseUntil) was committed for each pick: the picks are leased. */
  void leased(List<Tracked> picks, long leaseUntil) {
    lock.lock();
    try {
      leasedLocked(picks, leaseUntil);
    } finally {
      lock.unlock();
    }
  }

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
  void revert(List<Tracked> ts, long at) {
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

  /**
   * Claims leased delivery ({@code id}, {@code attempt}) for settling (it becomes BUSY); null if
   * that lease was lost (ran out and the message was taken again, or it is finished).
   *
   * @throws ClosedException if the queue is closed
   */
  Tracked claim(long id, int attempt) {
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
  void unclaim(Tracked t) {
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

  /** After ACKED was committed for a claimed message. Returns whether truncation is due. */
  boolean acked(Tracked t) {
    lock.lock();
    try {
      return ackedLocked(t);
    } finally {
      lock.unlock();
    }
  }

  /**
   * After one commit acked {@code done} and leased {@code picks}. Returns whether truncation is
   * due.
   */
  boolean ackedAndLeased(Tracked done, List<Tracked> picks, long leaseUntil) {
    lock.lock();
    try {
      boolean truncationDue = ackedLocked(done);
      leasedLocked(picks, leaseUntil);
      return truncationDue;
    } finally {
      lock.unlock();
    }
  }

  private boolean ackedLocked(Tracked t) {
    // Only finishing the lowest unfinished message can move the floor.
    boolean lowest = tracked.firstKey() == t.offset;
    tracked.remove(t.offset);
    return lowest && !compacting && floorLocked() - persistedFloor >= settings.truncateEvery();
  }

  /** After READY(visibleAt) was committed for a claimed message (a nack). */
  void delayed(Tracked t, long visibleAt) {
    lock.lock();
    try {
      t.phase = Phase.DELAYED;
      t.dueAt = visibleAt;
      t.gen = ++generation;
      timers.add(new Due(visibleAt, t.offset, t.gen));
      delayedCount++;
      signalWaitersLocked();
    } finally {
      lock.unlock();
    }
  }

  /** After BUSY messages were committed to the dead-letter store. */
  void deadLettered(List<Tracked> ts) {
    lock.lock();
    try {
      for (Tracked t : ts) {
        tracked.remove(t.offset);
      }
      deadCount += ts.size();
    } finally {
      lock.unlock();
    }
  }

  /** After {@code count} dead letters were appended again, the last at {@code lastOffset}. */
  void redriven(long count, long lastOffset) {
    lock.lock();
    try {
      if (count > 0) {
        knownEnd = Math.max(knownEnd, lastOffset + 1);
        deadCount -= count;
        signalWaitersLocked();
      }
    } finally {
      lock.unlock();
    }
  }

  // ------------------------------------------------------------------ truncation

  /**
   * Under the lock: first offset that is not finished (conservative: never above the true value).
   */
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
   * Begins moving the stored floor if the finished head moved {@code truncate-every} past it (or at
   * all, when {@code force}); null if not due, already running, or closed (unless {@code force}).
   * Pair with {@link #endTruncation}.
   */
  Truncation beginTruncation(boolean force) {
    lock.lock();
    try {
      if (compacting || closed && !force) {
        return null;
      }
      long to = floorLocked();
      long from = persistedFloor;
      if (to <= from || (!force && to - from < settings.truncateEvery())) {
        return null;
      }
      compacting = true;
      return new Truncation(from, to, describeLocked());
    } finally {
      lock.unlock();
    }
  }

  /** After the new floor {@code to} was committed (and the state records below it deleted). */
  void floorStored(long to) {
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
  }

  void endTruncation() {
    lock.lock();
    try {
      compacting = false;
    } finally {
      lock.unlock();
    }
  }

  private String describeLocked() {
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

  Counts counts() {
    lock.lock();
    try {
      long undelivered = prefetched.size() + (knownEnd - cursor - skip.size());
      int busy = tracked.size() - leasedCount - delayedCount;
      return new Counts(
          undelivered + delayedCount, leasedCount + busy, deadCount, oldestAgeLocked());
    } finally {
      lock.unlock();
    }
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
        List<LogRecord> r = reader.read(f, 1);
        if (r.isEmpty()) {
          return 0;
        }
        enqueuedAt = Records.messageEnqueuedAt(r.get(0).payload(), logName, r.get(0).offset());
        oldestCacheOffset = f;
        oldestCacheEnqueuedAt = enqueuedAt;
      } catch (io.cairn.persistence.PersistenceException e) {
        return 0;
      }
    }
    return Math.max(0, clock.millis() - enqueuedAt);
  }

  // ------------------------------------------------------------------ lifecycle

  /**
   * @throws ClosedException if the queue is closed
   */
  void ensureOpen() {
    if (closed) {
      throw closedException();
    }
  }

  private ClosedException closedException() {
    return new ClosedException(
        "queue '" + queue + "' on backend '" + backendName + "'",
        "open it again with DurableQueue.open or DurableQueues");
  }

  boolean isClosed() {
    return closed;
  }

  /** Marks the index closed and wakes every waiting poller (which then throws). Idempotent. */
  void close() {
    lock.lock();
    try {
      closed = true;
      signalWaitersLocked();
    } finally {
      lock.unlock();
    }
  }

  static long saturatedAdd(long a, long b) {
    long r = a + b;
    return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
  }
}
