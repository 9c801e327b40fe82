package io.cairn.backend.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.encryption.Algorithm;
import io.cairn.encryption.KeySources;
import io.cairn.encryption.Keysets;
import io.cairn.persistence.Entry;
import io.cairn.persistence.Importer;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.SnapshotInfo;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.VerifyReport;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PostgreSQL's {@link Importer} beyond the TCK's {@code Import} suite: rows imported into an
 * encrypted schema are sealed like the normal write path's (nothing in clear on the server; a
 * second instance reads them and {@code verify} finds them healthy), later writes of any instance
 * continue above the imported versions and offsets, and a refused call (non-empty store, bad
 * argument, another writer in between) names the backend and the store and writes nothing.
 */
class PostgresImporterTest {
  private static final String SCHEMA = "imp_test";
  private static final String SMALL_CHUNKS = "snapshot-chunk-size = 4KiB, sweeper-interval = 0s";

  @TempDir Path dir;

  @BeforeEach
  void freshSchema() {
    TestPostgres.shared().dropSchema(SCHEMA);
  }

  private PersistenceRegistry openEncrypted() {
    return PgTests.open(
        SCHEMA,
        "normal",
        SMALL_CHUNKS
            + "\nencryption { key-source = keyset-file, keyset-file = \""
            + dir.resolve("keyset.json")
            + "\" }",
        null);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static Importer importer(StorageBackend b) {
    return b.extension(Importer.class).orElseThrow();
  }

  @Test
  void anImportIntoAnEncryptedSchemaIsSealedReadByAnotherInstanceAndVerifiesHealthy()
      throws Exception {
    KeySources.keysetFile(dir.resolve("keyset.json"))
        .store(Keysets.generate(Algorithm.XAES_256_GCM));
    String marker = "IMPORT-SECRET-" + UUID.randomUUID();
    long now = System.currentTimeMillis();
    List<Entry> entries = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      long expiry = i % 3 == 0 ? now + 3_600_000 : 0;
      entries.add(new Entry(bytes("k" + i), bytes(marker + "-value-" + i), 1_000 + 7L * i, expiry));
    }
    entries.add(new Entry(bytes("expired"), bytes(marker + "-expired"), 5, now - 1));
    long highest = 1_000 + 7L * 299;
    byte[] snapshot = new byte[20_000]; // five 4 KiB chunks
    new Random(17).nextBytes(snapshot);
    System.arraycopy(bytes(marker), 0, snapshot, 100, marker.length());

    try (PersistenceRegistry first = openEncrypted()) {
      StorageBackend a = first.backend("pg");
      SnapshotInfo info;
      try (Importer.Session s = importer(a).begin()) {
        s.putEntries("users", entries.subList(0, 200));
        s.putEntries("users", entries.subList(200, entries.size()));
        List<LogRecord> records = new ArrayList<>();
        for (int i = 10; i < 110; i++) {
          long at = i == 10 ? LogRecord.NOT_RECORDED : 50_000L + i;
          records.add(new LogRecord(i, bytes(marker + "-record-" + i), at));
        }
        s.appendRecords("events", records.subList(0, 60));
        s.appendRecords("events", records.subList(60, 100));
        info = s.saveSnapshot("state", 5, 777_000, new ByteArrayInputStream(snapshot));
        s.finish();
      }
      assertThat(info.version()).isEqualTo(5);
      assertThat(info.createdAtMillis()).isEqualTo(777_000);
      assertThat(info.sizeBytes()).isEqualTo(snapshot.length);
      assertThat(rowsHolding(bytes(marker)))
          .as("rows of kv, log_record and snapshot_chunk holding the plaintext")
          .isZero();
      // this instance's cached version block lies below the import: it must not be used
      assertThat(a.keyValue("other").put(bytes("x"), bytes("y"))).isGreaterThan(highest);

      try (PersistenceRegistry second = openEncrypted()) {
        StorageBackend b = second.backend("pg");
        KeyValueStore users = b.keyValue("users");
        for (int i = 0; i < 300; i++) {
          Entry e = users.getEntry(bytes("k" + i)).orElseThrow();
          assertThat(e.value()).isEqualTo(bytes(marker + "-value-" + i));
          assertThat(e.version()).isEqualTo(1_000 + 7L * i);
          assertThat(e.expiresAtMillis()).isEqualTo(i % 3 == 0 ? now + 3_600_000 : 0);
        }
        assertThat(users.get(bytes("expired"))).as("imported already expired").isNull();
        assertThat(users.approximateCount()).isEqualTo(301);
        var events = b.log("events");
        assertThat(events.firstOffset()).isEqualTo(10);
        assertThat(events.nextOffset()).isEqualTo(110);
        List<LogRecord> read = events.read(0, 200);
        assertThat(read).hasSize(100);
        for (LogRecord r : read) {
          assertThat(r.payload()).isEqualTo(bytes(marker + "-record-" + r.offset()));
          assertThat(r.appendedAtMillis())
              .isEqualTo(r.offset() == 10 ? LogRecord.NOT_RECORDED : 50_000L + r.offset());
        }
        assertThat(b.snapshots("state").list()).containsExactly(info);
        try (InputStream in = b.snapshots("state").load(5)) {
          assertThat(in.readAllBytes()).isEqualTo(snapshot);
        }
        VerifyReport report = b.verify(Progress.NONE);
        assertThat(report.problems()).isEmpty();
        assertThat(report.checked()).isGreaterThanOrEqualTo(301 + 100);

        assertThat(users.put(bytes("k0"), bytes("new"))).isGreaterThan(highest);
        assertThat(b.keyValue("fresh").put(bytes("n"), bytes("v"))).isGreaterThan(highest);
        assertThat(events.append(bytes("after"))).isEqualTo(110);
        assertThat(b.verify(Progress.NONE).problems()).isEmpty();
      }
    }
  }

