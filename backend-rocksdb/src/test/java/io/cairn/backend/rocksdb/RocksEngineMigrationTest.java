package io.cairn.backend.rocksdb;

import static io.cairn.backend.rocksdb.Rocks.b;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.MetricRegistry;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.Durability;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.Progress;
import io.cairn.persistence.SnapshotInfo;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.Encryption;
import io.cairn.persistence.spi.EngineRecords;
import io.cairn.persistence.spi.StorageEngine;
import io.cairn.tck.FixedKeyEncryption;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;

/**
 * A data directory written by the layout-2 backend or by the layout-3 engine (the fixtures under
 * {@code src/test/resources/fixtures}, see their README) opened by type {@code rocksdb}: the
 * migration to layout 4 finds everything (entries with versions and expiry, log records with
 * offsets and append times, truncation, snapshots), plain and encrypted (sealed bytes copied, never
 * resealed); a crash before a migration's commit point leaves it to the next open (layout 2: from
 * the start; layout 3: moving what is left), and a crash after it leaves layout 4 complete.
 */
class RocksEngineMigrationTest {
  @TempDir Path tmp;

  private Path dir;

  @AfterEach
  void clearHooks() {
    Layout2Migration.afterPage = null;
    Layout2Migration.afterCommit = null;
    Layout3Migration.afterBatch = null;
    Layout3Migration.afterCommit = null;
  }

  /** What the layout-2 backend's API returned before it closed (fixtures/NAME.properties). */
  private Properties fixture(String name) throws Exception {
    dir = tmp.resolve("db");
    Rocks.copyFixture(name, dir);
    Properties p = new Properties();
    try (Reader r =
        Files.newBufferedReader(
            Path.of(Rocks.class.getResource("/fixtures/" + name + ".properties").toURI()))) {
      p.load(r);
    }
    return p;
  }

  private StorageBackend open(Properties seen, Encryption encryption) {
    return open(seen, encryption, "");
  }

  private StorageBackend open(Properties seen, Encryption encryption, String hocon) {
    return open(Long.parseLong(seen.getProperty("clock")), encryption, hocon);
  }

  private StorageBackend open(long clock, Encryption encryption, String hocon) {
    BackendContext.Builder ctx =
        BackendContext.builder("mig", RocksDbBackendProvider.TYPE)
            .dataDir(dir)
            .durability(Durability.NORMAL)
            .metrics(new MetricRegistry())
            .clock(new Rocks.ManualClock(clock))
            .config(ConfigFactory.parseString("snapshot-chunk-size = 4KiB, " + hocon));
    if (encryption != null) {
      ctx.encryption(encryption);
    }
    return new RocksDbBackendProvider().open(ctx.build());
  }

  private static Entry entry(Properties seen, String key) {
    String[] f = seen.getProperty("entry." + key).split(",");
    return new Entry(
        b(key), HexFormat.of().parseHex(f[2]), Long.parseLong(f[0]), Long.parseLong(f[1]));
  }

  private static List<LogRecord> events(Properties seen) {
    List<LogRecord> out = new ArrayList<>();
    for (String r : seen.getProperty("events").split(",")) {
      String[] f = r.split(":");
      out.add(
          new LogRecord(Long.parseLong(f[0]), HexFormat.of().parseHex(f[2]), Long.parseLong(f[1])));
    }
    return out;
  }

