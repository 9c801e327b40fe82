package io.cairn.backend.sqlite;

import io.cairn.persistence.spi.EventType;
import io.cairn.persistence.spi.Events;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.sqlite.ProgressHandler;

/**
 * {@code open-check = background}: {@code PRAGMA quick_check} of the whole file on a connection of
 * its own, on a daemon thread started after open, so open time does not grow with the file.
 *
 * <p>What it finds is never silent: the problem is logged at error level, emitted as a {@link
 * EventType#CORRUPTION} event (detected-by {@code background-check}, naming the file) and kept for
 * {@link #problem()}, which the backend's health check reports as unhealthy until the backend is
 * closed. A check that cannot run (an I/O error, a busy file) is logged as a warning: it found
 * nothing, and {@code cairn verify} is the way to check by hand.
 *
 * <p>It starts {@link #START_DELAY} after open, not at once (issue 15, found by profiling 40
 * open-get-close cycles of a 10M-entry file): started at once, it opened its connection and read
 * about 4 MB of pages while the service was still starting, competing for the CPU and disk with
 * open and the first requests, and a close soon after open waited for the check's connection to
 * open and close again (36% of the wall time of an open-get-close cycle). A backend closed within
 * the delay never opens the check's connection; that loses nothing, since a check interrupted by
 * close says nothing either. {@code cairn verify} remains the full check on demand.
 *
 * <p>It reads one consistent snapshot (one read transaction), so while it runs a checkpoint cannot
 * move the WAL past that snapshot; on a very large file under heavy writing the WAL grows for the
 * duration of the check. {@link #close()} stops it promptly through a progress handler (SQLite's
 * integrity check calls it while walking pages), whether or not the statement has started yet.
 *
 * <p>Thread-safe: {@link #problem()} and {@link #close()} may be called from any thread.
 */
final class BackgroundCheck implements AutoCloseable {
  /** Opens the connection the check reads through. */
  @FunctionalInterface
  interface Opener {
    Conn open() throws SQLException;
  }

  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(BackgroundCheck.class);

  private final String describe;
  private final String backendName;
  private final Path db;
  private final Opener opener;
  private final Events events;
  private final Thread thread;
  private final java.util.concurrent.CountDownLatch stopped =
      new java.util.concurrent.CountDownLatch(1);
  private final java.time.Duration delay;
  private volatile boolean stop;
  private volatile boolean opened;
  private volatile String problem;
  private volatile boolean finished;

  /** How long after open the check starts (see the class comment). */
  static final java.time.Duration START_DELAY = java.time.Duration.ofSeconds(1);

  private BackgroundCheck(
      String describe,
      String backendName,
      Path db,
      Opener opener,
      Events events,
      java.time.Duration delay) {
    this.delay = delay;
    this.describe = describe;
    this.backendName = backendName;
    this.db = db;
    this.opener = opener;
    this.events = events;
    this.thread = new Thread(this::run, "cairn-sqlite-check-" + backendName);
    thread.setDaemon(true);
  }

  /**
   * Starts the check of {@code db} on a thread of its own, which waits {@code delay} (or until
   * {@link #close()}) before it opens its connection.
   */
  static BackgroundCheck start(
      String describe,
      String backendName,
      Path db,
      Opener opener,
      Events events,
      java.time.Duration delay) {
    BackgroundCheck check = new BackgroundCheck(describe, backendName, db, opener, events, delay);
    check.thread.start();
    return check;
  }

  /** The damage the check found, as a sentence naming the file and what to do; null if none. */
  String problem() {
    return problem;
  }

  /** Whether the check ran to its end (found damage or not). */
  boolean finished() {
    return finished;
  }

  /** Whether the check opened its connection (false when closed within the start delay). */
  boolean opened() {
    return opened;
  }

  /** Waits up to {@code millis} for the check to end; for tests and close. */
  boolean await(long millis) throws InterruptedException {
    thread.join(millis);
    return !thread.isAlive();
  }

  private void run() {
    try {
      if (stopped.await(delay.toMillis(), TimeUnit.MILLISECONDS)) {
        return; // closed within the delay: nothing opened, nothing to say
      }
    } catch (InterruptedException e) {
      return;
    }
    long started = System.nanoTime();
    Conn c = null;
    try {
      opened = true;
      c = opener.open();
      // Called by SQLite's integrity check while it walks pages: a non-zero return interrupts it.
      ProgressHandler.setHandler(
          c.jdbc(),
          1000,
          new ProgressHandler() {
            @Override
            protected int progress() {
              return stop ? 1 : 0;
            }
          });
      if (stop) {
        return;
      }
      List<String> found = SqliteDatabase.quickCheck(c);
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      if (stop) {
        return; // interrupted by close: a partial result says nothing
      }
      if (found.isEmpty()) {
        log.info(
            "{}: background check (PRAGMA quick_check) of {} found no damage in {} ms",
            describe,
            db,
            ms);
      } else {
        report(
            found.stream().limit(5).collect(Collectors.joining("; "))
                + (found.size() > 5 ? "; ..." : ""),
            found.size(),
            ms);
      }
      finished = true;
    } catch (SQLException e) {
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      if (stop) {
        return;
      }
      if (SqliteErrors.isCorruption(e)) {
        report(e.getMessage(), 1, ms);
        finished = true;
      } else {
        log.warn(
            "{}: the background check (PRAGMA quick_check) of {} could not run after {} ms: {}."
                + " Nothing was checked; run 'cairn verify' to check the file.",
            describe,
            db,
            ms,
            e.toString());
      }
    } catch (RuntimeException e) {
      log.warn(
          "{}: the background check of {} failed: {}. Nothing was checked; run 'cairn verify'"
              + " to check the file.",
          describe,
          db,
          e.toString());
    } finally {
      if (c != null) {
        c.close();
      }
    }
  }

  private void report(String detail, int count, long ms) {
    String message =
        describe
            + ": the background check (PRAGMA quick_check, "
            + ms
            + " ms) found damage in the database file "
            + db
            + ": "
            + detail
            + ". Reads of the damaged pages fail. Stop writing to it, run 'cairn verify' for the"
            + " details and restore the directory from a backup";
    problem = message;
    log.error("{}", message);
    try {
      if (events.enabled()) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("detected-by", "background-check");
        f.put("file", db.toString());
        f.put("problems", count);
        f.put("duration-ms", ms);
        f.put("detail", detail);
        events.emit(EventType.CORRUPTION, backendName, f);
      }
    } catch (RuntimeException e) {
      log.warn("{}: could not emit the corruption event: {}", describe, e.toString());
    }
  }

  /** Stops the check if it still runs and waits for its connection to close (up to 10 s). */
  @Override
  public void close() {
    stop = true;
    stopped.countDown();
    try {
      if (!await(10_000)) {
        log.warn("{}: the background check did not stop within 10 s of close", describe);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
