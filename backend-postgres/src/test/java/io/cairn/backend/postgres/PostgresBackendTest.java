package io.cairn.backend.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.Durability;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StorageEngineException;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.VerifyReport;
import io.cairn.persistence.VersionConflictException;
import io.cairn.tck.ManualClock;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PostgreSQL-specific behaviour: schema versions, settings, durability, several instances. */
class PostgresBackendTest {
  private static final String SCHEMA = "pgtest";

  @BeforeEach
  void freshSchema() {
    TestPostgres.shared().dropSchema(SCHEMA);
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static void sql(String statement) throws Exception {
    try (Connection c = TestPostgres.shared().connect();
        Statement st = c.createStatement()) {
      st.execute("SET search_path TO " + SCHEMA);
      st.execute(statement);
    }
  }

  private static long sqlLong(String query) throws Exception {
    try (Connection c = TestPostgres.shared().connect();
        Statement st = c.createStatement()) {
      st.execute("SET search_path TO " + SCHEMA);
      try (ResultSet rs = st.executeQuery(query)) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  // ---- schema ----

  @Test
  void theSchemaIsCreatedWithItsVersionRecorded() throws Exception {
    try (PersistenceRegistry r = PgTests.open(SCHEMA, "")) {
      r.backend("pg").keyValue("a").put(b("k"), b("v"));
    }
    assertThat(sqlLong("SELECT version FROM cairn_schema WHERE id = 1"))
        .isEqualTo(PostgresSchema.VERSION);
    try (PersistenceRegistry r = PgTests.open(SCHEMA, "")) {
      assertThat(r.backend("pg").keyValue("a").get(b("k"))).isEqualTo(b("v"));
    }
  }

  @Test
  void aSchemaWrittenByANewerCairnIsRefusedAndLeftAlone() throws Exception {
    try (PersistenceRegistry r = PgTests.open(SCHEMA, "")) {
      r.backend("pg").keyValue("a").put(b("k"), b("v"));
    }
    sql("UPDATE cairn_schema SET version = 99");
    assertThatThrownBy(() -> PgTests.open(SCHEMA, ""))
        .isInstanceOf(StorageEngineException.class)
        .hasMessageContaining("schema '" + SCHEMA + "' has Cairn layout version 99")
        .hasMessageContaining("newer than version " + PostgresSchema.VERSION)
        .hasMessageContaining("Nothing was changed");
    assertThat(sqlLong("SELECT version FROM cairn_schema")).isEqualTo(99);
    assertThat(sqlLong("SELECT count(*) FROM kv")).isEqualTo(1);
  }

  @Test
  void instancesStartingTogetherMigrateOnce() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try {
      List<Future<PersistenceRegistry>> opens = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        opens.add(pool.submit(() -> PgTests.open(SCHEMA, "")));
      }
      for (Future<PersistenceRegistry> f : opens) {
        f.get(2, TimeUnit.MINUTES).close();
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(sqlLong("SELECT count(*) FROM cairn_schema")).isEqualTo(1);
  }

  // ---- settings ----

  @Test
  void settingsAreValidatedWithoutShowingThePassword(@TempDir Path dir) {
    assertThatThrownBy(
            () ->
                PgTests.open(
                    SCHEMA,
                    "connect-timeout = 10\npool-size = 1\npassword = \"s3cr3t-value\"\n"
                        + "password-file = \""
                        + dir.resolve("missing")
                        + "\"\nschema = \"Bad-Name\""))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("connect-timeout")
        .hasMessageContaining("10s")
        .hasMessageContaining("pool-size")
        .hasMessageContaining("at most one of password, password-file and password-env")
        .hasMessageContaining("schema")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("s3cr3t-value"));
  }

  @Test
  void aJdbcUrlIsRequiredAndMayNotCarryAPassword() {
    assertThatThrownBy(
            () ->
                PersistenceRegistry.builder()
                    .open(
                        com.typesafe.config.ConfigFactory.parseString(
                            "cairn.backends.pg { type = postgres }")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("jdbc-url");
    assertThatThrownBy(
            () ->
                PersistenceRegistry.builder()
                    .open(
                        com.typesafe.config.ConfigFactory.parseString(
                            "cairn.backends.pg { type = postgres, jdbc-url ="
                                + " \"jdbc:postgresql://h/db?password=hunter2\" }")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("password= parameter")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("hunter2"));
  }

  @Test
  void aPasswordFileIsReadAtOpen(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("pw");
    Files.writeString(file, "anything\n"); // the test server trusts local connections
    try (PersistenceRegistry r = PgTests.open(SCHEMA, "password-file = \"" + file + "\"")) {
      assertThat(r.backend("pg").health().isHealthy()).isTrue();
    }
    assertThatThrownBy(
            () -> PgTests.open(SCHEMA, "password-env = CAIRN_TEST_SURELY_UNSET_VARIABLE_42"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("CAIRN_TEST_SURELY_UNSET_VARIABLE_42, which is not set");
  }

  @Test
  void anUnreachableServerIsARetriableErrorAtOpen() {
    assertThatThrownBy(
            () ->
                PersistenceRegistry.builder()
                    .open(
                        com.typesafe.config.ConfigFactory.parseString(
                            "cairn.backends.pg { type = postgres, connect-timeout = 1s, jdbc-url ="
                                + " \"jdbc:postgresql://127.0.0.1:1/nothing\" }")))
        .isInstanceOf(PostgresUnavailableException.class)
        .hasMessageContaining("Cannot open postgres backend 'pg'")
        .hasMessageContaining("opening again later may succeed");
  }

  // ---- durability ----

  @Test
  void durabilityMapsOntoSynchronousCommit() {
    try (PersistenceRegistry r = PgTests.open(SCHEMA, "full", "", null)) {
      assertThat(r.backend("pg").stats().properties()).containsEntry("synchronous_commit", "on");
    }
    try (PersistenceRegistry r = PgTests.open(SCHEMA, "normal", "", null)) {
      assertThat(r.backend("pg").stats().properties()).containsEntry("synchronous_commit", "off");
      assertThat(r.backend("pg").health().getMessage()).contains("synchronous_commit = off");
    }
    // PostgresTckTest runs the TCK at normal and full only: none must take normal's path
    try (PersistenceRegistry r = PgTests.open(SCHEMA, "none", "", null)) {
      StorageBackend b = r.backend("pg");
      assertThat(b.durability()).isEqualTo(Durability.NONE);
      assertThat(b.stats().properties()).containsEntry("synchronous_commit", "off");
      assertThat(b.health().isHealthy()).as(b.health().getMessage()).isTrue();
      assertThat(b.health().getMessage())
          .contains("durability none")
          .contains("synchronous_commit = off");
      b.keyValue("none").put(new byte[] {1}, new byte[] {2});
      assertThat(b.keyValue("none").get(new byte[] {1})).isEqualTo(new byte[] {2});
    }
  }

  // ---- several instances on one schema ----

  @Test
  void twoInstancesShareOneSchemaWithGapFreeOffsetsAndNoLostUpdates() throws Exception {
    try (PersistenceRegistry r1 = PgTests.open(SCHEMA, "");
        PersistenceRegistry r2 = PgTests.open(SCHEMA, "")) {
      List<StorageBackend> backends = List.of(r1.backend("pg"), r2.backend("pg"));
      int perThread = 100;
      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        List<Future<?>> work = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
          StorageBackend be = backends.get(t % 2);
          work.add(
              pool.submit(
                  () -> {
                    KeyValueStore kv = be.keyValue("shared");
                    LogStore log = be.log("shared");
                    for (int i = 0; i < perThread; i++) {
                      log.append(b("r"));
                      while (true) { // compare-and-set increment
                        var e = kv.getEntry(b("n"));
                        long seen = e.map(x -> ByteBuffer.wrap(x.value()).getLong()).orElse(0L);
                        long version = e.map(Entry::version).orElse(0L);
                        byte[] next = ByteBuffer.allocate(8).putLong(seen + 1).array();
                        try {
                          long nv = kv.compareAndSet(b("n"), version, next, null);
                          assertThat(nv).isGreaterThan(version);
                          break;
                        } catch (VersionConflictException conflict) {
                          // another instance won; read again
                        }
                      }
                    }
                    return null;
                  }));
        }
        for (Future<?> f : work) {
          f.get(5, TimeUnit.MINUTES);
        }
      } finally {
        pool.shutdownNow();
      }
      LogStore log = r1.backend("pg").log("shared");
      assertThat(log.nextOffset()).isEqualTo(4L * perThread);
      Set<Long> offsets = new HashSet<>();
      for (var rec : log.read(0, 10_000)) {
        offsets.add(rec.offset());
      }
      assertThat(offsets).hasSize(4 * perThread);
      assertThat(ByteBuffer.wrap(r2.backend("pg").keyValue("shared").get(b("n"))).getLong())
          .isEqualTo(4L * perThread);
      assertThat(r1.backend("pg").verify(Progress.NONE).problems()).isEmpty();
    }
  }

  @Test
  void versionsIncreaseAcrossInstancesEvenWhenOneHoldsAnOlderVersionBlock() {
    try (PersistenceRegistry r1 = PgTests.open(SCHEMA, "");
        PersistenceRegistry r2 = PgTests.open(SCHEMA, "")) {
      KeyValueStore a = r1.backend("pg").keyValue("v");
      KeyValueStore c = r2.backend("pg").keyValue("v");
      long last = 0;
      for (int i = 0; i < 20; i++) {
        long v = (i % 2 == 0 ? a : c).put(b("k"), b("x" + i));
        assertThat(v).as("write %d", i).isGreaterThan(last);
        last = v;
      }
      assertThat(a.getEntry(b("k")).orElseThrow().version()).isEqualTo(last);
    }
  }

  // ---- damage is detected, never returned ----

  @Test
  void aDamagedKvRowIsReportedNotReturned() throws Exception {
    try (PersistenceRegistry r = PgTests.open(SCHEMA, "")) {
      StorageBackend be = r.backend("pg");
      be.keyValue("d").put(b("k"), b("value"));
      sql("UPDATE kv SET value = '\\x76616c7565ff'::bytea");
      assertThatThrownBy(() -> be.keyValue("d").get(b("k")))
          .isInstanceOf(StoreCorruptedException.class)
          .hasMessageContaining("kv:d")
          .hasMessageContaining("fails its checksum");
      VerifyReport report = be.verify(Progress.NONE);
      assertThat(report.problems()).anyMatch(p -> p.contains("kv:d") && p.contains("checksum"));
    }
  }

  @Test
  void aMissingLogRecordIsReportedNotSkipped() throws Exception {
    try (PersistenceRegistry r = PgTests.open(SCHEMA, "")) {
      StorageBackend be = r.backend("pg");
      for (int i = 0; i < 5; i++) {
        be.log("l").append(b("r" + i));
      }
      sql("DELETE FROM log_record WHERE record_offset = 2");
      assertThatThrownBy(() -> be.log("l").read(0, 10))
          .isInstanceOf(StoreCorruptedException.class)
          .hasMessageContaining("Record 2 of log:l is missing");
      assertThat(be.verify(Progress.NONE).problems())
          .anyMatch(p -> p.contains("log:l") && p.contains("records 2 to 2 are missing"));
    }
  }

  @Test
  void aDamagedSnapshotChunkIsReported() throws Exception {
    try (PersistenceRegistry r = PgTests.open(SCHEMA, "snapshot-chunk-size = 4KiB")) {
      StorageBackend be = r.backend("pg");
      be.snapshots("s").save(1, new byte[10_000]);
      sql("UPDATE snapshot_chunk SET data = '\\x01'::bytea || data WHERE seq = 1");
      assertThat(be.verify(Progress.NONE).problems())
          .anyMatch(p -> p.contains("snapshot:s version 1") && p.contains("Chunk 1"));
    }
  }

  @Test
  void aMissingSnapshotChunkAndADamagedIndexRowAreReported() throws Exception {
    try (PersistenceRegistry r = PgTests.open(SCHEMA, "snapshot-chunk-size = 4KiB")) {
      StorageBackend be = r.backend("pg");
      be.snapshots("s").save(1, new byte[10_000]); // 3 chunks
      be.snapshots("t").save(2, new byte[100]);
      sql(
          "DELETE FROM snapshot_chunk WHERE seq = 1 AND save_id IN"
              + " (SELECT save_id FROM snapshot WHERE store = 's')");
      sql("UPDATE snapshot SET size = size + 1 WHERE store = 't'");
      assertThat(be.verify(Progress.NONE).problems())
          .anyMatch(
              p ->
                  p.contains("snapshot:s version 1")
                      && p.contains("lists 3 chunks (0 to 2) but 2 are stored"))
          .anyMatch(
              p ->
                  p.contains("snapshot:t version 2") && p.contains("index row fails its checksum"));
    }
  }

  // ---- TTL, compact, scans ----

  @Test
  void theSweeperAndCompactRemoveExpiredRows() throws Exception {
    ManualClock clock = new ManualClock();
    try (PersistenceRegistry r =
        PgTests.open(SCHEMA, "normal", "sweeper-interval = 100ms", clock)) {
      StorageBackend be = r.backend("pg");
      be.keyValue("t").put(b("a"), b("1"), Duration.ofSeconds(5));
      be.keyValue("t").put(b("b"), b("2"));
      clock.advance(Duration.ofSeconds(6));
      assertThat(be.keyValue("t").get(b("a"))).isNull();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (sqlLong("SELECT count(*) FROM kv") != 1 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(sqlLong("SELECT count(*) FROM kv")).as("the sweeper deleted the row").isEqualTo(1);
      be.keyValue("t").put(b("c"), b("3"), Duration.ofSeconds(1));
      clock.advance(Duration.ofSeconds(2));
      be.compact(Progress.NONE);
      assertThat(sqlLong("SELECT count(*) FROM kv")).isEqualTo(1);
      assertThat(
              sqlLong(
                  "SELECT count(*) FROM pg_stat_user_tables WHERE schemaname = '"
                      + SCHEMA
                      + "' AND relname = 'kv' AND last_vacuum IS NOT NULL"))
          .as("compact ran VACUUM on kv")
          .isEqualTo(1);
    }
  }

  @Test
  void anOpenScanHoldsOneConnectionUntilClosedAndStreamsInPages() {
    try (PersistenceRegistry r = PgTests.open(SCHEMA, "scan-fetch-size = 7\npool-size = 3")) {
      StorageBackend be = r.backend("pg");
      List<io.cairn.persistence.KeyValue> rows = new ArrayList<>();
      for (int i = 0; i < 500; i++) {
        rows.add(new io.cairn.persistence.KeyValue(b(String.format("k%04d", i)), b("v" + i)));
      }
      be.keyValue("s").putAll(rows);
      var active = r.metrics().getGauges().get("cairn.backends.pg.postgres.pool-active");
      assertThat(active.getValue()).isEqualTo(0L);
      int n = 0;
      try (CloseableIterator<Entry> it = be.keyValue("s").scanPrefix(b("k0"))) {
        it.next();
        n++;
        assertThat(active.getValue()).as("the scan's cursor holds a connection").isEqualTo(1L);
        be.keyValue("s").put(b("other"), b("x")); // other work proceeds meanwhile
        while (it.hasNext()) {
          it.next();
          n++;
        }
      }
      assertThat(n).isEqualTo(500);
      assertThat(active.getValue()).isEqualTo(0L);
      try (CloseableIterator<Entry> it = be.keyValue("s").scan(null, null)) {
        it.next();
      } // closed early
      assertThat(active.getValue()).as("closing early returns the connection").isEqualTo(0L);
    }
  }
}