  private void assertFindsEverything(StorageBackend port, Properties seen) throws Exception {
    assertThat(port.type()).isEqualTo(RocksDbBackendProvider.TYPE);
    TreeSet<StoreId> stores = new TreeSet<>();
    for (String s : seen.getProperty("stores").split(",")) {
      String[] f = s.split(":");
      stores.add(new StoreId(StoreKind.valueOf(f[0]), f[1]));
    }
    assertThat(port.stores()).isEqualTo(stores);
    KeyValueStore kv = port.keyValue("users");
    for (String k : List.of("a", "b", "ttl")) {
      assertThat(kv.getEntry(b(k))).as(k).contains(entry(seen, k));
    }
    assertThat(kv.getEntry(b("gone"))).isEmpty();
    KeyValueStore bulk = port.keyValue("bulk");
    for (int i = 1; i < 2_500; i += 97) { // k0: deleted by one test
      assertThat(bulk.getEntry(b("k" + i)).orElseThrow().value()).isEqualTo(b("v" + i));
    }
    LogStore events = port.log("events");
    assertThat(events.firstOffset()).isEqualTo(Long.parseLong(seen.getProperty("events.first")));
    assertThat(events.nextOffset()).isEqualTo(Long.parseLong(seen.getProperty("events.next")));
    List<LogRecord> read = events.read(0, 100);
    List<LogRecord> expected = events(seen);
    assertThat(read).isEqualTo(expected).hasSize(3); // offsets and payloads
    for (int i = 0; i < read.size(); i++) {
      assertThat(read.get(i).appendedAtMillis())
          .as("append time of offset " + read.get(i).offset())
          .isEqualTo(expected.get(i).appendedAtMillis())
          .isPositive();
    }
    assertThat(port.log("drained").nextOffset())
        .isEqualTo(Long.parseLong(seen.getProperty("drained.next")))
        .isEqualTo(3);
    List<SnapshotInfo> infos = new ArrayList<>();
    for (String s : seen.getProperty("snapshots").split(",")) {
      String[] f = s.split(":");
      infos.add(
          new SnapshotInfo(
              Long.parseLong(f[0]),
              Long.parseLong(f[1]),
              Long.parseLong(f[2]),
              Long.parseLong(f[3])));
    }
    assertThat(port.snapshots("state").list()).isEqualTo(infos).hasSize(2);
    Random r = new Random(7); // the fixture's data, one stream for both saves
    for (long v : new long[] {1, 2}) {
      byte[] data = new byte[10_000 + (int) v * 3_000];
      r.nextBytes(data);
      try (InputStream in = port.snapshots("state").load(v)) {
        assertThat(in.readAllBytes()).as("snapshot " + v).isEqualTo(data);
      }
    }
    assertThat(port.verify(Progress.NONE).problems()).isEmpty();
  }

  private List<String> families() throws Exception {
    return Rocks.families(dir);
  }

  @ParameterizedTest(name = "encrypted = {0}")
  @ValueSource(booleans = {false, true})
  void theEngineFindsEverythingTheLayout2BackendWrote(boolean encrypted) throws Exception {
    Properties seen = fixture(encrypted ? "layout2-encrypted" : "layout2-plain");
    FixedKeyEncryption enc = encrypted ? new FixedKeyEncryption() : null;
    long a = entry(seen, "a").version();
    long[] layout2Bound = new long[1]; // every version layout 2 ever handed out is below it
    rawLayout2(
        (db, cf) ->
            layout2Bound[0] =
                Layout.getLong(db.get(cf.get("default"), Layout.NEXT_VERSION_KEY), 0));
    long put;
    try (StorageBackend port = open(seen, enc)) {
      assertFindsEverything(port, seen);
      if (enc != null) {
        assertThat(enc.seals()).as("sealed bytes are copied, never resealed").isZero();
      }
      // versions continue above the migrated ones; offsets are never reused
      put = port.keyValue("users").put(b("a"), b("third"));
      // above every version layout 2 handed out, also those of entries deleted since (a scan of
      // the stored versions could not know them): layout 2's bound was carried over
      assertThat(put).isGreaterThan(a).isGreaterThanOrEqualTo(layout2Bound[0]);
      assertThat(port.log("drained").append(b("4"))).isEqualTo(3);
    }
    assertThat(families())
        .containsExactlyInAnyOrder(
            "default", RocksStorageEngine.CF_RECORDS, RocksStorageEngine.CF_BASE);
    try (StorageBackend again = open(seen, enc)) { // layout 4: no migration
      assertThat(again.keyValue("users").get(b("a"))).isEqualTo(b("third"));
      assertThat(again.log("events").read(0, 100)).isEqualTo(events(seen));
    }
    // layout 2's version bound, carried into the base's own bound record ('V' | bound i64): the
    // base's sequence went on from it
    BackendContext ctx =
        BackendContext.builder("mig", RocksDbBackendProvider.TYPE).dataDir(dir).build();
    try (RocksStorageEngine engine =
        RocksStorageEngine.open(ctx, RocksDbBackendProvider.config(ctx))) {
      StorageEngine.Write boundRecord = new EngineRecords("mig", true).versionBound(1);
      byte[] raw = engine.get(boundRecord.store(), boundRecord.key());
      assertThat(raw).hasSize(10);
      assertThat(raw[0]).isEqualTo((byte) 'V');
      long bound = java.nio.ByteBuffer.wrap(raw, 2, 8).getLong();
      assertThat(bound).isGreaterThan(put);
      for (String k : List.of("a", "b", "ttl")) {
        assertThat(bound).isGreaterThan(entry(seen, k).version());
      }
    }
  }

