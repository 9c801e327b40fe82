package io.cairn.backend.postgres;

import io.cairn.persistence.Progress;
import io.cairn.persistence.spi.CallGuard;
import io.cairn.persistence.spi.ExpirySweeper;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Clock;

/**
 * The upkeep of a {@link PostgresBackend}'s schema: {@code compact} (purge, then {@code VACUUM
 * (ANALYZE)}), {@code purgeExpired} in bounded batches, and the expiry sweeper thread ({@code
 * sweeper-interval}; {@link ExpirySweeper}). Thread-safe: batches delete with {@code FOR UPDATE
 * SKIP LOCKED}, so sweepers of several processes on one schema share the work.
 */
final class PostgresMaintenance implements AutoCloseable {
  private final PostgresPool pool;
  private final PostgresSettings settings;
  private final CallGuard guard;
  private final Clock clock;
  private final ExpirySweeper sweeper;

  PostgresMaintenance(
      PostgresPool pool,
      PostgresSettings settings,
      CallGuard guard,
      Clock clock,
      String backendName,
      String describe) {
    this.pool = pool;
    this.settings = settings;
    this.guard = guard;
    this.clock = clock;
    this.sweeper =
        ExpirySweeper.start(
            "cairn-postgres-sweeper-" + backendName,
            describe,
            settings.sweeperInterval(),
            () -> purgeExpired(null),
            guard::isClosed);
  }

  /**
   * Purges expired entries, then runs {@code VACUUM (ANALYZE)} on Cairn's tables: dead rows' space
   * becomes reusable and the planner's statistics are fresh. It does not give space back to the
   * operating system (that needs {@code VACUUM FULL}, which locks the tables exclusively; run it in
   * a maintenance window if wanted).
   */
  void compact(Progress progress) {
    guard.ensureOpen();
    progress.report("purge-expired", 0, -1);
    long purged = purgeExpired(null);
    progress.report("purge-expired", purged, purged);
    int n = PostgresSchema.TABLES.size();
    for (int i = 0; i < n; i++) {
      String table = PostgresSchema.TABLES.get(i);
      progress.report("vacuum-analyze", i, n);
      pool.call(
          "compact (VACUUM ANALYZE)",
          table,
          c -> {
            try (Statement st = c.createStatement()) {
              st.execute("VACUUM (ANALYZE) " + table); // autocommit: VACUUM needs it
            }
            return null;
          });
    }
    progress.report("vacuum-analyze", n, n);
  }

  /** Deletes expired entries of {@code ns} (all namespaces if null) in bounded batches. */
  long purgeExpired(String ns) {
    int batch = settings.sweeperBatch();
    long total = 0;
    while (true) {
      long now = clock.millis();
      int removed =
          pool.call(
              "purgeExpired",
              ns == null ? "all namespaces" : "kv:" + ns,
              c -> {
                try (PreparedStatement ps =
                    c.prepareStatement(
                        "DELETE FROM kv WHERE ctid = ANY(ARRAY(SELECT ctid FROM kv"
                            + " WHERE expires_at <> 0 AND expires_at <= ?"
                            + (ns == null ? "" : " AND ns = ?")
                            + " LIMIT ? FOR UPDATE SKIP LOCKED))"
                            + " AND expires_at <> 0 AND expires_at <= ?")) {
                  int i = 1;
                  ps.setLong(i++, now);
                  if (ns != null) {
                    ps.setString(i++, ns);
                  }
                  ps.setInt(i++, batch);
                  ps.setLong(i, now);
                  return ps.executeUpdate();
                }
              });
      total += removed;
      if (removed < batch || guard.isClosed()) {
        return total;
      }
    }
  }

  /** Stops the sweeper (waits for a run in progress, up to ten seconds). */
  @Override
  public void close() {
    sweeper.close();
  }
}
