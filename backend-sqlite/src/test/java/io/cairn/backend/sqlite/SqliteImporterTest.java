package io.cairn.backend.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.Durability;
import io.cairn.persistence.Entry;
import io.cairn.persistence.Importer;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.VerifyReport;
import io.cairn.tck.TestEncryption;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SQLite's {@link Importer} beyond the TCK's {@code Import} suite: rows sealed and checksummed as
 * the normal path writes them (an encrypted backend reads them back and verifies healthy after a
 * reopen), refusal of non-empty stores with nothing written, the version sequence and log offsets
 * after an import, and what a session leaves behind for a process that dies right after finish().
 */
class SqliteImporterTest {
  private static final long NOW = 1_700_000_000_000L;

  @TempDir Path dir;

  private final TestBackends.ManualClock clock = new TestBackends.ManualClock();

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private PersistenceRegistry openEncrypted(Path where, TestEncryption encryption) {
    String conf =
        "cairn.backends.main { type = "
            + TestBackends.TYPE
            + ", durability = normal, snapshot-chunk-size = 4KiB,"
            + " data-dir = \""
            + where.toString().replace("\\", "\\\\")
            + "\" }";
    return PersistenceRegistry.builder()
        .clock(clock)
        .encryption(name -> encryption)
        .open(ConfigFactory.parseString(conf));
  }

  private static Importer importer(StorageBackend b) {
    return b.extension(Importer.class).orElseThrow();
  }

  /**
   * Imports one of each store kind: kv with versions and expiry, a log from offset 10, a snapshot.
   */
  private static byte[] importSample(StorageBackend b) {
    byte[] big = new byte[20_000]; // five chunks of 4 KiB
    new Random(13).nextBytes(big);
    try (Importer.Session s = importer(b).begin()) {
      s.putEntries(
          "users",
          List.of(
              new Entry(b("alice"), b("secret-alice"), 1_000_000, 0),
              new Entry(b("bob"), b("secret-bob"), 17, NOW + 60_000),
              new Entry(b("carol"), b("secret-carol"), 5, NOW - 1)));
      s.appendRecords(
          "events",
          List.of(
              new LogRecord(10, b("secret-r10"), LogRecord.NOT_RECORDED),
              new LogRecord(11, b("secret-r11"), 1_111)));
      s.appendRecords("events", List.of(new LogRecord(12, b("secret-r12"), 1_212)));
      s.saveSnapshot("state", 7, 4_242, new ByteArrayInputStream(big));
      s.finish();
    }
    return big;
  }

  /** Checks what {@link #importSample} wrote, then that store-API writes continue above it. */
  private static void checkSample(StorageBackend b, byte[] big) throws Exception {
    KeyValueStore kv = b.keyValue("users");
    Entry alice = kv.getEntry(b("alice")).orElseThrow();
    assertThat(alice.value()).isEqualTo(b("secret-alice"));
    assertThat(alice.version()).isEqualTo(1_000_000);
    Entry bob = kv.getEntry(b("bob")).orElseThrow();
    assertThat(bob.version()).isEqualTo(17);
    assertThat(bob.expiresAtMillis()).isEqualTo(NOW + 60_000);
    assertThat(kv.get(b("carol"))).as("imported already expired").isNull();
    LogStore log = b.log("events");
    assertThat(log.firstOffset()).isEqualTo(10);
    assertThat(log.nextOffset()).isEqualTo(13);
    List<LogRecord> records = log.read(0, 10);
    assertThat(records).extracting(LogRecord::offset).containsExactly(10L, 11L, 12L);
    assertThat(records)
        .extracting(LogRecord::appendedAtMillis)
        .containsExactly(LogRecord.NOT_RECORDED, 1_111L, 1_212L);
    assertThat(records.get(2).payload()).isEqualTo(b("secret-r12"));
    var snapshots = b.snapshots("state");
    assertThat(snapshots.list())
        .singleElement()
        .satisfies(
            i -> {
              assertThat(i.version()).isEqualTo(7);
              assertThat(i.createdAtMillis()).isEqualTo(4_242);
              assertThat(i.sizeBytes()).isEqualTo(big.length);
            });
    try (InputStream in = snapshots.load(7)) {
      assertThat(in.readAllBytes()).isEqualTo(big);
    }
    VerifyReport report = b.verify(Progress.NONE);
    assertThat(report.problems()).isEmpty();
    assertThat(report.healthy()).isTrue();
  }

