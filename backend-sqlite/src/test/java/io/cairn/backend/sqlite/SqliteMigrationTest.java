package io.cairn.backend.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.spi.Checksums;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Opening a schema v1 file (as released) migrates it forward to the current schema. */
class SqliteMigrationTest {
  @TempDir Path dir;

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** The v1 layout exactly as v1 created it (see SCHEMA v1 in SqliteDatabase). */
  private static final String[] V1_SCHEMA = {
    "PRAGMA auto_vacuum = INCREMENTAL",
    "CREATE TABLE kv (ns TEXT NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,"
        + " version INTEGER NOT NULL, expires_at INTEGER NOT NULL, crc INTEGER NOT NULL,"
        + " PRIMARY KEY (ns, key)) WITHOUT ROWID",
    "CREATE INDEX kv_expiry ON kv (expires_at) WHERE expires_at > 0",
    "CREATE TABLE log_record (log TEXT NOT NULL, record_offset INTEGER NOT NULL,"
        + " payload BLOB NOT NULL, crc INTEGER NOT NULL,"
        + " PRIMARY KEY (log, record_offset)) WITHOUT ROWID",
    "CREATE TABLE log_meta (log TEXT NOT NULL PRIMARY KEY,"
        + " start_offset INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE TABLE snapshot (store TEXT NOT NULL, version INTEGER NOT NULL,"
        + " save_id INTEGER NOT NULL, size INTEGER NOT NULL, crc INTEGER NOT NULL,"
        + " created_at INTEGER NOT NULL, chunks INTEGER NOT NULL,"
        + " PRIMARY KEY (store, version)) WITHOUT ROWID",
    "CREATE TABLE snapshot_chunk (save_id INTEGER NOT NULL, seq INTEGER NOT NULL,"
        + " data BLOB NOT NULL, PRIMARY KEY (save_id, seq))",
    "PRAGMA application_id = " + SqliteDatabase.APPLICATION_ID,
    "PRAGMA user_version = 1"
  };

  @Test
  void v1FileIsMigratedAndKeepsItsEntriesVersionsAndExpiries() throws Exception {
    TestBackends.ManualClock clock = new TestBackends.ManualClock();
    long now = clock.millis();
    // a value whose unsigned CRC-32C does not fit a signed int, as v1 stored it
    byte[] bigCrcValue = null;
    for (int i = 0; bigCrcValue == null; i++) {
      byte[] candidate = b("value-" + i);
      if (Checksums.crc32c(candidate) >= 0x8000_0000L) {
        bigCrcValue = candidate;
      }
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cairn.db"));
        Statement st = c.createStatement()) {
      st.execute("PRAGMA journal_mode = WAL");
      for (String sql : V1_SCHEMA) {
        st.execute(sql);
      }
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO kv VALUES (?, ?, ?, ?, ?, ?)")) {
        Object[][] rows = {
          {"data", b("plain"), bigCrcValue, 7L, 0L},
          {"data", b("soon"), b("expires later"), 3L, now + 1000},
          {"data", b("gone"), b("already expired"), 41L, now - 1},
          {"other", b("plain"), b("x"), 1L, 0L},
        };
        for (Object[] row : rows) {
          ps.setString(1, (String) row[0]);
          ps.setBytes(2, (byte[]) row[1]);
          ps.setBytes(3, (byte[]) row[2]);
          ps.setLong(4, (Long) row[3]);
          ps.setLong(5, (Long) row[4]);
          ps.setLong(6, Checksums.crc32c((byte[]) row[2]));
          ps.executeUpdate();
        }
      }
    }

    try (PersistenceRegistry r = TestBackends.open(dir, "sweeper-interval = 0s", clock)) {
      var backend = r.backend("main");
      KeyValueStore data = backend.keyValue("data");
      Entry plain = data.getEntry(b("plain")).orElseThrow();
      assertThat(plain.value()).isEqualTo(bigCrcValue);
      assertThat(plain.version()).isEqualTo(7);
      assertThat(data.getEntry(b("soon")).orElseThrow().version()).isEqualTo(3);
      assertThat(data.get(b("gone"))).isNull();
      assertThat(backend.verify(Progress.NONE).problems()).isEmpty();

      assertThat(data.put(b("plain"), b("new"))).isGreaterThan(7);
      // every later version exceeds every v1 version, also for other keys
      assertThat(data.put(b("fresh"), b("f"))).isGreaterThan(41);

      assertThat(data.purgeExpired()).isEqualTo(1); // "gone", indexed for the sweeper by migration
      clock.advance(1000);
      assertThat(data.get(b("soon"))).isNull();
      assertThat(data.purgeExpired()).isEqualTo(1);
      assertThat(backend.keyValue("other").get(b("plain"))).isEqualTo(b("x"));
    }

    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cairn.db"));
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("PRAGMA user_version")) {
      rs.next();
      assertThat(rs.getLong(1)).isEqualTo(SqliteDatabase.CURRENT_VERSION);
    }
    try (PersistenceRegistry r = TestBackends.open(dir, "sweeper-interval = 0s", clock)) {
      KeyValueStore data = r.backend("main").keyValue("data");
      assertThat(data.get(b("plain"))).isEqualTo(b("new"));
      assertThat(data.approximateCount()).isEqualTo(2);
    }
  }

  @Test
  void versionsKeepIncreasingAcrossRestartsAndReservations() {
    long last = 0;
    for (int open = 0; open < 3; open++) {
      try (PersistenceRegistry r = TestBackends.open(dir, "")) {
        KeyValueStore kv = r.backend("main").keyValue("data");
        for (int i = 0; i < 5; i++) {
          long v = kv.put(b("k"), b("v" + i));
          assertThat(v).as("open %d write %d", open, i).isGreaterThan(last);
          last = v;
        }
      }
    }
  }
}
