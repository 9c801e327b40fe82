package io.cairn.backend.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** compact() gives disk space back after mass expiry and log truncation (issue 20 item 5). */
class CompactReclaimTest {
  private static final int ENTRIES = 12_000;
  private static final byte[] VALUE = new byte[2000]; // ~24 MB of values

  @TempDir Path dir;

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private Path db() {
    return dir.resolve(SqliteDatabase.DB_FILE);
  }

  private long pragma(String name) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db());
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("PRAGMA " + name)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private void fillExpireAndCompact(TestBackends.ManualClock clock) throws Exception {
    try (PersistenceRegistry r = TestBackends.open(dir, "sweeper-interval = 0s", clock)) {
      KeyValueStore kv = r.backend("main").keyValue("cache");
      kv.put(b("keep"), b("kept"));
      for (int t = 0; t < ENTRIES; t += 1000) {
        int first = t;
        r.backend("main")
            .inTransaction(
                tx -> {
                  for (int i = first; i < first + 1000; i++) {
                    tx.keyValue("cache").put(b("k" + i), VALUE, Duration.ofMinutes(1));
                  }
                  return null;
                });
      }
      LogStore log = r.backend("main").log("events");
      for (int i = 0; i < 40; i++) {
        List<byte[]> records = new ArrayList<>();
        for (int j = 0; j < 100; j++) {
          records.add(VALUE);
        }
        log.appendAll(records);
      }
      r.backend("main").compact(Progress.NONE); // checkpoint everything first
      long full = Files.size(db());
      assertThat(full).isGreaterThan(25L << 20);

      clock.advance(Duration.ofMinutes(2).toMillis());
      log.truncateBefore(log.nextOffset() - 10);
      r.backend("main").compact(Progress.NONE);
      long after = Files.size(db());

      assertThat(after)
          .as("file size after expiry, truncation and compact (was %d bytes)", full)
          .isLessThan(full / 10);
      assertThat(kv.get(b("keep"))).isEqualTo(b("kept"));
      assertThat(log.read(log.firstOffset(), 100)).hasSize(10);
      assertThat(r.backend("main").verify(Progress.NONE).problems()).isEmpty();
    }
  }

  @Test
  void newDatabasesUseIncrementalAutoVacuumAndCompactShrinksTheFile() throws Exception {
    TestBackends.ManualClock clock = new TestBackends.ManualClock();
    try (PersistenceRegistry r = TestBackends.open(dir, "", clock)) {
      r.backend("main").keyValue("x").put(b("a"), b("b"));
    }
    assertThat(pragma("auto_vacuum")).as("auto_vacuum of a new database").isEqualTo(2);
    fillExpireAndCompact(clock);
  }

  @Test
  void anOldDatabaseWithoutAutoVacuumIsConvertedByCompact() throws Exception {
    TestBackends.ManualClock clock = new TestBackends.ManualClock();
    try (PersistenceRegistry r = TestBackends.open(dir, "", clock)) {
      r.backend("main").keyValue("x").put(b("a"), b("b"));
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db());
        Statement st = c.createStatement()) {
      st.execute("PRAGMA auto_vacuum = NONE");
      st.execute("VACUUM"); // as files created before the fix were
    }
    assertThat(pragma("auto_vacuum")).isZero();
    fillExpireAndCompact(clock);
    assertThat(pragma("auto_vacuum")).isEqualTo(2);
  }
}
