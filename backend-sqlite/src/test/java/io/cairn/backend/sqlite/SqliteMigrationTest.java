package io.cairn.backend.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StoreCorruptedException;
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

/**
 * Opening a file of schema v1, v2 or v3 (as released; built here by their own SQL) migrates it to
 * schema v5 in the same open: first to v4 by the old migrations ({@link SqliteDatabase}), then to
 * the shared base's records ({@link EngineSchema}); asserted through the API.
 */
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

    assertThat(userVersion(dir)).isEqualTo(EngineSchema.VERSION);
    try (PersistenceRegistry r = TestBackends.open(dir, "sweeper-interval = 0s", clock)) {
      KeyValueStore data = r.backend("main").keyValue("data");
      assertThat(data.get(b("plain"))).isEqualTo(b("new"));
      assertThat(data.approximateCount()).isEqualTo(2);
    }
  }

  /**
   * A v4 row whose append time was changed fails its row checksum in the migration, so its v5
   * record fails too (never laundered): reads refuse it and verify names it; the rest reads.
   */
  @Test
  void aDamagedAppendTimeFailsTheRowChecksum() throws Exception {
    TestBackends.ManualClock clock = new TestBackends.ManualClock();
    clock.advance(150); // the fixture's end (fixtures/README.md)
    try (var in = getClass().getResourceAsStream("/fixtures/v4-plain.db")) {
      java.nio.file.Files.copy(in, dir.resolve("cairn.db"));
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cairn.db"));
        Statement st = c.createStatement()) {
      assertThat(
              st.executeUpdate(
                  "UPDATE log_record SET appended_at = appended_at + 1"
                      + " WHERE log = 'events' AND record_offset = 5"))
          .isEqualTo(1);
    }
    try (PersistenceRegistry r = TestBackends.open(dir, "sweeper-interval = 0s", clock)) {
      var log = r.backend("main").log("events");
      assertThat(log.read(4, 1)).singleElement().extracting(rec -> rec.offset()).isEqualTo(4L);
      assertThatThrownBy(() -> log.read(5, 1)).isInstanceOf(StoreCorruptedException.class);
      assertThat(r.backend("main").verify(Progress.NONE).problems())
          .singleElement()
          .asString()
          .contains("events");
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

  /**
   * A brand-new file gets the current schema without claiming a migration; an (empty) v2 file
   * opened the same way does log its migration, which also shows the capture sees the log.
   */
  @Test
  void aNewFileLogsNoMigrationAndAnOldOneDoes() throws Exception {
    Path fresh = dir.resolve("fresh");
    Path old = dir.resolve("old");
    java.nio.file.Files.createDirectories(old);
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + old.resolve("cairn.db"));
        Statement st = c.createStatement()) {
      st.execute("PRAGMA journal_mode = WAL");
      for (String sql : V1_SCHEMA) {
        st.execute(sql);
      }
      for (String sql : V1_TO_V2) {
        st.execute(sql);
      }
    }
    String freshLog = Stderr.of(() -> TestBackends.open(fresh, "").close());
    String oldLog = Stderr.of(() -> TestBackends.open(old, "").close());

    assertThat(oldLog)
        .contains("schema migration 2 -> 3 rewrote 0 row checksums")
        .contains("from schema 4 to 5");
    assertThat(freshLog).doesNotContain("schema migration").doesNotContain("migrated");
    assertThat(userVersion(fresh)).isEqualTo(EngineSchema.VERSION);
    assertThat(userVersion(old)).isEqualTo(EngineSchema.VERSION);
  }

  private static long userVersion(Path dir) throws java.sql.SQLException {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cairn.db"));
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("PRAGMA user_version")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** Migration 1 -> 2 exactly as released (see SCHEMA v1 in SqliteDatabase). */
  private static final String[] V1_TO_V2 = {
    "CREATE TABLE kv_ttl (expires_at INTEGER NOT NULL, ns TEXT NOT NULL,"
        + " key BLOB NOT NULL, PRIMARY KEY (expires_at, ns, key)) WITHOUT ROWID",
    "INSERT INTO kv_ttl (expires_at, ns, key) SELECT expires_at, ns, key FROM kv WHERE expires_at > 0",
    "DROP INDEX kv_expiry",
    "UPDATE kv SET crc = crc - 4294967296 WHERE crc >= 2147483648",
    "CREATE TABLE meta (name TEXT NOT NULL PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
    "INSERT INTO meta (name, value) VALUES ('kv-version-reserved',"
        + " (SELECT coalesce(max(version), 0) + 1 FROM kv))",
    "PRAGMA user_version = 2"
  };

  /**
   * A schema v2 file (value-only checksums, no catalog) is migrated to v5 through v3 and v4: every
   * row is copied with its checks, and a row that already failed its v2 checksum keeps failing (no
   * migration launders damage); the log's start offset and high-water mark, the snapshot and the
   * version reservation carry over.
   */
  @Test
  void v2FileIsMigratedAndKeepsItsDamageVisible() throws Exception {
    byte[] damaged = b("damaged value");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cairn.db"));
        Statement st = c.createStatement()) {
      st.execute("PRAGMA journal_mode = WAL");
      for (String sql : V1_SCHEMA) {
        st.execute(sql);
      }
      for (String sql : V1_TO_V2) {
        st.execute(sql);
      }
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO kv VALUES (?, ?, ?, ?, 0, ?)")) {
        for (int i = 0; i < 2500; i++) { // more than one migration page of 1000
          byte[] value = b("value-" + i);
          ps.setString(1, i % 2 == 0 ? "even" : "odd");
          ps.setBytes(2, b("key-" + i));
          ps.setBytes(3, value);
          ps.setLong(4, i + 1);
          ps.setInt(5, (int) Checksums.crc32c(value));
          ps.executeUpdate();
        }
        ps.setString(1, "even");
        ps.setBytes(2, b("broken"));
        ps.setBytes(3, damaged);
        ps.setLong(4, 9999);
        ps.setInt(5, (int) Checksums.crc32c(damaged) ^ 1);
        ps.executeUpdate();
      }
      st.execute("UPDATE meta SET value = 10000");
      try (PreparedStatement ps =
          c.prepareStatement("INSERT INTO log_record VALUES ('events', ?, ?, ?)")) {
        for (int i = 0; i < 5; i++) {
          byte[] p = b("event-" + i);
          ps.setLong(1, i);
          ps.setBytes(2, p);
          ps.setLong(3, Checksums.crc32c(p)); // v2 kept the log CRC unsigned
          ps.executeUpdate();
        }
      }
      st.execute("INSERT INTO log_meta VALUES ('events', 1)");
      st.execute("DELETE FROM log_record WHERE record_offset = 0");
      byte[] snap = b("snapshot data");
      try (PreparedStatement ps =
          c.prepareStatement("INSERT INTO snapshot_chunk VALUES (1, 0, ?)")) {
        ps.setBytes(1, snap);
        ps.executeUpdate();
      }
      try (PreparedStatement ps =
          c.prepareStatement("INSERT INTO snapshot VALUES ('state', 3, 1, ?, ?, 123, 1)")) {
        ps.setLong(1, snap.length);
        ps.setLong(2, Checksums.crc32c(snap));
        ps.executeUpdate();
      }
    }

    try (PersistenceRegistry r = TestBackends.open(dir, "sweeper-interval = 0s")) {
      var backend = r.backend("main");
      assertThat(backend.keyValue("odd").get(b("key-2499"))).isEqualTo(b("value-2499"));
      assertThat(backend.keyValue("even").getEntry(b("key-0")).orElseThrow().version())
          .isEqualTo(1);
      assertThatThrownBy(() -> backend.keyValue("even").get(b("broken")))
          .isInstanceOf(StoreCorruptedException.class);
      assertThat(backend.log("events").read(0, 10)).hasSize(4);
      assertThat(backend.log("events").read(0, 10))
          .as("records written before schema v4 have no append time")
          .allMatch(rec -> rec.appendedAtMillis() == io.cairn.persistence.LogRecord.NOT_RECORDED);
      assertThat(backend.log("events").append(b("new"))).isEqualTo(5);
      assertThat(backend.log("events").read(5, 1).get(0).hasAppendTime()).isTrue();
      try (var in = backend.snapshots("state").load(3)) {
        assertThat(in.readAllBytes()).isEqualTo(b("snapshot data"));
      }
      assertThat(backend.verify(Progress.NONE).problems())
          .singleElement()
          .asString()
          .contains("namespace 'even'")
          .contains("'broken'");
      assertThat(backend.keyValue("odd").put(b("key-1"), b("x"))).isGreaterThanOrEqualTo(10000);
    }
    assertThat(userVersion(dir)).isEqualTo(EngineSchema.VERSION);
    try (PersistenceRegistry r = TestBackends.open(dir, "sweeper-interval = 0s")) {
      var backend = r.backend("main");
      assertThat(backend.log("events").firstOffset()).isEqualTo(1);
      assertThat(backend.log("events").nextOffset()).isEqualTo(6);
      assertThat(backend.snapshots("state").list())
          .singleElement()
          .extracting(i -> i.version())
          .isEqualTo(3L);
    }
  }
}
