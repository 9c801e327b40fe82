package io.cairn.backend.sqlite;

import io.cairn.persistence.BackendClosedException;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.StorageEngineException;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.spi.ArgumentChecks;
import io.cairn.persistence.spi.DataDirectory;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.function.BooleanSupplier;

/**
 * The one place where SQLite and I/O errors become Cairn exceptions. Every message names the
 * backend, the operation and the store, quotes the engine's own words and says what to do.
 *
 * <p>Mapping (by SQLite primary result code, {@code errorCode & 0xFF}):
 *
 * <ul>
 *   <li>any error after the backend was closed: {@link BackendClosedException}
 *   <li>{@code SQLITE_CORRUPT} (11), {@code SQLITE_NOTADB} (26): {@link StoreCorruptedException}
 *   <li>{@code SQLITE_FULL} (13): {@link StorageEngineException}, "the disk is full"
 *   <li>{@code SQLITE_BUSY} (5), {@code SQLITE_LOCKED} (6): {@link StorageEngineException}, "busy"
 *   <li>{@code SQLITE_READONLY} (8), {@code SQLITE_CANTOPEN} (14), {@code SQLITE_PERM} (3): {@link
 *       StorageEngineException} about permissions
 *   <li>everything else, including {@code SQLITE_IOERR} (10): {@link StorageEngineException}
 * </ul>
 *
 * <p>An {@code SQLITE_IOERR} (a failed read, write or fsync: {@code SQLITE_IOERR_FSYNC} is 1034)
 * also puts the attached {@link DataDirectory} into its failed state, so every later write is
 * refused until the backend is reopened (a retried fsync may report success for pages the kernel
 * already dropped). A full disk ({@code SQLITE_FULL}) does not: writes resume once space is freed.
 *
 * <p>Thread-safe and stateless apart from the closed flag it consults and the attached directory.
 */
final class SqliteErrors {
  static final int SQLITE_PERM = 3;
  static final int SQLITE_BUSY = 5;
  static final int SQLITE_LOCKED = 6;
  static final int SQLITE_READONLY = 8;
  static final int SQLITE_IOERR = 10;
  static final int SQLITE_CORRUPT = 11;
  static final int SQLITE_FULL = 13;
  static final int SQLITE_CANTOPEN = 14;
  static final int SQLITE_NOTADB = 26;

  private final String backendName;
  private final String describe;
  private final Path dbFile;
  private final BooleanSupplier closed;
  private volatile DataDirectory dataDirectory;
  private volatile String lastFailure;

  /**
   * @param backendName instance name, for {@link BackendClosedException}
   * @param describe e.g. {@code sqlite backend 'main' at /data/main}
   * @param dbFile the database file, named in corruption messages
   * @param closed whether the backend has been closed
   */
  SqliteErrors(String backendName, String describe, Path dbFile, BooleanSupplier closed) {
    this.backendName = backendName;
    this.describe = describe;
    this.dbFile = dbFile;
    this.closed = closed;
  }

  /** Attaches the backend's data directory: I/O errors fail it, {@link #beforeWrite} asks it. */
  void attach(DataDirectory dir) {
    this.dataDirectory = dir;
  }

  /**
   * Call before every write: throws if the data directory is failed or gone (see {@link
   * DataDirectory#beforeWrite()}).
   */
  void beforeWrite() {
    DataDirectory d = dataDirectory;
    if (d != null) {
      d.beforeWrite();
    }
  }

  /**
   * Renders a lazily described location ({@code null} for the backend as a whole): a {@link
   * StoreId} as its kind and name ({@code key-value store 'users'}), anything else by its {@code
   * toString()}. Reads and writes pass the store itself, so naming it costs nothing unless
   * something fails.
   */
  static String describe(Object where) {
    if (where instanceof StoreId store) {
      return ArgumentChecks.kindName(store.kind()) + " '" + store.name() + "'";
    }
    return where == null ? null : where.toString();
  }

  /** Whether {@code e} means the database file is damaged. */
  static boolean isCorruption(SQLException e) {
    int code = e.getErrorCode() & 0xFF;
    return code == SQLITE_CORRUPT || code == SQLITE_NOTADB;
  }

