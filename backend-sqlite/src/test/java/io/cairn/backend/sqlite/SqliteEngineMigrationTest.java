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
import io.cairn.tck.TestEncryption;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Schema v4 (written here by the SQLite backend as it is on main, type {@code sqlite}) opened by
 * the engine on the base (type {@code sqlite-base}): the v4 -> v5 migration in {@link EngineSchema}
 * finds every entry (value, version, expiry), every log (first and next offset, records, append
 * times), every snapshot (list, data, creation time), encrypted or not, and writes go on from
 * there; a migration that fails leaves the v4 file as it was.
 */
class SqliteEngineMigrationTest {
  @TempDir Path dir;

  private final TestBackends.ManualClock clock = new TestBackends.ManualClock();

  private PersistenceRegistry open(String type, Encryption encryption) {
    String conf =
        "cairn.backends.main { type = "
            + type
            + ", data-dir = "
            + ConfigUtil.quoteString(dir.toString())
            + ", durability = normal, open-check = header,"
            + " sweeper-interval = 0s }";
    PersistenceRegistry.Builder b = PersistenceRegistry.builder().clock(clock);
    if (encryption != null) {
      b.encryption(name -> encryption);
    }
    return b.open(ConfigFactory.parseString(conf));
  }

  /** What the old backend wrote, as read back through the public API. */
  private record Seen(
      List<Entry> entries,
      long ttlExpiry,
      long first,
      long next,
      List<LogRecord> records,
      List<SnapshotInfo> snapshots,
      List<byte[]> snapshotData) {}

  private Seen writeWithTheOldBackend(Encryption encryption) throws Exception {
    try (PersistenceRegistry r = open("sqlite", encryption)) {
      StorageBackend b = r.backend("main");
      KeyValueStore kv = b.keyValue("users");
      kv.put(b("a"), b("1"));
      kv.put(b("a"), b("2")); // a version above the first
      kv.put(b("b"), b("x"));
      kv.put(b("ttl"), b("soon"), Duration.ofMinutes(5));
      kv.put(b("gone"), b("short"), Duration.ofMillis(10));
      kv.put(new byte[] {0, (byte) 0xFF}, b("binary key"));
      b.keyValue("other").put(b("a"), b("other ns"));
      LogStore log = b.log("events");
      for (int i = 0; i < 10; i++) {
        log.append(b("e" + i));
        clock.advance(3);
      }
      log.truncateBefore(4);
      b.log("emptied").append(b("only"));
      b.log("emptied").truncateBefore(1);
      b.snapshots("snaps").save(1, b("first snapshot"));
      clock.advance(100);
      byte[] big = new byte[3 * 1024 * 1024 + 17]; // four chunks of 1 MiB
      for (int i = 0; i < big.length; i++) {
        big[i] = (byte) (i * 31 + 7);
      }
      b.snapshots("snaps").save(2, big);
      clock.advance(20); // "gone" has expired; "ttl" has not
      List<Entry> entries = new ArrayList<>();
      for (byte[] k : List.of(b("a"), b("b"), b("ttl"), new byte[] {0, (byte) 0xFF})) {
        entries.add(kv.getEntry(k).orElseThrow());
      }
      entries.add(b.keyValue("other").getEntry(b("a")).orElseThrow());
      List<byte[]> data = new ArrayList<>();
      for (SnapshotInfo i : b.snapshots("snaps").list()) {
        try (InputStream in = b.snapshots("snaps").load(i.version())) {
          data.add(in.readAllBytes());
        }
      }
      return new Seen(
          entries,
          kv.getEntry(b("ttl")).orElseThrow().expiresAtMillis(),
          log.firstOffset(),
          log.nextOffset(),
          log.read(0, 100),
          b.snapshots("snaps").list(),
          data);
    }
  }

  private void findEverything(Seen old, StorageBackend b) throws Exception {
    KeyValueStore kv = b.keyValue("users");
    for (Entry e : old.entries().subList(0, 4)) {
      assertThat(kv.getEntry(e.key())).as(new String(e.key(), StandardCharsets.UTF_8)).hasValue(e);
    }
    assertThat(b.keyValue("other").getEntry(b("a"))).hasValue(old.entries().get(4));
    assertThat(kv.get(b("gone"))).as("expired before the migration").isNull();
    assertThat(kv.getEntry(b("ttl")).orElseThrow().expiresAtMillis()).isEqualTo(old.ttlExpiry());
    LogStore log = b.log("events");
    assertThat(log.firstOffset()).isEqualTo(old.first()).isEqualTo(4);
    assertThat(log.nextOffset()).isEqualTo(old.next()).isEqualTo(10);
    List<LogRecord> read = log.read(0, 100);
    assertThat(read).isEqualTo(old.records());
    assertThat(read)
        .extracting(LogRecord::appendedAtMillis)
        .as("append times")
        .isEqualTo(old.records().stream().map(LogRecord::appendedAtMillis).toList());
    assertThat(b.log("emptied").firstOffset()).isEqualTo(1);
    assertThat(b.log("emptied").nextOffset()).isEqualTo(1);
    assertThat(b.snapshots("snaps").list()).isEqualTo(old.snapshots());
    for (int i = 0; i < old.snapshots().size(); i++) {
      try (InputStream in = b.snapshots("snaps").load(old.snapshots().get(i).version())) {
        assertThat(in.readAllBytes()).isEqualTo(old.snapshotData().get(i));
      }
    }
    assertThat(b.verify(Progress.NONE).problems()).isEmpty();
  }

