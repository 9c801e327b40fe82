package io.cairn.backend.postgres;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The test PostgreSQL server ({@link TestPostgres}) for other modules' tests: the queue, cache and
 * routing modules run their PostgreSQL suites on it through this module's test-jar. One server per
 * test JVM, started on first use, stopped at JVM exit; {@link #shared()} skips the calling test,
 * with the reason, where the embedded binaries cannot run.
 */
public final class PostgresTestServer {
  private final TestPostgres pg;

  private PostgresTestServer(TestPostgres pg) {
    this.pg = pg;
  }

  /** The server of this JVM (started on first call); skips the calling test if it cannot run. */
  public static PostgresTestServer shared() {
    return new PostgresTestServer(TestPostgres.shared());
  }

  /** Whether the tests started this server, so that {@link #stop()} and {@link #start()} work. */
  public boolean managed() {
    return pg.managed();
  }

  /**
   * The body of a {@code cairn.backends.<name>} entry for a postgres backend on {@code schema}:
   * {@code type = postgres, durability = ..., jdbc-url = ..., user = ..., schema = ...}.
   */
  public String backendConfig(String schema, String durability) {
    return pg.backendConfig(schema, durability);
  }

  /** A new JDBC connection to the test database (the caller closes it). */
  public java.sql.Connection connect() throws java.sql.SQLException {
    return pg.connect();
  }

  /** Drops {@code schema} and everything in it (a fresh start for a test). */
  public void dropSchema(String schema) {
    pg.dropSchema(schema);
  }

  /**
   * Waits (up to {@code timeout}) until {@code backend}'s change notifications are listening and
   * every subscriber has handled what was delivered so far, resyncs included: a test that fills an
   * in-memory copy after this does not race the first resync.
   */
  public static void awaitNotificationsQuiet(
      io.cairn.persistence.StorageBackend backend, java.time.Duration timeout)
      throws InterruptedException {
    PostgresNotifications n =
        (PostgresNotifications)
            backend.extension(io.cairn.persistence.ChangeNotifications.class).orElseThrow();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!n.quiet()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "change notifications of " + backend + " not quiet within " + timeout);
      }
      Thread.sleep(10);
    }
  }

  /** Stops the server (fast shutdown: open connections are terminated). */
  public void stop() {
    try {
      pg.stop();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Starts the server again after {@link #stop()}; waits until it accepts connections. */
  public void start() {
    try {
      pg.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