  @Test
  void aCrashBeforeTheCommitPointLeavesLayout2CompleteAndTheNextOpenMigrates() throws Exception {
    Properties seen = fixture("layout2-plain");
    List<String> before = families();
    Layout2Migration.afterPage =
        pages -> {
          if (pages == 2) {
            throw new IllegalStateException("simulated crash after page 2");
          }
        };
    assertThatThrownBy(() -> open(seen, null)).hasMessageContaining("simulated crash after page 2");
    Layout2Migration.afterPage = null;
    // layout 2 is complete: its version and families as before; k0 of 'bulk' (written into
    // 'records' by the crashed attempt's first page) is deleted in layout 2 now, as a write of the
    // Cairn that wrote layout 2 would; the next attempt must not bring it back
    assertThat(families()).containsAll(before).contains(RocksStorageEngine.CF_RECORDS);
    rawLayout2(
        (db, cf) -> {
          assertThat(Layout.getInt(db.get(cf.get("default"), Layout.LAYOUT_VERSION_KEY), 0))
              .isEqualTo(Layout.LAYOUT_VERSION);
          int sid = Layout.getInt(db.get(cf.get("default"), Layout.catalogKey("kv", "bulk")), 0);
          byte[] k0 = Layout.kvKey(sid, b("k0"));
          assertThat(db.get(cf.get(Layout.CF_KV), k0)).isNotNull();
          db.delete(cf.get(Layout.CF_KV), k0);
        });
    try (StorageBackend port = open(seen, null)) {
      assertFindsEverything(port, seen);
      assertThat(port.keyValue("bulk").getEntry(b("k0"))).isEmpty();
      assertThat(port.keyValue("bulk").getEntry(b("k1"))).isPresent();
    }
  }

  @Test
  void aCrashAfterTheCommitPointLeavesLayout3CompleteAndTheOldFamiliesGoNextOpen()
      throws Exception {
    Properties seen = fixture("layout2-plain");
    Layout2Migration.afterCommit =
        () -> {
          throw new IllegalStateException("simulated crash after the commit point");
        };
    assertThatThrownBy(() -> open(seen, null))
        .hasMessageContaining("simulated crash after the commit point");
    Layout2Migration.afterCommit = null;
    assertThat(families()).contains(Layout.CF_KV, RocksStorageEngine.CF_RECORDS);
    try (StorageBackend port = open(seen, null)) {
      assertFindsEverything(port, seen);
    }
    assertThat(families())
        .containsExactlyInAnyOrder(
            "default", RocksStorageEngine.CF_RECORDS, RocksStorageEngine.CF_BASE);
  }

  @Test
  void aReadOnlyOpenOfLayout2NamesTheFirstWritableOpenAndChangesNothing() throws Exception {
    Properties seen = fixture("layout2-plain");
    List<String> before = families();
    assertThatThrownBy(() -> open(seen, null, "read-only = true"))
        .isInstanceOf(io.cairn.persistence.StorageEngineException.class)
        .hasMessageContaining("layout 2")
        .hasMessageContaining("first writable open");
    assertThat(families()).isEqualTo(before);
    try (StorageBackend port = open(seen, null)) {
      assertFindsEverything(port, seen);
    }
  }

