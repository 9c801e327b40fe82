package io.cairn.backend.postgres;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The test PostgreSQL server ({@link TestPostgres}) for other modules' tests: the cache and routing
 * modules run their multi-instance tests on it through this module's test-jar. One server per test
 * JVM, started on first use, stopped at JVM exit; {@link #shared()} skips the calling test, with
 * the reason, where the embedded binaries cannot run.
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

  /** Drops {@code schema} and everything in it (a fresh start for a test). */
  public void dropSchema(String schema) {
    pg.dropSchema(schema);
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
