package io.cairn.persistence;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import io.cairn.persistence.spi.EventType;
import io.cairn.persistence.spi.Events;
import io.cairn.persistence.spi.Settings;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Background maintenance of one backend, as its {@code maintenance} section configures (every key
 * documented in persistence-api's reference.conf; the behaviour in docs/operations.md,
 * "Maintenance"). Created and owned by the {@link PersistenceRegistry}: {@link
 * PersistenceRegistry#maintenance(String)}.
 *
 * <h2>Tasks</h2>
 *
 * <ul>
 *   <li>{@value #TTL_SWEEP}: {@link KeyValueStore#purgeExpired()} on every key-value namespace,
 *       every {@code ttl-sweep-interval}.
 *   <li>{@value #RETENTION}: every {@code retention-interval}, each log named under {@code
 *       retention} is truncated at its head to at most {@code max-records} records, {@code
 *       max-bytes} bytes of payload and records no older than {@code max-age} by their append time
 *       (the newest are kept; a record without an append time is never removed by age), never below
 *       a floor its owner registered through {@link RetentionFloors}. Only named logs: the queue's
 *       and route table's own logs truncate themselves to what their recovery needs and are not
 *       retention's business (they also register floors, so naming them by mistake removes nothing
 *       they need).
 *   <li>{@value #COMPACTION}: {@link StorageBackend#compact} when {@code compact-interval} has
 *       passed since the last compaction (or since open), or when the backend's files are at least
 *       {@code compact-min-size} and have grown by {@code compact-growth-percent} since the size
 *       measured right after the last compaction (the first time: since 0), as Redis rewrites its
 *       append-only file. Checked every {@code check-interval} (or every {@code compact-interval}
 *       when no check interval is set).
 *   <li>{@value #SIZE_CHECK}: every {@code check-interval}, the backend's size ({@link
 *       BackendStats#diskBytes()}, or the sum of its stores' bytes when the engine keeps no files)
 *       against {@code size-warning}: above it, a warning is logged once, a {@code size-warning}
 *       event is emitted and the backend's health check turns unhealthy with the reason; back below
 *       it, healthy again (logged, and an event with {@code above = false}).
 * </ul>
 *
 * <h2>Scheduling, failures and metrics</h2>
 *
 * Each task first runs one period after open. {@link #runDue()} runs every task whose time has come
 * by the registry's clock; the registry's thread {@code cairn-maintenance-<backend>} calls it on a
 * short tick, and tests with a manual clock call it directly (so nothing sleeps). Runs of one
 * backend never overlap. Each run is timed in the timer {@code
 * cairn.backends.<backend>.maintenance.<task>}. A failing run is logged, counted in {@code
 * ...maintenance.<task>.failures}, emitted as a {@code maintenance-failure} event and retried after
 * {@code retry-backoff}, doubling with each failure in a row up to the task's own period; the other
 * tasks and the scheduler go on. Gauges: {@code ...maintenance.size-bytes} (the last size measured,
 * -1 before the first measure or when unknown) and {@code ...maintenance.size-warning} (1 while
 * above {@code size-warning}).
 *
 * <p>Thread-safe.
 */
public final class Maintenance {
  private static final Logger LOG = LoggerFactory.getLogger(Maintenance.class);

  public static final String TTL_SWEEP = "ttl-sweep";
  public static final String RETENTION = "retention";
  public static final String COMPACTION = "compaction";
  public static final String SIZE_CHECK = "size-check";

  /** Prefix of the maintenance thread's name, followed by the backend name. */
  public static final String THREAD_PREFIX = "cairn-maintenance-";

  private static final int PAGE = 512;

  private final StorageBackend backend;
  private final MaintenanceSettings settings;
  private final Clock clock;
  private final Events events;
  private final String prefix;
  private final Floors floors = new Floors();
  private final Map<String, Task> tasks = new LinkedHashMap<>();
  private final Counter purged;
  private final Counter removed;

  private volatile long lastSize = -1;
  private volatile String sizeProblem; // null while below size-warning
  private long lastCompactionAt; // clock millis: open, then the end of each compaction
  private long sizeAfterCompaction; // 0 until the first compaction
  private boolean sizeUnknownLogged;
  private final java.util.Set<String> unknownAgeLogged = new java.util.HashSet<>();
  private volatile boolean stopping;
  private final Object lifecycle = new Object();
  private ScheduledExecutorService thread; // guarded by lifecycle
  // The executor's one thread, so stop() can wait for the thread itself to end: the executor
  // reports termination from inside that thread, just before it exits.
  private volatile Thread worker;

  Maintenance(
      StorageBackend backend,
      MaintenanceSettings settings,
      Clock clock,
      MetricRegistry metrics,
      String metricPrefix,
      Events events) {
    this.backend = backend;
    this.settings = settings;
    this.clock = clock;
    this.events = events;
    this.prefix = metricPrefix + ".maintenance";
    this.lastCompactionAt = clock.millis();
    this.purged = metrics.counter(prefix + "." + TTL_SWEEP + ".purged");
    this.removed = metrics.counter(prefix + "." + RETENTION + ".removed");
    add(metrics, TTL_SWEEP, settings.ttlSweepInterval(), this::sweep);
    if (!settings.retention().isEmpty()) {
      add(metrics, RETENTION, settings.retentionInterval(), this::retain);
    }
    if (settings.compactMinSize() > 0 || !settings.compactInterval().isZero()) {
      Duration every =
          settings.checkInterval().isZero() ? settings.compactInterval() : settings.checkInterval();
      if (!settings.compactInterval().isZero() && settings.compactInterval().compareTo(every) < 0) {
        every = settings.compactInterval();
      }
      add(metrics, COMPACTION, every, this::compactIfDue);
    }
    if (settings.sizeWarning() > 0) {
      add(metrics, SIZE_CHECK, settings.checkInterval(), this::checkSize);
      metrics.gauge(
          prefix + ".size-warning", () -> (Gauge<Integer>) () -> sizeProblem == null ? 0 : 1);
    }
    if (settings.sizeWarning() > 0 || settings.compactMinSize() > 0) {
      metrics.gauge(prefix + ".size-bytes", () -> (Gauge<Long>) () -> lastSize);
    }
  }

  private void add(MetricRegistry metrics, String name, Duration every, Body body) {
    if (every.isZero()) {
      return;
    }
    long now = clock.millis();
    tasks.put(
        name,
        new Task(
            name,
            every.toMillis(),
            body,
            metrics.timer(prefix + "." + name),
            metrics.counter(prefix + "." + name + ".failures"),
            now + every.toMillis()));
  }

  /** The logs named under {@code retention}, in name order (empty when retention is off). */
  public java.util.SortedSet<String> retentionLogs() {
    return java.util.Collections.unmodifiableSortedSet(
        new java.util.TreeSet<>(settings.retention().keySet()));
  }

  /** The names of the tasks configured for this backend, in run order. */
  public List<String> tasks() {
    return List.copyOf(tasks.keySet());
  }

  /**
   * Runs every task whose time has come by the registry's clock, one after the other, and returns
   * how many ran (failed runs included). Never throws for a failing task (see the class comment).
   */
  public synchronized int runDue() {
    int ran = 0;
    for (Task t : tasks.values()) {
      if (stopping) {
        break;
      }
      long now = clock.millis();
      if (now < t.nextRunAt) {
        continue;
      }
      ran++;
      try (Timer.Context ignored = t.timer.time()) {
        t.body.run();
        t.failuresInARow = 0;
        t.nextRunAt = clock.millis() + t.periodMillis;
      } catch (RuntimeException e) {
        t.failuresInARow++;
        t.failures.inc();
        long backoff = backoff(t);
        t.nextRunAt = clock.millis() + backoff;
        LOG.warn(
            "Maintenance task {} of {} backend '{}' failed ({} in a row); retrying in {}: {}",
            t.name,
            backend.type(),
            backend.name(),
            t.failuresInARow,
            Settings.human(Duration.ofMillis(backoff)),
            e.toString());
        emit(
            EventType.MAINTENANCE_FAILURE,
            fields(
                "task",
                t.name,
                "failures-in-a-row",
                t.failuresInARow,
                "retry-in-ms",
                backoff,
                "error",
                e.getClass().getName()));
      }
    }
    return ran;
  }

  /** retry-backoff, doubled per failure in a row, at most the task's period (and at least 1 ms). */
  private long backoff(Task t) {
    long base = settings.retryBackoff().toMillis();
    int shift = Math.min(t.failuresInARow - 1, 30);
    long cap = Math.max(t.periodMillis, base);
    return Math.max(1, Math.min(cap, base << shift));
  }

  /** Failed runs of {@code task} so far (the {@code .failures} counter). */
  public long failures(String task) {
    Task t = tasks.get(task);
    return t == null ? 0 : t.failures.getCount();
  }

  /** Why the backend is unhealthy as far as maintenance knows (a size threshold), if it is. */
  public Optional<String> unhealthyReason() {
    return Optional.ofNullable(sizeProblem);
  }

  /** Registered retention floors; the {@link RetentionFloors} extension of the backend. */
  RetentionFloors floors() {
    return floors;
  }

  /** For tests: replaces a task's body (failure injection). */
  synchronized void replaceBody(String task, Body body) {
    Task t = Objects.requireNonNull(tasks.get(task), task);
    tasks.put(task, new Task(t.name, t.periodMillis, body, t.timer, t.failures, t.nextRunAt));
  }

  // ------------------------------------------------------------------ thread

  /** Starts the thread {@code cairn-maintenance-<backend>} if any task is configured. */
  void start() {
    synchronized (lifecycle) {
      startLocked();
    }
  }

  private void startLocked() {
    if (tasks.isEmpty() || thread != null || stopping) {
      return;
    }
    long shortest = tasks.values().stream().mapToLong(t -> t.periodMillis).min().orElse(1000);
    long tick = Math.max(10, Math.min(1000, shortest)); // notices a moved clock within a second
    ScheduledThreadPoolExecutor ex =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread th = new Thread(r, THREAD_PREFIX + backend.name());
              th.setDaemon(true);
              worker = th;
              return th;
            });
    ex.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    ex.scheduleWithFixedDelay(this::tick, tick, tick, TimeUnit.MILLISECONDS);
    thread = ex;
  }

  private void tick() {
    try {
      runDue();
    } catch (Throwable t) { // a throwable escaping would cancel every later tick
      LOG.error("Maintenance of backend '{}' hit an unexpected error; going on", backend.name(), t);
    }
  }

  /**
   * Stops the thread after the task running now (if any) ends, and waits for it; never interrupts a
   * task (an interrupt could close an engine's file channel). Idempotent.
   */
  void stop() {
    stopping = true;
    ScheduledExecutorService ex;
    synchronized (lifecycle) { // not `this`: runDue holds that while a task runs
      ex = thread;
      thread = null;
    }
    if (ex == null) {
      return;
    }
    ex.shutdown();
    try {
      while (!ex.awaitTermination(30, TimeUnit.SECONDS)) {
        LOG.warn(
            "Closing backend '{}': still waiting for a maintenance task to finish ({})",
            backend.name(),
            THREAD_PREFIX + backend.name());
      }
      Thread th = worker;
      if (th != null) {
        th.join(); // it has run its last task: only its exit is left
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      ex.shutdownNow();
    }
  }

  // ------------------------------------------------------------------ tasks

  private void sweep() {
    long n = 0;
    for (StoreId id : backend.stores()) {
      if (stopping) {
        break;
      }
      if (id.kind() == StoreKind.KEY_VALUE) {
        n += backend.keyValue(id.name()).purgeExpired();
      }
    }
    purged.inc(n);
    if (n > 0) {
      LOG.debug("Backend '{}': TTL sweep purged {} expired entries", backend.name(), n);
    }
  }

  private void retain() {
    retainEach();
  }

  /**
   * Applies log retention once, now, to every log named under {@code retention}, whatever the
   * schedule and whether or not the task runs in the background (for {@code cairn compact}): the
   * same limits, the same floors ({@link RetentionFloors}: register the floors of logs whose owner
   * is not open in this process first), a {@code retention} event per log trimmed, counted in
   * {@code ...maintenance.retention.removed}. Logs never appended to are skipped.
   *
   * @return per log named under {@code retention} that exists, how many records were removed (0
   *     when none), in name order
   * @throws RuntimeException the first log's failure (the others' suppressed) after every log was
   *     tried
   */
  public synchronized Map<String, Long> retainNow() {
    return retainEach();
  }

  private Map<String, Long> retainEach() {
    Map<String, Long> removedPerLog = new java.util.TreeMap<>();
    RuntimeException failure = null;
    var stores = backend.stores();
    for (Map.Entry<String, MaintenanceSettings.LogRetention> e : settings.retention().entrySet()) {
      if (stopping) {
        break;
      }
      if (!stores.contains(new StoreId(StoreKind.LOG, e.getKey()))) {
        continue; // never appended to: nothing to retain, and looking it up would create it
      }
      try {
        removedPerLog.put(e.getKey(), retain(e.getKey(), e.getValue()));
      } catch (RuntimeException err) { // one log's failure does not spare the others
        if (failure == null) {
          failure = err;
        } else {
          failure.addSuppressed(err);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
    return removedPerLog;
  }

  /** Trims log {@code name} to {@code limits}; returns the records removed. */
  private long retain(String name, MaintenanceSettings.LogRetention limits) {
    LogStore log = backend.log(name);
    long first = log.firstOffset();
    long next = log.nextOffset();
    long cutoff = first;
    String reason = null;
    if (limits.maxRecords() > 0 && next - first > limits.maxRecords()) {
      cutoff = next - limits.maxRecords();
      reason = "max-records";
    }
    if (limits.maxBytes() > 0) {
      long byBytes = bytesCutoff(log, cutoff, next, limits.maxBytes());
      if (byBytes > cutoff) {
        cutoff = byBytes;
        reason = "max-bytes";
      }
    }
    if (!limits.maxAge().isZero()) {
      long byAge = ageCutoff(name, log, cutoff, next, clock.millis() - limits.maxAge().toMillis());
      if (byAge > cutoff) {
        cutoff = byAge;
        reason = "max-age";
      }
    }
    long floor = floors.floor(name);
    boolean held = cutoff > floor;
    if (held) {
      cutoff = floor;
    }
    if (cutoff <= first) {
      if (held) {
        LOG.debug(
            "Backend '{}': retention of log '{}' held by its floor {}",
            backend.name(),
            name,
            floor);
      }
      return 0;
    }
    long n = log.truncateBefore(cutoff);
    removed.inc(n);
    LOG.info(
        "Backend '{}': retention removed {} records of log '{}' ({}), first offset now {}",
        backend.name(),
        n,
        name,
        reason,
        cutoff);
    emit(
        EventType.RETENTION,
        fields(
            "log", name,
            "removed", n,
            "first-offset", cutoff,
            "reason", reason,
            "held-by-floor", held));
    return n;
  }

  /**
   * The lowest offset from which the records in {@code [from, end)} hold at most {@code maxBytes}
   * bytes of payload: two passes over that stretch, a page at a time (records appended meanwhile,
   * at or past {@code end}, are kept and not counted).
   */
  private static long bytesCutoff(LogStore log, long from, long end, long maxBytes) {
    long total = 0;
    for (long at = from; at < end; ) {
      List<LogRecord> page = log.read(at, PAGE);
      if (page.isEmpty()) {
        break;
      }
      for (LogRecord r : page) {
        if (r.offset() < end) {
          total += r.payload().length;
        }
      }
      at = page.get(page.size() - 1).offset() + 1;
    }
    for (long at = from; at < end; ) {
      List<LogRecord> page = log.read(at, PAGE);
      if (page.isEmpty()) {
        return end;
      }
      for (LogRecord r : page) {
        if (r.offset() >= end || total <= maxBytes) {
          return Math.min(r.offset(), end);
        }
        total -= r.payload().length;
        at = r.offset() + 1;
      }
    }
    return end;
  }

  /**
   * The offset of the first record in {@code [from, end)} appended at or after {@code oldestKept}
   * (epoch millis), scanning from the head a page at a time; {@code end} when all are older. A
   * record without an append time ({@link LogRecord#NOT_RECORDED}: written before log stores
   * recorded it) stops the scan: its age is unknown, so neither it nor anything after it is removed
   * by age (said once per log in the log; max-records and max-bytes still apply).
   */
  private long ageCutoff(String name, LogStore log, long from, long end, long oldestKept) {
    for (long at = from; at < end; ) {
      List<LogRecord> page = log.read(at, PAGE);
      if (page.isEmpty()) {
        return end;
      }
      for (LogRecord r : page) {
        if (r.offset() >= end || r.appendedAtMillis() >= oldestKept) {
          return Math.min(r.offset(), end);
        }
        if (!r.hasAppendTime()) {
          if (unknownAgeLogged.add(name)) {
            LOG.info(
                "Backend '{}': log '{}' has records without an append time (written before"
                    + " Cairn recorded it) from offset {}; retention by max-age stops there",
                backend.name(),
                name,
                r.offset());
          }
          return r.offset();
        }
        at = r.offset() + 1;
      }
    }
    return end;
  }

  private void compactIfDue() {
    long now = clock.millis();
    String trigger = null;
    if (!settings.compactInterval().isZero()
        && now - lastCompactionAt >= settings.compactInterval().toMillis()) {
      trigger = "interval";
    }
    long before = -1;
    if (settings.compactMinSize() > 0) {
      before = measure();
      long grown =
          sizeAfterCompaction + sizeAfterCompaction * settings.compactGrowthPercent() / 100;
      if (trigger == null && before >= settings.compactMinSize() && before >= grown) {
        trigger = "size";
      }
    }
    if (trigger == null) {
      return;
    }
    if (before < 0) {
      before = measure();
    }
    long started = System.nanoTime();
    backend.compact(Progress.NONE);
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
    long after = measure();
    lastCompactionAt = clock.millis();
    sizeAfterCompaction = Math.max(after, 0);
    LOG.info(
        "Backend '{}': compacted ({}) in {} ms, {} -> {}",
        backend.name(),
        trigger,
        tookMs,
        before < 0 ? "size unknown" : Settings.humanBytes(before),
        after < 0 ? "size unknown" : Settings.humanBytes(after));
    emit(
        EventType.COMPACTION,
        fields(
            "trigger", trigger,
            "bytes-before", before,
            "bytes-after", after,
            "duration-ms", tookMs));
  }

  private void checkSize() {
    long size = measure();
    if (size < 0) {
      return; // measure() said so once
    }
    long limit = settings.sizeWarning();
    if (size > limit && sizeProblem == null) {
      sizeProblem =
          backend.type()
              + " backend '"
              + backend.name()
              + "' holds "
              + Settings.humanBytes(size)
              + ", above its maintenance.size-warning of "
              + Settings.humanBytes(limit)
              + ": free space (retention, TTLs, compaction, `cairn compact`) or raise the threshold";
      LOG.warn("{}", sizeProblem);
      emit(
          EventType.SIZE_WARNING,
          fields("above", true, "size-bytes", size, "threshold-bytes", limit));
    } else if (size <= limit && sizeProblem != null) {
      sizeProblem = null;
      LOG.info(
          "Backend '{}' is back below its maintenance.size-warning ({} <= {})",
          backend.name(),
          Settings.humanBytes(size),
          Settings.humanBytes(limit));
      emit(
          EventType.SIZE_WARNING,
          fields("above", false, "size-bytes", size, "threshold-bytes", limit));
    }
  }

  /** The backend's size now, or -1 when the backend cannot tell (logged once). */
  private long measure() {
    BackendStats stats = backend.stats();
    long size = stats.diskBytes();
    if (size < 0) {
      long sum = 0;
      boolean known = false;
      for (StoreStats s : stats.stores()) {
        if (s.bytes() >= 0) {
          sum += s.bytes();
          known = true;
        }
      }
      size = known || stats.stores().isEmpty() ? sum : -1;
    }
    if (size < 0 && !sizeUnknownLogged) {
      sizeUnknownLogged = true;
      LOG.warn(
          "Backend '{}' ({}) reports no size (no disk bytes, no store bytes): its"
              + " maintenance.size-warning and compact-min-size cannot be checked",
          backend.name(),
          backend.type());
    }
    lastSize = size;
    return size;
  }

  private void emit(EventType type, Map<String, ?> fields) {
    try {
      events.emit(type, backend.name(), fields);
    } catch (RuntimeException e) {
      LOG.warn("Event sink failed for {}: {}", type.jsonName(), e.toString());
    }
  }

  private static Map<String, Object> fields(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  /** A task's work; may throw. */
  @FunctionalInterface
  interface Body {
    void run();
  }

  private static final class Task {
    final String name;
    final long periodMillis;
    final Body body;
    final Timer timer;
    final Counter failures;
    long nextRunAt;
    int failuresInARow;

    Task(String name, long periodMillis, Body body, Timer timer, Counter failures, long nextRunAt) {
      this.name = name;
      this.periodMillis = periodMillis;
      this.body = body;
      this.timer = timer;
      this.failures = failures;
      this.nextRunAt = nextRunAt;
    }
  }

  /** The {@link RetentionFloors} of this backend. */
  private static final class Floors implements RetentionFloors {
    private final Map<String, List<LongSupplier>> byLog = new ConcurrentHashMap<>();

    @Override
    public Runnable register(String log, LongSupplier lowestNeededOffset) {
      io.cairn.persistence.spi.ArgumentChecks.check("log", log);
      Objects.requireNonNull(lowestNeededOffset, "lowestNeededOffset");
      // addIfAbsent: a subsystem reopened many times registers its (non-capturing) supplier once
      ((CopyOnWriteArrayList<LongSupplier>)
              byLog.computeIfAbsent(log, k -> new CopyOnWriteArrayList<>()))
          .addIfAbsent(lowestNeededOffset);
      return () -> {
        List<LongSupplier> l = byLog.get(log);
        if (l != null) {
          l.remove(lowestNeededOffset);
        }
      };
    }

    @Override
    public long floor(String log) {
      long min = Long.MAX_VALUE;
      for (LongSupplier s : byLog.getOrDefault(log, List.of())) {
        min = Math.min(min, s.getAsLong());
      }
      return min;
    }
  }
}