  /**
   * Layout-2 records the migration cannot carry stop it before the commit point, naming what and
   * where; layout 2 stays as it was (its version, its families).
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"next-version", "manifest", "entry-version"})
  void damageTheMigrationCannotCarryRefusesTheOpenAndLeavesLayout2(String damage) throws Exception {
    Properties seen = fixture("layout2-plain");
    rawLayout2(
        (db, cf) -> {
          if (damage.equals("next-version")) {
            db.put(cf.get("default"), Layout.NEXT_VERSION_KEY, new byte[5]);
          } else if (damage.equals("entry-version")) {
            try (var it = db.newIterator(cf.get(Layout.CF_KV))) {
              it.seekToFirst();
              byte[] v = it.value();
              java.util.Arrays.fill(v, 0, 8, (byte) 0); // version 0: no layout wrote one
              db.put(cf.get(Layout.CF_KV), it.key(), v);
            }
          } else {
            try (var it = db.newIterator(cf.get(Layout.CF_SNAPSHOT))) {
              it.seekToFirst();
              db.put(cf.get(Layout.CF_SNAPSHOT), it.key(), new byte[5]);
            }
          }
        });
    List<String> before = families();
    String[] named =
        switch (damage) {
          case "next-version" -> new String[] {"next-version is 5 bytes", "_cairn"};
          case "entry-version" -> new String[] {"stopped at kv:", "needs a version >= 1"};
          default -> new String[] {"state", "manifest of version 1"};
        };
    assertThatThrownBy(() -> open(seen, null))
        .isInstanceOf(io.cairn.persistence.StoreCorruptedException.class)
        .hasMessageContaining(named[0])
        .hasMessageContaining(named[1])
        .hasMessageContaining("Nothing was changed");
    assertThat(families()).containsAll(before);
    rawLayout2(
        (db, cf) ->
            assertThat(Layout.getInt(db.get(cf.get("default"), Layout.LAYOUT_VERSION_KEY), 0))
                .isEqualTo(Layout.LAYOUT_VERSION));
  }

  // ---------------------------------------------------------------- layout 3 -> 4

  /** The raw keys of each family: what the migration moves between them. */
  private java.util.Map<String, List<String>> rawKeys() throws Exception {
    java.util.Map<String, List<String>> out = new java.util.TreeMap<>();
    rawLayout2(
        (db, cf) -> {
          for (String name : List.of(RocksStorageEngine.CF_RECORDS, RocksStorageEngine.CF_BASE)) {
            if (cf.containsKey(name)) {
              List<String> keys = new ArrayList<>();
              try (var it = db.newIterator(cf.get(name))) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                  keys.add(HexFormat.of().formatHex(it.key()));
                }
                it.status();
              }
              out.put(name, keys);
            }
          }
        });
    return out;
  }

  private Integer layoutVersion() throws Exception {
    Integer[] v = new Integer[1];
    rawLayout2(
        (db, cf) -> {
          byte[] raw = db.get(cf.get("default"), Layout.LAYOUT_VERSION_KEY);
          v[0] = raw == null ? null : Layout.getInt(raw, 0);
        });
    return v[0];
  }

  private boolean movingMarker() throws Exception {
    boolean[] present = new boolean[1];
    rawLayout2(
        (db, cf) -> present[0] = db.get(cf.get("default"), Layout3Migration.MOVING_KEY) != null);
    return present[0];
  }

  /**
   * The layout-3 fixture as written (every record in 'records', layout-version 3); returns every
   * raw key it holds.
   */
  private TreeSet<String> assertLayout3() throws Exception {
    assertThat(families()).containsExactlyInAnyOrder("default", RocksStorageEngine.CF_RECORDS);
    assertThat(layoutVersion()).isEqualTo(3);
    List<String> keys = rawKeys().get(RocksStorageEngine.CF_RECORDS);
    assertThat(keys.stream().filter(Rocks::bookkeeping).count())
        .as("bookkeeping records of layout 3, in 'records': positions, catalog, expiry index")
        .isGreaterThan(Layout3Migration.BATCH_RECORDS);
    return new TreeSet<>(keys);
  }

  /** Layout 4 complete: every record of {@code all} once, in the family the spi's rule names. */
  private void assertLayout4(TreeSet<String> all) throws Exception {
    assertThat(families())
        .containsExactlyInAnyOrder(
            "default", RocksStorageEngine.CF_RECORDS, RocksStorageEngine.CF_BASE);
    assertThat(layoutVersion()).isEqualTo(RocksStorageEngine.LAYOUT_VERSION);
    assertThat(movingMarker()).isFalse();
    java.util.Map<String, List<String>> keys = rawKeys();
    assertThat(keys.get(RocksStorageEngine.CF_RECORDS)).noneMatch(Rocks::bookkeeping);
    assertThat(keys.get(RocksStorageEngine.CF_BASE)).allMatch(Rocks::bookkeeping);
    TreeSet<String> union = new TreeSet<>(keys.get(RocksStorageEngine.CF_RECORDS));
    union.addAll(keys.get(RocksStorageEngine.CF_BASE));
    assertThat(union).isEqualTo(all);
    assertThat(
            keys.get(RocksStorageEngine.CF_RECORDS).size()
                + keys.get(RocksStorageEngine.CF_BASE).size())
        .as("no record in both")
        .isEqualTo(all.size());
  }

  /** What only the layout-3 fixtures have: TTLs on 1,500 bulk entries (the expiry index). */
  private void assertExpiryIndex(Properties seen, Encryption enc) {
    long later =
        Long.parseLong(seen.getProperty("clock")) + java.time.Duration.ofDays(2).toMillis();
    try (StorageBackend port = open(later, enc, "")) {
      assertThat(port.keyValue("bulk").purgeExpired())
          .as("every entry with a TTL, found through the moved expiry index")
          .isEqualTo(1_500);
      assertThat(port.keyValue("bulk").getEntry(b("k999"))).isPresent();
      assertThat(port.keyValue("bulk").getEntry(b("k1001"))).isEmpty();
    }
  }

  @ParameterizedTest(name = "encrypted = {0}")
  @ValueSource(booleans = {false, true})
  void theEngineFindsEverythingTheLayout3EngineWrote(boolean encrypted) throws Exception {
    Properties seen = fixture(encrypted ? "layout3-encrypted" : "layout3-plain");
    TreeSet<String> all = assertLayout3();
    FixedKeyEncryption enc = encrypted ? new FixedKeyEncryption() : null;
    try (StorageBackend port = open(seen, enc)) {
      assertFindsEverything(port, seen);
      assertThat(port.keyValue("bulk").getEntry(b("k1001"))).contains(entry(seen, "k1001"));
      if (enc != null) {
        assertThat(enc.seals()).as("records are moved, never resealed").isZero();
      }
    }
    assertLayout4(all);
    Layout3Migration.afterBatch =
        batches -> {
          throw new AssertionError("a layout-4 directory is not migrated again");
        };
    try (StorageBackend again = open(seen, enc)) {
      assertFindsEverything(again, seen);
      assertThat(again.stats().properties()).containsEntry("layout-version", "4");
      long put = again.keyValue("users").put(b("a"), b("third"));
      assertThat(put).isGreaterThan(entry(seen, "k1001").version());
      assertThat(again.log("events").append(b("event-5")))
          .isEqualTo(Long.parseLong(seen.getProperty("events.next")));
    }
    assertExpiryIndex(seen, enc);
  }

  @Test
  void aCrashInTheMiddleOfTheMoveIsFinishedByTheNextWritableOpenAndLosesNothing() throws Exception {
    Properties seen = fixture("layout3-plain");
    TreeSet<String> all = assertLayout3();
    Layout3Migration.afterBatch =
        batches -> {
          if (batches == 1) {
            throw new IllegalStateException("simulated crash after batch 1");
          }
        };
    assertThatThrownBy(() -> open(seen, null))
        .hasMessageContaining("simulated crash after batch 1");
    Layout3Migration.afterBatch = null;
    // half moved: layout-version 4 with the marker; some bookkeeping in 'base', some still in
    // 'records'; each record in one of them
    assertThat(layoutVersion()).isEqualTo(RocksStorageEngine.LAYOUT_VERSION);
    assertThat(movingMarker()).isTrue();
    java.util.Map<String, List<String>> keys = rawKeys();
    assertThat(keys.get(RocksStorageEngine.CF_BASE)).hasSize(Layout3Migration.BATCH_RECORDS);
    assertThat(keys.get(RocksStorageEngine.CF_RECORDS)).anyMatch(Rocks::bookkeeping);
    TreeSet<String> union = new TreeSet<>(keys.get(RocksStorageEngine.CF_RECORDS));
    union.addAll(keys.get(RocksStorageEngine.CF_BASE));
    assertThat(union).isEqualTo(all);
    assertThatThrownBy(() -> open(seen, null, "read-only = true"))
        .isInstanceOf(io.cairn.persistence.StorageEngineException.class)
        .hasMessageContaining("in the middle of its migration from layout 3 to layout 4")
        .hasMessageContaining("Open it once without read-only");
    try (StorageBackend port = open(seen, null)) {
      assertFindsEverything(port, seen);
    }
    assertLayout4(all);
    assertExpiryIndex(seen, null);
  }

  @Test
  void aCrashAfterTheCommitPointLeavesLayout4Complete() throws Exception {
    Properties seen = fixture("layout3-plain");
    TreeSet<String> all = assertLayout3();
    Layout3Migration.afterCommit =
        () -> {
          throw new IllegalStateException("simulated crash after the commit point");
        };
    assertThatThrownBy(() -> open(seen, null))
        .hasMessageContaining("simulated crash after the commit point");
    Layout3Migration.afterCommit = null;
    assertLayout4(all);
    Layout3Migration.afterBatch =
        batches -> {
          throw new AssertionError("a committed migration is not run again");
        };
    try (StorageBackend port = open(seen, null)) {
      assertFindsEverything(port, seen);
    }
  }

  /** A read-only open reads layout 3 as it is (one family) and changes nothing. */
  @Test
  void aReadOnlyOpenReadsLayout3AsItIs() throws Exception {
    Properties seen = fixture("layout3-plain");
    TreeSet<String> all = assertLayout3();
    try (StorageBackend port = open(seen, null, "read-only = true")) {
      assertFindsEverything(port, seen);
      assertThat(port.stats().properties()).containsEntry("layout-version", "3");
    }
    assertThat(assertLayout3()).isEqualTo(all);
  }

  /**
   * A key of 'records' that names no store stops the migration naming it; the next open goes on.
   */
  @Test
  void aKeyNamingNoStoreStopsTheMigrationNamingIt() throws Exception {
    Properties seen = fixture("layout3-plain");
    byte[] bad = {9, 0, 1, 'x'};
    rawLayout2((db, cf) -> db.put(cf.get(RocksStorageEngine.CF_RECORDS), bad, b("?")));
    assertThatThrownBy(() -> open(seen, null))
        .isInstanceOf(io.cairn.persistence.StoreCorruptedException.class)
        .hasMessageContaining("Migrating layout 3 to 4 stopped after moving")
        .hasMessageContaining("column family 'records'")
        .hasMessageContaining("names no store")
        .hasMessageContaining("4 bytes starting 0x09")
        .hasMessageContaining("the next writable open goes on");
    assertThat(movingMarker()).isTrue();
    rawLayout2((db, cf) -> db.delete(cf.get(RocksStorageEngine.CF_RECORDS), bad)); // repaired
    try (StorageBackend port = open(seen, null)) {
      assertFindsEverything(port, seen);
    }
    assertThat(movingMarker()).isFalse();
  }

  private interface Edit {
    void apply(RocksDB db, java.util.Map<String, ColumnFamilyHandle> families) throws Exception;
  }

  /** Opens the directory with RocksDB alone, every family, and runs {@code edit}. */
  private void rawLayout2(Edit edit) throws Exception {
    List<String> names = families();
    List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
    for (String n : names) {
      descriptors.add(new ColumnFamilyDescriptor(n.getBytes(StandardCharsets.UTF_8)));
    }
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    try (DBOptions options = new DBOptions();
        RocksDB db = RocksDB.open(options, dir.toString(), descriptors, handles)) {
      java.util.Map<String, ColumnFamilyHandle> byName = new java.util.HashMap<>();
      for (int i = 0; i < names.size(); i++) {
        byName.put(names.get(i), handles.get(i));
      }
      edit.apply(db, byName);
      for (ColumnFamilyHandle h : handles) {
        h.close();
      }
    }
  }
}
