package io.cairn.backend.sqlite;

import io.cairn.persistence.StorageEngineException;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.DataDirectory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opening a SQLite data directory, shared by the backend and the engine it is being ported to
 * (issue 12): lock the directory, check the header and the WAL, open the writer connection, bring
 * the schema up to date, apply {@code on-corruption} and {@code on-wal-loss}, start the commit
 * mark. The steps and their order are the RECOVERY list of {@link SqliteDatabase}; only step 4 (the
 * schema) and step 6 (cleanup) differ between schemas, so they are the caller's {@link Schema}.
 */
final class SqliteOpen {
  private static final Logger log = LoggerFactory.getLogger(SqliteOpen.class);

  private SqliteOpen() {}

  /** Step 4 and step 6 of the recovery list, for one schema. */
  interface Schema {
    /**
     * Refuses a foreign or newer database and brings the schema up to date (nothing changed if it
     * throws).
     */
    void prepare(Conn c, String describe, Path db) throws SQLException;

    /** Cleanup after the checks passed (e.g. chunks of interrupted saves); may do nothing. */
    void cleanUp(Conn c) throws SQLException;
  }

  /** What an open leaves to its caller: the locked directory, writer and commit mark. */
  record Opened(DataDirectory dataDir, Conn writer, WalGuard guard) {
    /** Releases all three, for a caller that fails after the open. Never throws. */
    void closeAll() {
      guard.close();
      writer.close();
      dataDir.close();
    }
  }

  /**
   * Opens {@code ctx}'s directory for writing, following the recovery rules on {@link
   * SqliteDatabase}. Leaves nothing open or locked if it throws.
   */
  static Opened open(BackendContext ctx, SqliteSettings settings, Schema schema) {
    DataDirectory dataDir =
        DataDirectory.open(ctx, DataDirectory.Options.of(ctx), SqliteDatabase::isEngineFile);
    Conn writerConn = null;
    Path db = dataDir.path().resolve(SqliteDatabase.DB_FILE);
    try {
      writerConn = openChecked(ctx, settings, dataDir, schema);
      WalGuard guard;
      try {
        guard = WalGuard.open(db);
      } catch (IOException e) {
        throw new SqliteErrors(ctx.name(), ctx.describe(), db, () -> false)
            .translate(e, "open (commit mark)", WalGuard.markFile(db));
      }
      return new Opened(dataDir, writerConn, guard);
    } catch (RuntimeException e) {
      if (writerConn != null) {
        writerConn.close();
      }
      dataDir.close();
      throw e;
    }
  }