  /**
   * The engine's words for the last storage failure (disk full, I/O error, read-only file) or
   * failed commit, for health; null once a write has committed since.
   */
  String lastFailure() {
    return lastFailure;
  }

  /** Records a failed commit for health, whatever its cause. */
  void noteFailure(SQLException e) {
    lastFailure = e.getMessage();
  }

  /** A write committed: storage accepts writes again. */
  void noteSuccess() {
    if (lastFailure != null) {
      lastFailure = null;
    }
  }

  /** Whether {@code e} means the storage refused the write (full, I/O error, not writable). */
  static boolean isStorageFailure(SQLException e) {
    int code = e.getErrorCode() & 0xFF;
    return code == SQLITE_FULL
        || code == SQLITE_IOERR
        || code == SQLITE_READONLY
        || code == SQLITE_CANTOPEN
        || code == SQLITE_PERM;
  }

  /**
   * Translates {@code e} raised while doing {@code operation} on {@code where} (a store such as
   * {@code kv:users}, key included where known; or null for the backend as a whole).
   */
  PersistenceException translate(SQLException e, String operation, String where) {
    if (closed.getAsBoolean()) {
      BackendClosedException c = new BackendClosedException(backendName);
      c.addSuppressed(e);
      return c;
    }
    if (isStorageFailure(e)) {
      lastFailure = e.getMessage();
    }
    String at = describe + (where == null ? "" : ", " + where);
    String engine = " (SQLite: " + e.getMessage() + ")";
    int code = e.getErrorCode() & 0xFF;
    DataDirectory d = dataDirectory;
    if (code == SQLITE_IOERR && d != null) {
      d.fail(operation + " failed with an I/O error" + (where == null ? "" : " on " + where), e);
    }
    switch (code) {
      case SQLITE_CORRUPT:
      case SQLITE_NOTADB:
        return new StoreCorruptedException(
            operation
                + " failed at "
                + at
                + ": the database file "
                + dbFile
                + " is corrupt"
                + engine
                + ". Run 'cairn verify', then restore the directory from a backup (or, for"
                + " cache-only data, set on-corruption = quarantine and reopen).",
            e);
      case SQLITE_FULL:
        return new StorageEngineException(
            operation
                + " failed at "
                + at
                + ": the disk holding "
                + dbFile.getParent()
                + " is full"
                + engine
                + ". Free space, then retry; the failed write did not happen.",
            e);
      case SQLITE_BUSY:
      case SQLITE_LOCKED:
        return new StorageEngineException(
            operation
                + " failed at "
                + at
                + ": the database stayed locked for longer than busy-timeout"
                + engine
                + ". Another program may have "
                + dbFile
                + " open; Cairn must be its only user. Stop the other program or raise"
                + " busy-timeout.",
            e);
      case SQLITE_READONLY:
      case SQLITE_CANTOPEN:
      case SQLITE_PERM:
        return new StorageEngineException(
            operation
                + " failed at "
                + at
                + ": cannot write or open "
                + dbFile
                + engine
                + ". Check that the directory and its files are writable by this user"
                + " and that the file system is not read-only.",
            e);
      default:
        return new StorageEngineException(
            operation
                + " failed at "
                + at
                + engine
                + (code == SQLITE_IOERR
                    ? ". The operating system reported an I/O error on "
                        + dbFile
                        + "; check the disk and run 'cairn verify'."
                    : ". If this persists, run 'cairn verify' and report it with this message."),
            e);
    }
  }

  /** Translates an I/O failure on one of the backend's files. */
  PersistenceException translate(IOException e, String operation, Path file) {
    if (closed.getAsBoolean()) {
      BackendClosedException c = new BackendClosedException(backendName);
      c.addSuppressed(e);
      return c;
    }
    return new StorageEngineException(
        operation
            + " failed at "
            + describe
            + ": "
            + file
            + ": "
            + e
            + ". Check that the directory exists, is writable by this user and has free space.",
        e);
  }

  /** The closed exception for this backend. */
  BackendClosedException closedException() {
    return new BackendClosedException(backendName);
  }
}