  @Test
  void aFileOfTheSqliteBackendIsFoundWholeOnTheEngineAndWritesGoOn() throws Exception {
    Seen old = writeWithTheOldBackend(null);
    try (PersistenceRegistry r = open(SqliteBaseProvider.TYPE, null)) {
      StorageBackend b = r.backend("main");
      assertThat(b.stats().properties()).containsEntry("schema_version", "5");
      findEverything(old, b);
      Entry a = old.entries().get(0);
      assertThat(b.keyValue("users").compareAndSet(b("a"), a.version(), b("3"), null))
          .as("a version read before the migration still matches; the next is one above")
          .isEqualTo(a.version() + 1);
      assertThat(b.log("events").append(b("e10"))).isEqualTo(10);
      assertThat(b.keyValue("users").purgeExpired())
          .as("'gone', through the built index")
          .isEqualTo(1);
    }
    try (PersistenceRegistry r = open(SqliteBaseProvider.TYPE, null)) {
      StorageBackend b = r.backend("main"); // reopened: nothing migrated again
      assertThat(b.keyValue("users").get(b("a"))).isEqualTo(b("3"));
      assertThat(b.log("events").nextOffset()).isEqualTo(11);
      assertThat(b.verify(Progress.NONE).problems()).isEmpty();
    }
  }

  @Test
  void encryptedValuesPayloadsAndChunksOpenAfterTheMigration() throws Exception {
    TestEncryption encryption = new TestEncryption();
    Seen old = writeWithTheOldBackend(encryption);
    long sealsBefore = encryption.seals();
    try (PersistenceRegistry r = open(SqliteBaseProvider.TYPE, encryption)) {
      findEverything(old, r.backend("main"));
      assertThat(encryption.seals())
          .as("the migration copies sealed bytes; it seals nothing again")
          .isEqualTo(sealsBefore);
    }
  }

  @Test
  void aRowThatFailedItsChecksumKeepsFailingAndTheRestMigrates() throws Exception {
    writeWithTheOldBackend(null);
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cairn.db"));
        Statement st = c.createStatement()) {
      st.executeUpdate(
          "UPDATE kv SET value = X'00' WHERE ns = 'users' AND key = CAST('b' AS BLOB)");
    }
    try (PersistenceRegistry r = open(SqliteBaseProvider.TYPE, null)) {
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
    writeWithTheOldBackend(null);
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cairn.db"));
        Statement st = c.createStatement()) {
      st.executeUpdate("DELETE FROM log_record WHERE log = 'events' AND record_offset >= 8");
    }
    try (PersistenceRegistry r = open(SqliteBaseProvider.TYPE, null)) {
      StorageBackend b = r.backend("main");
      assertThat(b.log("events").nextOffset()).isEqualTo(10);
      assertThat(b.verify(Progress.NONE).problems())
          .singleElement()
          .asString()
          .contains("events")
          .contains("8 to 9");
    }
  }

  @Test
  void aMigrationThatFailsLeavesTheOldFileAsItWas() throws Exception {
    Seen old = writeWithTheOldBackend(null);
    Path db = dir.resolve("cairn.db");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement st = c.createStatement()) {
      // the migration copies everything, then fails dropping the old tables at its very end
      st.executeUpdate("DROP TABLE kv_ttl");
    }
    assertThatThrownBy(() -> open(SqliteBaseProvider.TYPE, null))
        .isInstanceOf(PersistenceException.class)
        .hasMessageContaining("kv_ttl");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement st = c.createStatement()) {
      try (var rs = st.executeQuery("PRAGMA user_version")) {
        assertThat(rs.getLong(1)).isEqualTo(4);
      }
      try (var rs = st.executeQuery("SELECT count(*) FROM sqlite_schema WHERE name = 'rec'")) {
        assertThat(rs.getLong(1)).as("no rec table left").isZero();
      }
      st.executeUpdate(
          "CREATE TABLE kv_ttl (expires_at INTEGER NOT NULL, ns TEXT NOT NULL,"
              + " key BLOB NOT NULL, PRIMARY KEY (expires_at, ns, key)) WITHOUT ROWID");
    }
    try (PersistenceRegistry r = open("sqlite", null)) {
      StorageBackend b = r.backend("main");
      assertThat(b.keyValue("users").getEntry(b("a"))).isEqualTo(Optional.of(old.entries().get(0)));
      assertThat(b.log("events").read(0, 100)).isEqualTo(old.records());
      assertThat(b.snapshots("snaps").list()).isEqualTo(old.snapshots());
    }
    try (PersistenceRegistry r = open(SqliteBaseProvider.TYPE, null)) {
      findEverything(old, r.backend("main")); // and the next attempt migrates it whole
    }
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