  @Test
  void nonEmptyStoresAreRefusedNamingBackendAndStoreAndNothingIsWritten() throws Exception {
    try (PersistenceRegistry r = PgTests.open(SCHEMA, "normal", SMALL_CHUNKS, null)) {
      StorageBackend b = r.backend("pg");
      b.keyValue("full").put(bytes("k"), bytes("v"));
      b.log("full-log").append(bytes("r"));
      b.snapshots("full-snap").save(1, bytes("s"));
      long sequence = sequenceValue();
      String backend = "postgres backend 'pg' at jdbc:postgresql:";
      try (Importer.Session s = importer(b).begin()) {
        assertThatThrownBy(
                () -> s.putEntries("full", List.of(new Entry(bytes("x"), bytes("y"), 99_999, 0))))
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("kv:full of " + backend)
            .hasMessageContaining("schema " + SCHEMA)
            .hasMessageContaining("not empty")
            .hasMessageContaining("nothing was written");
        assertThatThrownBy(() -> s.putEntries("full", List.of()))
            .as("an empty first call checks the store too")
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("kv:full of " + backend);
        assertThatThrownBy(
                () -> s.appendRecords("full-log", List.of(new LogRecord(1, bytes("x"), 1))))
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("log:full-log of " + backend)
            .hasMessageContaining("schema " + SCHEMA);
        assertThatThrownBy(
                () -> s.saveSnapshot("full-snap", 2, 1, new ByteArrayInputStream(bytes("x"))))
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("snapshot:full-snap of " + backend)
            .hasMessageContaining("schema " + SCHEMA);
        assertThat(sequenceValue()).as("kv_version after the refused calls").isEqualTo(sequence);
        // the session goes on with empty stores
        s.putEntries("empty", List.of(new Entry(bytes("e"), bytes("v"), 3, 0)));
        s.finish();
      }
      assertThat(count("SELECT count(*) FROM kv WHERE ns = 'full'")).isEqualTo(1);
      assertThat(count("SELECT count(*) FROM log_record WHERE log = 'full-log'")).isEqualTo(1);
      assertThat(count("SELECT next_offset FROM log_head WHERE log = 'full-log'")).isEqualTo(1);
      assertThat(count("SELECT count(*) FROM snapshot WHERE store = 'full-snap'")).isEqualTo(1);
      assertThat(count("SELECT count(*) FROM snapshot_chunk")).isEqualTo(1);
      assertThat(b.keyValue("full").get(bytes("x"))).isNull();
      assertThat(b.keyValue("empty").getEntry(bytes("e")).orElseThrow().version()).isEqualTo(3);
      assertThat(b.verify(Progress.NONE).problems()).isEmpty();
    }
  }