  /**
   * {@code read-only = true}: opens beside the process that holds the lock, without it. No recovery
   * step runs (no header or WAL check that could quarantine, no migration, no orphan cleanup, no
   * sweeper, no commit mark): the "writer" connection is query-only and every write is refused by
   * the data directory before it reaches SQLite. Readers see the last transaction committed when
   * each read starts; WAL mode makes that safe beside the live writer. The database must exist.
   */
  static Opened openReadOnly(BackendContext ctx, SqliteSettings settings) {
    DataDirectory dataDir =
        DataDirectory.openReadOnly(
            ctx, DataDirectory.Options.of(ctx), SqliteDatabase::isEngineFile);
    Path db = dataDir.path().resolve(SqliteDatabase.DB_FILE);
    Conn conn = null;
    try {
      if (!Files.isRegularFile(db, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        throw new StorageEngineException(
            "Cannot open "
                + ctx.describe()
                + " read-only: "
                + db
                + " does not exist (a read-only open creates nothing)",
            null);
      }
      conn = SqliteDatabase.open(db, settings, ctx.durability(), false);
      return new Opened(dataDir, conn, WalGuard.readOnly(db));
    } catch (SQLException e) {
      dataDir.close();
      throw new SqliteErrors(ctx.name(), ctx.describe(), db, () -> false)
          .translate(e, "open read-only", null);
    } catch (RuntimeException e) {
      if (conn != null) {
        conn.close();
      }
      dataDir.close();
      throw e;
    }
  }

  private static Conn openChecked(
      BackendContext ctx, SqliteSettings settings, DataDirectory dataDir, Schema schema) {
    Path db = dataDir.path().resolve(SqliteDatabase.DB_FILE);
    SqliteErrors openErrors = new SqliteErrors(ctx.name(), ctx.describe(), db, () -> false);
    for (int attempt = 0; ; attempt++) {
      String corruption = null;
      Throwable cause = null;
      try {
        SqliteDatabase.checkHeader(db);
      } catch (SqliteDatabase.Corrupt c) {
        corruption = c.getMessage();
      } catch (IOException e) {
        throw openErrors.translate(e, "open (header check)", db);
      }
      if (corruption == null) {
        corruption = checkWal(ctx, settings, db, openErrors);
      }
      if (corruption == null) {
        Conn c = null;
        try {
          // 0600 and never a link: SQLite gives -wal and -shm the database file's mode
          dataDir.createPrivateFile(SqliteDatabase.DB_FILE);
          c = SqliteDatabase.open(db, settings, ctx.durability(), true);
          schema.prepare(c, ctx.describe(), db);
          List<String> problems =
              settings.openCheck() == SqliteSettings.OpenCheck.QUICK
                  ? SqliteDatabase.quickCheck(c)
                  : List.of();
          if (problems.isEmpty()) {
            schema.cleanUp(c);
            return c;
          }
          corruption =
              "PRAGMA quick_check reports "
                  + problems.stream().limit(5).collect(Collectors.joining("; "))
                  + (problems.size() > 5 ? "; ..." : "");
        } catch (SQLException e) {
          if (!SqliteErrors.isCorruption(e)) {
            if (c != null) {
              c.close();
            }
            throw openErrors.translate(e, "open", null);
          }
          corruption = e.getMessage();
          cause = e;
        } catch (IOException e) {
          throw openErrors.translate(e, "open (creating the database file)", db);
        } catch (RuntimeException e) {
          if (c != null) {
            c.close();
          }
          throw e;
        }
        if (c != null) {
          c.close();
        }
      }
      if (settings.onCorruption() == SqliteSettings.OnCorruption.FAIL || attempt > 0) {
        throw new StoreCorruptedException(
            "Cannot open "
                + ctx.describe()
                + ": the database file "
                + db
                + " is corrupt: "
                + corruption
                + ". Nothing was changed. Restore the directory from a backup; or, only if this"
                + " backend holds data you can afford to lose (a cache), set on-corruption ="
                + " quarantine to move the damaged files aside and start empty. 'cairn verify'"
                + " shows the details.",
            cause);
      }
      try {
        Path moved = SqliteDatabase.quarantine(dataDir);
        ctx.metrics().counter(ctx.metricPrefix() + ".sqlite.quarantined").inc();
        log.warn(
            "{}: {} was corrupt ({}); moved it aside to {} and starting with an empty database"
                + " (on-corruption = quarantine)",
            ctx.describe(),
            db,
            corruption,
            moved);
      } catch (IOException e) {
        throw openErrors.translate(e, "quarantine the corrupt database", db);
      }
    }
  }

  /**
   * Runs {@link WalGuard#check} before SQLite replays the WAL. Returns the corruption to act on
   * (on-corruption), or null; findings that on-wal-loss = accept or the durability allows are
   * logged and counted instead.
   */
  private static String checkWal(
      BackendContext ctx, SqliteSettings settings, Path db, SqliteErrors openErrors) {
    List<String> warnings = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    List<String> problems;
    try {
      problems = WalGuard.check(db, ctx.durability(), warnings, notes);
    } catch (IOException e) {
      throw openErrors.translate(e, "open (WAL check)", WalGuard.walFile(db));
    }
    if (settings.onWalLoss() == SqliteSettings.OnWalLoss.ACCEPT) {
      warnings.addAll(problems);
      problems = List.of();
    }
    for (String n : notes) {
      log.warn("{}: {}", ctx.describe(), n);
    }
    for (String w : warnings) {
      ctx.metrics().counter(ctx.metricPrefix() + ".sqlite.wal-loss-accepted").inc();
      log.warn(
          "{}: {}. Opening anyway: SQLite keeps the WAL up to the damage and the transactions"
              + " after it are lost.",
          ctx.describe(),
          w);
    }
    if (problems.isEmpty()) {
      return null;
    }
    return "committed transactions would be lost: "
        + String.join("; ", problems)
        + ". To open it anyway with those transactions lost (SQLite keeps what precedes the"
        + " damage), set on-wal-loss = accept for one open";
  }
}
