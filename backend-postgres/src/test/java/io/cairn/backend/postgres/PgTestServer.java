package io.cairn.backend.postgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * The embedded test server ({@link TestPostgres}) for tests of other modules, shipped in this
 * module's test-jar (the queue's PostgreSQL suites use it). Every method starts the server on first
 * use and skips the calling test, with the reason, where the binaries cannot run.
 */
public final class PgTestServer {
  private PgTestServer() {}

  /** The body of a {@code cairn.backends.<name>} entry for {@code schema} at {@code durability}. */
  public static String backendConfig(String schema, String durability) {
    return TestPostgres.shared().backendConfig(schema, durability);
  }

  /** Drops {@code schema} and everything in it. */
  public static void dropSchema(String schema) {
    TestPostgres.shared().dropSchema(schema);
  }

  /** A new JDBC connection to the test database (the caller closes it). */
  public static Connection connect() throws SQLException {
    return TestPostgres.shared().connect();
  }

  /** Whether the tests start and stop the server (false with -DpgTestUrl). */
  public static boolean managed() {
    return TestPostgres.shared().managed();
  }

  /** Stops the server (fast shutdown: connections are terminated). */
  public static void stop() {
    try {
      TestPostgres.shared().stop();
    } catch (IOException e) {
      throw new UncheckedIOException("could not stop the test PostgreSQL server", e);
    }
  }

  /** Starts the server again after {@link #stop()}. */
  public static void start() {
    try {
      TestPostgres.shared().start();
    } catch (IOException e) {
      throw new UncheckedIOException("could not start the test PostgreSQL server", e);
    }
  }
}