  @Test
  void badArgumentsAndInterveningWritersFailTheCallNamingTheStoreAndWriteNothingOfIt() {
    try (PersistenceRegistry r = PgTests.open(SCHEMA, "none", SMALL_CHUNKS, null)) {
      StorageBackend b = r.backend("pg");
      try (Importer.Session s = importer(b).begin()) {
        Entry good = new Entry(bytes("a"), bytes("v"), 10, 0);
        assertThatThrownBy(
                () -> s.putEntries("ns", List.of(good, new Entry(bytes("b"), bytes("v"), 0, 0))))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("kv:ns of postgres backend 'pg'")
            .hasMessageContaining("entry 1");
        assertThatThrownBy(
                () ->
                    s.putEntries(
                        "ns", List.of(good, new Entry(new byte[70_000], bytes("v"), 2, 0))))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("kv:ns of postgres backend 'pg'")
            .hasMessageContaining("entry 1");
        assertThatThrownBy(() -> s.putEntries("ns", List.of(good, good)))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("repeats a key");
        assertThat(b.keyValue("ns").approximateCount()).isZero();

        s.putEntries("ns", List.of(good));
        assertThatThrownBy(() -> s.putEntries("ns", List.of(good)))
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("kv:ns")
            .hasMessageContaining("already in the store");

        s.appendRecords(
            "log", List.of(new LogRecord(0, bytes("0"), 1), new LogRecord(1, bytes("1"), 2)));
        assertThat(b.log("log").append(bytes("by another writer"))).isEqualTo(2);
        assertThatThrownBy(() -> s.appendRecords("log", List.of(new LogRecord(2, bytes("2"), 3))))
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("log:log of postgres backend 'pg'")
            .hasMessageContaining("another writer");
        assertThatThrownBy(
                () ->
                    s.appendRecords(
                        "log2",
                        List.of(new LogRecord(4, bytes("4"), 1), new LogRecord(6, bytes("6"), 1))))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("log:log2")
            .hasMessageContaining("contiguous");
        s.finish();
        assertThatThrownBy(() -> s.putEntries("ns", List.of()))
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("has ended");
      }
      assertThat(b.log("log").read(0, 10))
          .extracting(LogRecord::payload)
          .containsExactly(bytes("0"), bytes("1"), bytes("by another writer"));
      assertThat(b.log("log2").nextOffset()).isZero();
      assertThat(b.verify(Progress.NONE).problems()).isEmpty();
    }
  }

  @Test
  void aServerOutageDuringACallIsRetriableAndLeavesNothingOfTheCall() throws Exception {
    try (PersistenceRegistry r = PgTests.open(SCHEMA, "normal", SMALL_CHUNKS, null)) {
      StorageBackend b = r.backend("pg");
      byte[] data = new byte[3 * 4096];
      try (Importer.Session s = importer(b).begin()) {
        // the input is read inside the call's transaction, between chunk inserts: the server drops
        // that connection there, as a restarting server would
        InputStream cut =
            new ByteArrayInputStream(data) {
              private boolean done;

              @Override
              public synchronized int read(byte[] buf, int off, int len) {
                if (!done && pos > 0) {
                  done = true;
                  terminateImportConnection();
                }
                return super.read(buf, off, len);
              }
            };
        assertThatThrownBy(() -> s.saveSnapshot("snap", 1, 5, cut))
            .isInstanceOf(PostgresUnavailableException.class)
            .hasMessageContaining("import saveSnapshot on snapshot:snap version 1")
            .hasMessageContaining("Nothing of this call was written")
            .hasMessageContaining("Retriable");
        assertThat(count("SELECT count(*) FROM snapshot_chunk")).isZero();
        assertThat(b.snapshots("snap").list()).isEmpty();
        // the same call again, once the pool has a working connection, succeeds
        assertThat(s.saveSnapshot("snap", 1, 5, new ByteArrayInputStream(data)).sizeBytes())
            .isEqualTo(data.length);
        s.finish();
      }
      assertThat(b.verify(Progress.NONE).problems()).isEmpty();
    }
  }

  /** Ends the one connection of backend 'pg' that is inside a transaction. */
  private static void terminateImportConnection() {
    try (Connection c = TestPostgres.shared().connect();
        var st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 10000)) FROM pg_stat_activity WHERE"
                    + " application_name = 'cairn pg' AND state = 'idle in transaction'")) {
      rs.next();
      assertThat(rs.getLong(1)).as("connections terminated").isEqualTo(1);
    } catch (java.sql.SQLException e) {
      throw new AssertionError(e);
    }
  }

  private static long sequenceValue() throws Exception {
    return count("SELECT last_value FROM kv_version");
  }

  private static long count(String sql) throws Exception {
    try (Connection c = TestPostgres.shared().connect();
        var st = c.createStatement()) {
      st.execute("SET search_path TO " + SCHEMA);
      try (ResultSet rs = st.executeQuery(sql)) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /** Rows of the data tables whose stored bytes contain {@code needle}. */
  private static long rowsHolding(byte[] needle) throws Exception {
    try (Connection c = TestPostgres.shared().connect();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT (SELECT count(*) FROM "
                    + SCHEMA
                    + ".kv WHERE position(?::bytea IN value) > 0) + (SELECT count(*) FROM "
                    + SCHEMA
                    + ".log_record WHERE position(?::bytea IN payload) > 0) + (SELECT count(*)"
                    + " FROM "
                    + SCHEMA
                    + ".snapshot_chunk WHERE position(?::bytea IN data) > 0)")) {
      for (int i = 1; i <= 3; i++) {
        ps.setBytes(i, needle);
      }
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }
}
