package io.cairn.backend.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.SnapshotInfo;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.spi.Encryption;
import io.cairn.tck.FixedKeyEncryption;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Schema v4, as the SQLite backend before the port wrote it (the fixtures under {@code
 * src/test/resources/fixtures/}, see their README), opened by today's backend: the v4 -> v5
 * migration in {@link EngineSchema} finds every entry (value, version, expiry), every log (first
 * and next offset, records, append times), every snapshot (list, data, creation time), encrypted or
 * not, and writes go on from there; a migration that fails leaves the v4 file as it was.
 */
class SqliteEngineMigrationTest {
  /** The fixtures' clock at their close (README); "gone" has expired, "ttl" has not. */
  private static final long FIXTURE_END = 1_700_000_000_150L;

  @TempDir Path dir;

  private final TestBackends.ManualClock clock = new TestBackends.ManualClock();

  private PersistenceRegistry open(Encryption encryption) {
    String conf =
        "cairn.backends.main { type = sqlite, data-dir = "
            + ConfigUtil.quoteString(dir.toString())
            + ", durability = normal, open-check = header, snapshot-chunk-size = 4KiB,"
            + " sweeper-interval = 0s }";
    PersistenceRegistry.Builder b = PersistenceRegistry.builder().clock(clock);
    if (encryption != null) {
      b.encryption(name -> encryption);
    }
    return b.open(ConfigFactory.parseString(conf));
  }

  /** What the v4 file holds, in the public API's terms. */
  private record Expected(
      List<Entry> users,
      Entry other,
      List<LogRecord> records,
      List<SnapshotInfo> snapshots,
      long versionsReserved) {}

  /**
   * Copies fixture {@code name} to {@code dir} and reads what the migration must preserve: the
   * values are the README's (sealed in the encrypted fixture), versions, expiries, append times and
   * snapshot metadata come from the v4 tables themselves.
   */
  private Expected fixture(String name) throws Exception {
    clock.advance(FIXTURE_END - clock.millis());
    try (InputStream in = getClass().getResourceAsStream("/fixtures/" + name)) {
      Files.copy(in, dir.resolve("cairn.db"));
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cairn.db"))) {
      try (Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("PRAGMA user_version")) {
        assertThat(rs.getLong(1)).as("fixture schema").isEqualTo(4);
      }
      List<Entry> users = new ArrayList<>();
      users.add(entry(c, "users", b("a"), b("2")));
      users.add(entry(c, "users", b("b"), b("x")));
      users.add(entry(c, "users", b("ttl"), b("soon")));
      users.add(entry(c, "users", new byte[] {0, (byte) 0xFF}, b("binary key")));
      Entry other = entry(c, "other", b("a"), b("other ns"));
      List<LogRecord> records = new ArrayList<>();
      try (Statement st = c.createStatement();
          ResultSet rs =
              st.executeQuery(
                  "SELECT record_offset, appended_at FROM log_record WHERE log = 'events'"
                      + " ORDER BY record_offset")) {
        while (rs.next()) {
          long offset = rs.getLong(1);
          records.add(new LogRecord(offset, b("e" + offset), rs.getLong(2)));
        }
      }
      List<SnapshotInfo> snapshots = new ArrayList<>();
      try (Statement st = c.createStatement();
          ResultSet rs =
              st.executeQuery(
                  "SELECT version, size, crc, created_at FROM snapshot WHERE store = 'snaps'"
                      + " ORDER BY version")) {
        while (rs.next()) {
          snapshots.add(
              new SnapshotInfo(
                  rs.getLong(1), rs.getLong(2), rs.getLong(3) & 0xFFFFFFFFL, rs.getLong(4)));
        }
      }
      long reserved;
      try (Statement st = c.createStatement();
          ResultSet rs =
              st.executeQuery("SELECT value FROM meta WHERE name = 'kv-version-reserved'")) {
        reserved = rs.getLong(1);
      }
      return new Expected(users, other, records, snapshots, reserved);
    }
  }

