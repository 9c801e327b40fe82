package io.cairn.backend.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.SnapshotStore;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15, open time independent of size: what open does must not grow with the data. The cleanup
 * of interrupted snapshot saves ran a {@code DELETE ... NOT IN (...)} that SQLite executes as a
 * scan of every chunk row; it now seeks the chunk index once per save id.
 */
class SqliteOpenWorkTest {
  @TempDir Path dir;

  @Test
  void chunksOfAnInterruptedSaveAreDeletedAtOpenAndLiveOnesKept() throws Exception {
    byte[] data = new byte[200_000];
    new Random(3).nextBytes(data);
    try (PersistenceRegistry r = TestBackends.open(dir, "snapshot-chunk-size = 64KiB")) {
      SnapshotStore snaps = r.backend("main").snapshots("state");
      snaps.save(1, data);
      snaps.save(2, b("second"));
    }
    long live;
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cairn.db"));
        Statement st = c.createStatement()) {
      live = count(st, "SELECT count(*) FROM snapshot_chunk");
      assertThat(live).isGreaterThan(3);
      // an interrupted save below, between and above the live save ids
      for (long saveId : new long[] {-5, 0, 1_000, 1_001}) {
        for (int seq = 0; seq < 3; seq++) {
          st.executeUpdate(
              "INSERT INTO snapshot_chunk (save_id, seq, data) VALUES ("
                  + saveId
                  + ", "
                  + seq
                  + ", x'00')");
        }
      }
    }
    try (PersistenceRegistry r = TestBackends.open(dir, "")) {
      SnapshotStore snaps = r.backend("main").snapshots("state");
      try (InputStream in = snaps.load(1)) {
        assertThat(in.readAllBytes()).isEqualTo(data);
      }
      try (InputStream in = snaps.load(2)) {
        assertThat(in.readAllBytes()).isEqualTo(b("second"));
      }
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cairn.db"));
        Statement st = c.createStatement()) {
      assertThat(count(st, "SELECT count(*) FROM snapshot_chunk")).isEqualTo(live);
    }
  }

  @Test
  void theCleanupAtOpenSeeksTheChunkIndexAndNeverScansTheChunks() throws Exception {
    try (PersistenceRegistry r = TestBackends.open(dir, "")) {
      r.backend("main").snapshots("state").save(1, b("x"));
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cairn.db"))) {
      for (String sql :
          List.of(SqliteBackend.NEXT_CHUNK_SAVE_ID, SqliteSnapshotStore.DELETE_CHUNKS)) {
        List<String> plan = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("EXPLAIN QUERY PLAN " + sql)) {
          ps.setLong(1, 7);
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              plan.add(rs.getString("detail"));
            }
          }
        }
        assertThat(plan).as(sql).isNotEmpty().noneMatch(d -> d.startsWith("SCAN"));
        assertThat(plan).as(sql).anyMatch(d -> d.startsWith("SEARCH snapshot_chunk"));
      }
    }
  }

  private static long count(Statement st, String sql) throws Exception {
    try (ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