  @Test
  void importIntoAnEncryptedBackendIsSealedAndReadsBackAndVerifiesHealthyAfterReopen()
      throws Exception {
    TestEncryption encryption = new TestEncryption();
    byte[] big;
    try (PersistenceRegistry r = openEncrypted(dir, encryption)) {
      big = importSample(r.backend("main"));
    }
    assertThat(encryption.seals()).as("3 values, 3 payloads, 5 chunks sealed").isEqualTo(11);
    assertStoredSealed(dir.resolve(SqliteDatabase.DB_FILE));
    try (PersistenceRegistry r = openEncrypted(dir, encryption)) {
      StorageBackend b = r.backend("main");
      checkSample(b, big);
      assertThat(b.keyValue("users").put(b("alice"), b("new"))).isGreaterThan(1_000_000);
      assertThat(b.keyValue("other").put(b("x"), b("y"))).isGreaterThan(1_000_000);
      assertThat(b.log("events").append(b("next"))).isEqualTo(13);
      assertThat(b.verify(Progress.NONE).problems()).isEmpty();
    }
  }

  /** No stored value, payload or chunk holds its plaintext: all went through the sealer. */
  private static void assertStoredSealed(Path db) throws Exception {
    List<byte[]> stored = new ArrayList<>();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db)) {
      for (String sql :
          new String[] {
            // the records of the user's stores (EngineSchema): entries, log records, chunks
            "SELECT value FROM rec WHERE kind = 0 AND substr(store, 1, 1) <> '_'",
            "SELECT value FROM rec WHERE kind = 1 AND length(key) = 8",
            "SELECT value FROM rec WHERE kind = 2 AND substr(key, 1, 1) = x'43'"
          }) {
        try (PreparedStatement ps = c.prepareStatement(sql);
            ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            stored.add(rs.getBytes(1));
          }
        }
      }
    }
    assertThat(stored).hasSize(11);
    for (byte[] s : stored) {
      assertThat(new String(s, StandardCharsets.ISO_8859_1)).doesNotContain("secret-");
    }
  }

  @Test
  void whatFinishReturnedSurvivesAProcessThatDiesRightAfter() throws Exception {
    // The files as a process killed right after finish() leaves them (no close, no checkpoint:
    // the import is in the WAL), copied while the backend is open and idle.
    Path copy = dir.resolve("crashed");
    TestEncryption encryption = new TestEncryption();
    byte[] big;
    try (PersistenceRegistry r = openEncrypted(dir.resolve("live"), encryption)) {
      big = importSample(r.backend("main"));
      Files.createDirectories(copy);
      for (String f : new String[] {"cairn.db", "cairn.db-wal", "cairn.db-mark"}) {
        Path from = dir.resolve("live").resolve(f);
        if (Files.exists(from)) {
          Files.copy(from, copy.resolve(f));
        }
      }
    }
    assertThat(Files.size(copy.resolve("cairn.db-wal")))
        .as("the import is in the WAL")
        .isPositive();
    try (PersistenceRegistry r = openEncrypted(copy, encryption)) {
      checkSample(r.backend("main"), big);
    }
  }

  @Test
  void nonEmptyStoresAreRefusedNamingBackendAndStoreAndNothingIsWritten() {
    try (PersistenceRegistry r = TestBackends.open(dir, "durability = normal", clock)) {
      StorageBackend b = r.backend("main");
      long before = b.keyValue("users").put(b("k"), b("v"));
      LogStore log = b.log("events");
      log.appendAll(List.of(b("a"), b("b")));
      log.truncateBefore(2); // no record left, but offsets 0 and 1 were used
      b.snapshots("state").save(1, new ByteArrayInputStream(b("s")));
      try (Importer.Session s = importer(b).begin()) {
        assertThatThrownBy(
                () ->
                    s.putEntries("users", List.of(new Entry(b("imported"), b("x"), 5_000_000, 0))))
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("kv:users")
            .hasMessageContaining(b.toString())
            .hasMessageContaining("not empty")
            .hasMessageContaining("nothing was written");
        assertThatThrownBy(() -> s.appendRecords("events", List.of(new LogRecord(2, b("x"), 1))))
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("log:events")
            .hasMessageContaining(b.toString());
        assertThatThrownBy(() -> s.saveSnapshot("state", 2, 1, new ByteArrayInputStream(b("x"))))
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("snapshot:state")
            .hasMessageContaining(b.toString());
        // the refused session goes on with empty stores
        s.putEntries("fresh", List.of(new Entry(b("f"), b("v"), 3, 0)));
        s.finish();
      }
      assertThat(b.keyValue("users").get(b("imported"))).isNull();
      assertThat(b.keyValue("users").approximateCount()).isEqualTo(1);
      long after = b.keyValue("users").put(b("k2"), b("v"));
      assertThat(after)
          .as("the refused import did not raise the version sequence")
          .isGreaterThan(before)
          .isLessThan(5_000_000);
      assertThat(log.nextOffset()).isEqualTo(2);
      assertThat(log.read(0, 10)).isEmpty();
      assertThat(b.snapshots("state").list())
          .singleElement()
          .satisfies(
              i -> {
                assertThat(i.version()).isEqualTo(1);
              });
      assertThat(b.keyValue("fresh").getEntry(b("f")).orElseThrow().version()).isEqualTo(3);
      assertThat(b.verify(Progress.NONE).problems()).isEmpty();
    }
  }

  @Test
  void laterWritesGetVersionsAboveTheImportedOnesAlsoWhenTheWriterHadVersionsCached() {
    try (PersistenceRegistry r = TestBackends.open(dir, "durability = full", clock)) {
      StorageBackend b = r.backend("main");
      long first = b.keyValue("before").put(b("k"), b("v")); // the writer's sequence is in memory
      assertThat(first).isLessThan(1_000);
      try (Importer.Session s = importer(b).begin()) {
        s.putEntries("imported", List.of(new Entry(b("k"), b("v"), 9_000_000, 0)));
        s.finish();
      }
      assertThat(b.keyValue("before").put(b("k"), b("v2"))).isGreaterThan(9_000_000);
      assertThat(b.keyValue("imported").put(b("k"), b("v2"))).isGreaterThan(9_000_000);
    }
    try (PersistenceRegistry r = TestBackends.open(dir, "durability = full", clock)) {
      StorageBackend b = r.backend("main");
      assertThat(b.keyValue("other").put(b("k"), b("v"))).isGreaterThan(9_000_000);
      assertThat(b.verify(Progress.NONE).problems()).isEmpty();
    }
  }

  @Test
  void appendsContinueAfterImportedRecordsAndVerifyAcceptsTheStartOffset() {
    try (PersistenceRegistry r = TestBackends.open(dir, "durability = none", clock)) {
      StorageBackend b = r.backend("main");
      LogStore log = b.log("events");
      // an empty log whose next offset the writer has read and cached (0)
      assertThat(log.truncateBefore(0)).isZero();
      try (Importer.Session s = importer(b).begin()) {
        s.appendRecords("events", List.of(new LogRecord(40, b("r40"), 5)));
        s.appendRecords("events", List.of(new LogRecord(41, b("r41"), 6)));
        s.finish();
      }
      assertThat(log.append(b("r42"))).isEqualTo(42);
      assertThat(log.appendAll(List.of(b("r43"), b("r44")))).isEqualTo(43);
      assertThat(log.firstOffset()).isEqualTo(40);
      assertThat(log.read(0, 100))
          .extracting(LogRecord::offset)
          .containsExactly(40L, 41L, 42L, 43L, 44L);
      assertThat(b.verify(Progress.NONE).problems()).isEmpty();
    }
  }

  @Test
  void badArgumentsAreRefusedNamingTheStoreBeforeAnythingIsWritten() {
    try (PersistenceRegistry r = TestBackends.open(dir, "durability = normal", clock)) {
      StorageBackend b = r.backend("main");
      try (Importer.Session s = importer(b).begin()) {
        assertThatThrownBy(
                () ->
                    s.putEntries(
                        "users",
                        List.of(
                            new Entry(b("ok"), b("v"), 4, 0), new Entry(b("bad"), b("v"), 0, 0))))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("kv:users")
            .hasMessageContaining("version 0");
        assertThatThrownBy(
                () ->
                    s.putEntries("users", List.of(new Entry(b("max"), b("v"), Long.MAX_VALUE, 0))))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("kv:users");
        assertThatThrownBy(() -> s.putEntries("bad name!", List.of()))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("bad name!");
        assertThatThrownBy(
                () ->
                    s.appendRecords(
                        "events",
                        List.of(new LogRecord(3, b("a"), 1), new LogRecord(5, b("b"), 1))))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("log:events")
            .hasMessageContaining("contiguous");
        assertThatThrownBy(() -> s.saveSnapshot("state", 1, -5, new ByteArrayInputStream(b("x"))))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("snapshot:state");
        assertThatThrownBy(() -> s.saveSnapshot("state", -1, 1, new ByteArrayInputStream(b("x"))))
            .isInstanceOf(IllegalArgumentException.class);
        // nothing of the refused calls was written, so the stores still count as empty
        s.putEntries("users", List.of(new Entry(b("ok"), b("v"), 4, 0)));
        s.appendRecords("events", List.of(new LogRecord(5, b("b"), 1)));
        s.finish();
        assertThatThrownBy(() -> s.putEntries("users", List.of()))
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("ended");
      }
      assertThat(b.keyValue("users").approximateCount()).isEqualTo(1);
      assertThat(b.log("events").firstOffset()).isEqualTo(5);
      assertThat(b.snapshots("state").list()).isEmpty();
    }
  }

  @Test
  void importCallsCommitAtSynchronousFullAndRestoreTheConfiguredLevel() {
    try (TestBackends.Direct b = TestBackends.direct(dir, "{}", Durability.NORMAL)) {
      assertThat(synchronousInImport(b)).as("an import transaction at NORMAL").isEqualTo(2);
      try (Importer.Session s = importer(b.backend()).begin()) {
        s.putEntries("users", List.of(new Entry(b("k"), b("v"), 2, 0)));
        s.appendRecords("events", List.of(new LogRecord(0, b("r"), 1)));
        s.saveSnapshot("state", 1, 1, new ByteArrayInputStream(b("s")));
        s.finish();
      }
      long level = b.writer().exclusive("read", ws -> ws.conn().queryLong("PRAGMA synchronous"));
      assertThat(level).as("NORMAL again after the FULL import transactions").isEqualTo(1);
    }
  }

  /**
   * The {@code PRAGMA synchronous} level inside a transaction the engine runs for a batch asked at
   * {@code full} (what the base's importer asks for every batch): {@link SqliteEngine#write} runs
   * it as {@code ownTransaction(fsync = true)}.
   */
  private static long synchronousInImport(TestBackends.Direct b) {
    return b.writer()
        .ownTransaction("probe", "test", true, s -> s.conn().queryLong("PRAGMA synchronous"));
  }
}