  private static Entry entry(Connection c, String ns, byte[] key, byte[] value)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("SELECT version, expires_at FROM kv WHERE ns = ? AND key = ?")) {
      ps.setString(1, ns);
      ps.setBytes(2, key);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).as("fixture row %s", ns).isTrue();
        return new Entry(key, value, rs.getLong(1), rs.getLong(2));
      }
    }
  }

  private static byte[] bigSnapshot() {
    byte[] big = new byte[3 * 4096 + 17];
    for (int i = 0; i < big.length; i++) {
      big[i] = (byte) (i * 31 + 7);
    }
    return big;
  }

  private void findEverything(Expected old, StorageBackend b) throws Exception {
    KeyValueStore kv = b.keyValue("users");
    for (Entry e : old.users()) {
      assertThat(kv.getEntry(e.key())).as(new String(e.key(), StandardCharsets.UTF_8)).hasValue(e);
    }
    assertThat(old.users().get(2).expiresAtMillis()).as("the fixture's TTL").isPositive();
    assertThat(b.keyValue("other").getEntry(b("a"))).hasValue(old.other());
    assertThat(kv.get(b("gone"))).as("expired before the migration").isNull();
    LogStore log = b.log("events");
    assertThat(log.firstOffset()).isEqualTo(4);
    assertThat(log.nextOffset()).isEqualTo(10);
    List<LogRecord> read = log.read(0, 100);
    assertThat(read).isEqualTo(old.records()).hasSize(6);
    assertThat(read)
        .extracting(LogRecord::appendedAtMillis)
        .as("append times")
        .isEqualTo(old.records().stream().map(LogRecord::appendedAtMillis).toList());
    assertThat(b.log("emptied").firstOffset()).isEqualTo(1);
    assertThat(b.log("emptied").nextOffset()).isEqualTo(1);
    assertThat(b.snapshots("snaps").list()).isEqualTo(old.snapshots()).hasSize(2);
    try (InputStream in = b.snapshots("snaps").load(1)) {
      assertThat(in.readAllBytes()).isEqualTo(b("first snapshot"));
    }
    try (InputStream in = b.snapshots("snaps").load(2)) {
      assertThat(in.readAllBytes()).isEqualTo(bigSnapshot());
    }
    assertThat(b.verify(Progress.NONE).problems()).isEmpty();
  }

  @Test
  void aFileOfTheOldSqliteBackendIsFoundWholeAndWritesGoOn() throws Exception {
    Expected old = fixture("v4-plain.db");
    try (PersistenceRegistry r = open(null)) {
      StorageBackend b = r.backend("main");
      assertThat(b.stats().properties()).containsEntry("schema_version", "5");
      findEverything(old, b);
      Entry a = old.users().get(0);
      assertThat(b.keyValue("users").compareAndSet(b("a"), a.version(), b("3"), null))
          .as("a version read before the migration still matches; the next is above it")
          .isGreaterThan(a.version());
      assertThat(old.versionsReserved())
          .as("the old backend reserved versions far above the highest it stored")
          .isGreaterThan(old.other().version() + 1);
      assertThat(b.keyValue("users").put(b("fresh"), b("f")))
          .as("every new version is above every version the old backend handed out")
          .isGreaterThanOrEqualTo(old.versionsReserved());
      assertThat(b.log("events").append(b("e10"))).isEqualTo(10);
      assertThat(b.keyValue("users").purgeExpired())
          .as("'gone', through the built index")
          .isEqualTo(1);
    }
    try (PersistenceRegistry r = open(null)) {
      StorageBackend b = r.backend("main"); // reopened: nothing migrated again
      assertThat(b.keyValue("users").get(b("a"))).isEqualTo(b("3"));
      assertThat(b.log("events").nextOffset()).isEqualTo(11);
      assertThat(b.verify(Progress.NONE).problems()).isEmpty();
    }
  }

  @Test
  void encryptedValuesPayloadsAndChunksOpenAfterTheMigration() throws Exception {
    Expected old = fixture("v4-encrypted.db");
    FixedKeyEncryption encryption = new FixedKeyEncryption();
    try (PersistenceRegistry r = open(encryption)) {
      findEverything(old, r.backend("main"));
      assertThat(encryption.seals())
          .as("the migration copies sealed bytes; it seals nothing again")
          .isZero();
    }
  }

  @Test
  void aRowThatFailedItsChecksumKeepsFailingAndTheRestMigrates() throws Exception {
    fixture("v4-plain.db");
    sql("UPDATE kv SET value = X'00' WHERE ns = 'users' AND key = CAST('b' AS BLOB)");
    try (PersistenceRegistry r = open(null)) {
      KeyValueStore kv = r.backend("main").keyValue("users");
      assertThatThrownBy(() -> kv.get(b("b"))).isInstanceOf(StoreCorruptedException.class);
      assertThat(kv.get(b("a"))).isEqualTo(b("2"));
      assertThat(r.backend("main").verify(Progress.NONE).problems())
          .singleElement()
          .asString()
          .contains("users");
    }
  }

  @Test
  void aTailTheCatalogRecordedButTheLogLostIsAGapAfterTheMigration() throws Exception {
    fixture("v4-plain.db");
    sql("DELETE FROM log_record WHERE log = 'events' AND record_offset >= 8");
    try (PersistenceRegistry r = open(null)) {
      StorageBackend b = r.backend("main");
      assertThat(b.log("events").nextOffset()).isEqualTo(10);
      assertThat(b.verify(Progress.NONE).problems())
          .singleElement()
          .asString()
          .contains("events")
          .contains("8 to 9");
    }
  }

  /**
   * Damage no record of the base can carry is named in the log and left out, the rest migrates: a
   * log row at a negative offset (no Cairn writes one), a snapshot set with fewer snapshots than
   * its catalog count (a snapshot row lost below SQL, where no trigger kept the catalog in step).
   */
  @Test
  void damageNoRecordCanCarryIsLoggedAndTheRestMigrates() throws Exception {
    Expected old = fixture("v4-plain.db");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cairn.db"));
        Statement st = c.createStatement()) {
      List<String> triggers = new ArrayList<>();
      try (var rs = st.executeQuery("SELECT name FROM sqlite_schema WHERE type = 'trigger'")) {
        while (rs.next()) {
          triggers.add(rs.getString(1));
        }
      }
      for (String t : triggers) {
        st.execute("DROP TRIGGER " + t);
      }
      st.executeUpdate(
          "INSERT INTO log_record (log, record_offset, payload, crc, appended_at)"
              + " VALUES ('events', -1, x'00', 0, -1)");
      assertThat(st.executeUpdate("DELETE FROM snapshot WHERE store = 'snaps' AND version = 1"))
          .isEqualTo(1);
    }
    String log = Stderr.of(() -> open(null).close());
    assertThat(log)
        .contains("log:events has a row at the negative offset -1")
        .contains("snapshot set 'snaps' has 1 snapshots but the catalog recorded 2");
    try (PersistenceRegistry r = open(null)) {
      StorageBackend b = r.backend("main");
      assertThat(b.log("events").read(0, 100)).isEqualTo(old.records());
      assertThat(b.snapshots("snaps").list()).containsExactly(old.snapshots().get(1));
      assertThat(b.keyValue("users").getEntry(b("a"))).hasValue(old.users().get(0));
    }
  }

  @Test
  void aMigrationThatFailsLeavesTheOldFileAsItWas() throws Exception {
    Expected old = fixture("v4-plain.db");
    // the migration copies everything, then fails dropping the old tables at its very end
    sql("DROP TABLE kv_ttl");
    assertThatThrownBy(() -> open(null))
        .isInstanceOf(PersistenceException.class)
        .hasMessageContaining("kv_ttl");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cairn.db"));
        Statement st = c.createStatement()) {
      try (var rs = st.executeQuery("PRAGMA user_version")) {
        assertThat(rs.getLong(1)).isEqualTo(4);
      }
      try (var rs = st.executeQuery("SELECT count(*) FROM sqlite_schema WHERE name = 'rec'")) {
        assertThat(rs.getLong(1)).as("no rec table left").isZero();
      }
      try (var rs =
          st.executeQuery(
              "SELECT (SELECT count(*) FROM kv), (SELECT count(*) FROM log_record),"
                  + " (SELECT count(*) FROM snapshot), (SELECT count(*) FROM meta)")) {
        assertThat(List.of(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4)))
            .as("every v4 row still there")
            .containsExactly(6L, 6L, 2L, 1L);
      }
      st.executeUpdate(
          "CREATE TABLE kv_ttl (expires_at INTEGER NOT NULL, ns TEXT NOT NULL,"
              + " key BLOB NOT NULL, PRIMARY KEY (expires_at, ns, key)) WITHOUT ROWID");
    }
    try (PersistenceRegistry r = open(null)) {
      findEverything(old, r.backend("main")); // and the next attempt migrates it whole
    }
  }

  private void sql(String statement) throws SQLException {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cairn.db"));
        Statement st = c.createStatement()) {
      st.executeUpdate(statement);
    }
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
