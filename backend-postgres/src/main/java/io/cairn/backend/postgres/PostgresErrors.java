package io.cairn.backend.postgres;

import io.cairn.persistence.BackendClosedException;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.StorageEngineException;
import io.cairn.persistence.StoreCorruptedException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.function.BooleanSupplier;

/**
 * The one place where PostgreSQL driver and pool errors become Cairn exceptions. Every message
 * names the backend, the operation and the store, quotes the server's own words and says what to
 * do. The password is never part of a message (the JDBC URL is refused at validation if it carries
 * one).
 *
 * <p>Mapping (by SQLSTATE):
 *
 * <ul>
 *   <li>any error after the backend was closed: {@link BackendClosedException}
 *   <li>class {@code 08} (connection exception), {@code 57P01}-{@code 57P03} (admin shutdown, crash
 *       shutdown, cannot connect now), {@code 53300} (too many connections), and the pool's timeout
 *       waiting for a connection: {@link PostgresUnavailableException}, retriable
 *   <li>{@code XX001} (data corrupted), {@code XX002} (index corrupted): {@link
 *       StoreCorruptedException}
 *   <li>{@code 40001} (serialization failure), {@code 40P01} (deadlock): {@link
 *       StorageEngineException} saying that nothing was written and the call may be retried
 *   <li>{@code 53100} (disk full), {@code 42501} (insufficient privilege) and everything else:
 *       {@link StorageEngineException} with the server's message
 * </ul>
 *
 * <p>Thread-safe; its only state is the last failure, kept for the health check.
 */
final class PostgresErrors {
  private final String backendName;
  private final String describe;
  private final BooleanSupplier closed;
  private volatile String lastUnavailable;

  PostgresErrors(String backendName, String describe, BooleanSupplier closed) {
    this.backendName = backendName;
    this.describe = describe;
    this.closed = closed;
  }

  BackendClosedException closedException() {
    return new BackendClosedException(backendName);
  }

  /** Why the last operation could not reach the server, or null once one has succeeded since. */
  String lastUnavailable() {
    return lastUnavailable;
  }

  void succeeded() {
    if (lastUnavailable != null) {
      lastUnavailable = null;
    }
  }

  static boolean isUnavailable(SQLException e) {
    if (e instanceof SQLTransientConnectionException) {
      return true; // HikariCP: no connection within connect-timeout
    }
    String state = e.getSQLState();
    return state != null
        && (state.startsWith("08")
            || state.equals("57P01")
            || state.equals("57P02")
            || state.equals("57P03")
            || state.equals("53300"));
  }

  /**
   * Translates {@code e}, raised by operation {@code op} on store {@code where} (may be null).
   *
   * @param committing whether the failure happened while a commit was in flight, so its outcome is
   *     unknown if the connection broke
   */
  PersistenceException translate(SQLException e, String op, Object where, boolean committing) {
    if (closed.getAsBoolean()) {
      BackendClosedException c = closedException();
      c.initCause(e);
      return c;
    }
    String at = describe + ": " + op + (where == null ? "" : " on " + where);
    String state = e.getSQLState() == null ? "none" : e.getSQLState();
    String words = e.getMessage() + " (SQLSTATE " + state + ")";
    if (isUnavailable(e)) {
      String msg =
          at
              + " failed: the PostgreSQL server is unavailable: "
              + words
              + ". "
              + (committing
                  ? "The connection broke while the commit was in flight, so it may or may not"
                      + " have taken effect (as if the process had crashed just before the call"
                      + " returned). "
                  : "Nothing of this call was written. ")
              + "Retriable: call again once the server is reachable; the backend reconnects by"
              + " itself.";
      lastUnavailable = msg;
      return new PostgresUnavailableException(msg, e);
    }
    switch (state) {
      case "XX001", "XX002" -> {
        return new StoreCorruptedException(
            at
                + " failed: PostgreSQL reports damaged data: "
                + words
                + ". Run 'cairn verify' and PostgreSQL's amcheck/pg_checksums on the database,"
                + " and restore from a backup.",
            e);
      }
      case "40001", "40P01" -> {
        return new StorageEngineException(
            at
                + " failed: PostgreSQL aborted it to resolve a conflict with a concurrent"
                + " transaction: "
                + words
                + ". Nothing of it was written; it may be retried.",
            e);
      }
      case "53100" -> {
        return new StorageEngineException(
            at
                + " failed: the PostgreSQL server's disk is full: "
                + words
                + ". Nothing of it was written; free space on the server, then retry.",
            e);
      }
      case "42501" -> {
        return new StorageEngineException(
            at
                + " failed: the database role lacks a privilege: "
                + words
                + ". Grant it (see docs: the role needs USAGE and CREATE on the schema, or an"
                + " administrator creates the schema once).",
            e);
      }
      default -> {
        return new StorageEngineException(at + " failed: " + words, e);
      }
    }
  }
}
