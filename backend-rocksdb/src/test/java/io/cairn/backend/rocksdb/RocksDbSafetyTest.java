package io.cairn.backend.rocksdb;

import static io.cairn.backend.rocksdb.Rocks.b;
import static io.cairn.backend.rocksdb.Rocks.s;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.MetricRegistry;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.BackendLockedException;
import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.Durability;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StorageEngineException;
import io.cairn.persistence.StoreCorruptedException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Locking, corruption policies, memory budget, metrics, checkpoints, permissions, config. */
class RocksDbSafetyTest {
  @TempDir Path dir;

  @Test
  void aSecondOpenOfTheSameDirectoryIsBackendLockedNamingTheDirectory() {
    try (StorageBackend first = Rocks.open(dir)) {
      first.keyValue("k").put(b("a"), b("1"));
      assertThatThrownBy(() -> Rocks.open(dir))
          .isInstanceOf(BackendLockedException.class)
          .hasMessageContaining(dir.toAbsolutePath().toString())
          .hasMessageContaining("locked");
      // The failed open touched nothing: the first instance still works.
      assertThat(s(first.keyValue("k").get(b("a")))).isEqualTo("1");
    }
    try (StorageBackend again = Rocks.open(dir)) {
      assertThat(s(again.keyValue("k").get(b("a")))).isEqualTo("1");
    }
  }

  @Test
  void corruptManifestPointerFailsToOpenUnderFailPolicyAndTouchesNothing() throws IOException {
    Path db = this.dir.resolve("db");
    populate(db);
    Files.writeString(db.resolve("CURRENT"), "garbage-without-newline");
    assertThatThrownBy(() -> Rocks.open(db, "on-corruption = fail"))
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessageContaining(db.toAbsolutePath().toString());
    assertThat(Files.readString(db.resolve("CURRENT"))).isEqualTo("garbage-without-newline");
    assertThat(siblings(db)).isEmpty();
  }

  @Test
  void corruptDirectoryIsMovedAsideUnderQuarantinePolicy() throws IOException {
    Path db = this.dir.resolve("db");
    populate(db);
    Files.writeString(db.resolve("CURRENT"), "garbage-without-newline");
    MetricRegistry metrics = new MetricRegistry();
    try (StorageBackend be =
        Rocks.open(
            db, Durability.NORMAL, "on-corruption = quarantine", metrics, Clock.systemUTC())) {
      assertThat(metrics.counter("cairn.backends.test.rocksdb.quarantined").getCount())
          .isEqualTo(1);
      assertThat(be.keyValue("k").get(b("key0"))).isNull(); // started empty
      be.keyValue("k").put(b("new"), b("ok"));
      String aside = be.stats().properties().get("quarantined-to");
      assertThat(Path.of(aside).getParent()).isEqualTo(db.toRealPath());
      assertThat(Path.of(aside).getFileName().toString()).matches("corrupt-\\d{8}T\\d{6}Z");
      assertThat(Path.of(aside).resolve("CURRENT")).hasContent("garbage-without-newline");
    }
    assertThat(siblings(db)).hasSize(1);
  }

  @Test
  void corruptSstBlockIsReportedOnReadByVerifyAndQuarantinedOnNextOpen() throws IOException {
    Path db = this.dir.resolve("db");
    populate(db);
    Path sst = largestSst(db);
    flipBytesInTheMiddle(sst);
    try (StorageBackend be = Rocks.open(db, "on-corruption = quarantine")) {
      KeyValueStore kv = be.keyValue("k");
      assertThatThrownBy(
              () -> {
                for (int i = 0; i < 2000; i++) {
                  kv.get(b("key" + i));
                }
              })
          .isInstanceOf(StoreCorruptedException.class)
          .hasMessageContaining("cairn verify");
      assertThat(be.verify(Progress.NONE).problems()).isNotEmpty();
    }
    // The run-time corruption left a marker: the next open confirms it and quarantines.
    try (StorageBackend be = Rocks.open(db, "on-corruption = quarantine")) {
      assertThat(be.stats().properties()).containsKey("quarantined-to");
      assertThat(be.keyValue("k").get(b("key1"))).isNull();
    }
  }

  @Test
  void corruptSstUnderFailPolicyThrowsOnReadAndNeverReturnsGarbage() throws IOException {
    Path db = this.dir.resolve("db");
    populate(db);
    flipBytesInTheMiddle(largestSst(db));
    try (StorageBackend be = Rocks.open(db, "on-corruption = fail")) {
      KeyValueStore kv = be.keyValue("k");
      int corrupt = 0;
      for (int i = 0; i < 2000; i++) {
        try {
          byte[] v = kv.get(b("key" + i));
          if (v != null) {
            assertThat(s(v)).isEqualTo(value(i)); // whatever is returned is right
          }
        } catch (StoreCorruptedException e) {
          corrupt++;
        }
      }
      assertThat(corrupt).isPositive();
      try (CloseableIterator<Entry> it = kv.scan(null, null)) {
        assertThatThrownBy(
                () -> {
                  while (it.hasNext()) {
                    it.next();
                  }
                })
            .isInstanceOf(StoreCorruptedException.class);
      }
    }
    // The fail policy never moves data: the corrupt files stay for the operator.
    assertThat(siblings(db)).isEmpty();
    assertThat(largestSst(db)).exists();
  }

  @Test
  void memoryBudgetSizesOneSharedCacheAndBoundsMemtables() {
    MetricRegistry metrics = new MetricRegistry();
    long budget = 8L << 20;
    try (Rocks.WithEngine w =
        Rocks.withEngine(
            dir,
            Durability.NONE,
            "memory-budget = 8MiB, advanced.write-buffer-percent = 25",
            metrics,
            Clock.systemUTC(),
            null)) {
      StorageBackend be = w.backend();
      RocksStorageEngine raw = w.engine();
      Random r = new Random(1);
      byte[] value = new byte[1024];
      for (int s = 0; s < 4; s++) {
        KeyValueStore kv = be.keyValue("ns" + s);
        for (int i = 0; i < 8_000; i++) {
          r.nextBytes(value);
          kv.put(b("key" + i), value);
        }
      }
      // 32 MiB written across four namespaces: memtables stay within the write-buffer share
      // (flushes are forced by the write-buffer manager), and the one cache within the budget.
      long memtables = raw.sumProperty("rocksdb.cur-size-all-mem-tables");
      assertThat(memtables).isLessThanOrEqualTo(budget);
      for (int i = 0; i < 8_000; i += 3) {
        be.keyValue("ns0").get(b("key" + i));
      }
      assertThat(raw.blockCacheUsage()).isPositive().isLessThanOrEqualTo(budget + (budget / 10));
      assertThat(raw.sumProperty("rocksdb.live-sst-files-size")).isGreaterThan(16L << 20);
      assertThat(be.stats().properties()).containsEntry("memory-budget", String.valueOf(budget));
      assertThat(raw.engineProperties().get("block-cache-capacity")).isEqualTo(budget);
    }
  }

  @Test
  void memoryBudgetBelowTheMinimumIsAConfigurationError() {
    assertThatThrownBy(() -> Rocks.open(dir, "memory-budget = 1MiB"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("memory-budget");
    assertThat(dir).isEmptyDirectory();
  }

  @Test
  void validationReportsEveryBadKeyAtOnceThroughTheRegistry() {
    var config =
        rocksdb(
            "fast",
            dir.resolve("x"),
            "memory-budget = lots, on-corruption = shrug,"
                + " wal-recovery-mode = whatever, advanced { compresion = lz4,"
                + " db-options { no_such_option = 3 } }");
    List<ConfigProblem> problems = PersistenceRegistry.validate(config);
    assertThat(problems)
        .extracting(ConfigProblem::path)
        .contains(
            "cairn.backends.fast.memory-budget",
            "cairn.backends.fast.on-corruption",
            "cairn.backends.fast.wal-recovery-mode",
            "cairn.backends.fast.advanced.compresion",
            "cairn.backends.fast.advanced.db-options");
    assertThat(problems.toString()).contains("did you mean 'compression'");
  }

  /**
   * {@code sweeper-batch} had a meaning before layout 3 (the layout-2 backend's own sweeper); the
   * base's sweeper has its own pages. A configuration that still sets it validates and opens (the
   * provider warns, naming the key) instead of being refused as an unknown key.
   */
  @Test
  void aConfigurationThatStillSetsTheDeprecatedSweeperBatchValidatesAndOpens() {
    var config = rocksdb("old", dir, "sweeper-batch = 500");
    assertThat(PersistenceRegistry.validate(config)).isEmpty();
    try (PersistenceRegistry reg = PersistenceRegistry.open(config)) {
      assertThat(reg.backend("old").keyValue("k").put(b("a"), b("b"))).isPositive();
    }
  }

  @Test
  void outOfRangeAndMalformedValuesAreEachNamed() {
    var config =
        rocksdb(
            "odd",
            dir.resolve("x"),
            "snapshot-chunk-size = 128MiB, advanced { max-open-files = 5,"
                + " max-concurrent-writes = many,"
                + " db-options { nested { a = 1 } }, cf-options = 3 }");
    List<ConfigProblem> problems = PersistenceRegistry.validate(config);
    assertThat(problems)
        .extracting(ConfigProblem::path)
        .contains(
            "cairn.backends.odd.snapshot-chunk-size",
            "cairn.backends.odd.advanced.max-open-files",
            "cairn.backends.odd.advanced.max-concurrent-writes",
            "cairn.backends.odd.advanced.db-options",
            "cairn.backends.odd.advanced.cf-options");
    assertThat(problems.toString())
        .contains("plain option values")
        .contains("non-object")
        .contains("auto, unlimited or a whole number from 1 to 4096");
    var zero = rocksdb("zero", dir.resolve("z"), "advanced.max-concurrent-writes = 0");
    assertThat(PersistenceRegistry.validate(zero))
        .extracting(ConfigProblem::path)
        .containsExactly("cairn.backends.zero.advanced.max-concurrent-writes");
    var flat = rocksdb("flat", dir.resolve("y"), "advanced = 3");
    assertThat(PersistenceRegistry.validate(flat))
        .extracting(ConfigProblem::path)
        .contains("cairn.backends.flat.advanced");
  }

  /**
   * An option RocksDB parses but refuses beside one Cairn sets (atomic_flush) is named at
   * validation; and should such a conflict reach the open, the error says the options conflict, not
   * that the files do not match them.
   */
  @Test
  void anOptionThatConflictsWithCairnsIsNamedAtValidationAndAsAConflictAtOpen() {
    String options = "advanced.db-options { enable_pipelined_write = true }";
    var config = rocksdb("piped", dir, options);
    assertThat(PersistenceRegistry.validate(config))
        .extracting(ConfigProblem::path)
        .containsExactly("cairn.backends.piped.advanced.db-options");
    assertThatThrownBy(() -> Rocks.open(dir, options).close())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("enable_pipelined_write");
    // the provider validates before RocksDB sees the options, so a conflict RocksDB reports at
    // open is translated here as it would be
    String engine = "atomic_flush is incompatible with enable_pipelined_write";
    var e =
        new org.rocksdb.RocksDBException(
            engine,
            new org.rocksdb.Status(
                org.rocksdb.Status.Code.InvalidArgument, org.rocksdb.Status.SubCode.None, engine));
    assertThat(RocksErrors.translate(e, "open", "rocksdb backend 'piped'", dir))
        .isInstanceOf(StorageEngineException.class)
        .hasMessageContaining(engine)
        .hasMessageContaining("Two options conflict")
        .hasMessageNotContaining("do not match");
  }

  @Test
  void theRegistryOpensRocksdbThroughServiceLoaderWithExpertOptions() {
    var config =
        rocksdb(
            "fast",
            dir,
            "durability = full, advanced.db-options { bytes_per_sync = 1048576 },"
                + " advanced.cf-options { level0_file_num_compaction_trigger = 8 }");
    try (PersistenceRegistry reg = PersistenceRegistry.open(config)) {
      StorageBackend be = reg.backend("fast");
      assertThat(be.type()).isEqualTo(RocksDbBackendProvider.TYPE);
      assertThat(be.durability()).isEqualTo(Durability.FULL);
      assertThat(be.keyValue("k").put(b("a"), b("b"))).isEqualTo(1);
    }
  }

  @Test
  void engineGaugesAreRegisteredUnderThePrefixAndRemovedOnClose() {
    MetricRegistry metrics = new MetricRegistry();
    StorageBackend be = Rocks.open(dir, Durability.NORMAL, "", metrics, Clock.systemUTC());
    be.keyValue("k").put(b("a"), b("b"));
    String prefix = "cairn.backends.test.rocksdb.";
    assertThat(metrics.getGauges().keySet())
        .contains(
            prefix + "estimate-num-keys",
            prefix + "live-sst-files-size",
            prefix + "memtable-size",
            prefix + "block-cache-usage",
            prefix + "pending-compaction-bytes");
    assertThat((Long) metrics.getGauges().get(prefix + "estimate-num-keys").getValue())
        .isPositive();
    assertThat((Long) metrics.getGauges().get(prefix + "memtable-size").getValue()).isPositive();
    var gauge = metrics.getGauges().get(prefix + "memtable-size");
    be.close();
    assertThat(metrics.getGauges().keySet()).noneMatch(n -> n.startsWith(prefix));
    assertThat(gauge.getValue()).isEqualTo(-1L); // a stale reference never touches freed memory
  }

  @Test
  void checkpointOpensAsABackendWithTheDataAsOfOneInstant() throws IOException {
    Path target = dir.resolve("checkpoint");
    try (StorageBackend be = Rocks.open(dir.resolve("live"))) {
      be.keyValue("k").put(b("a"), b("1"));
      be.log("l").appendAll(List.of(b("x"), b("y")));
      be.snapshots("s").save(5, b("snap"));
      long[] phases = {0};
      be.checkpoint(target, (phase, done, total) -> phases[0]++);
      assertThat(phases[0]).isPositive();
      be.keyValue("k").put(b("a"), b("after"));
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(target)))
          .isEqualTo("rwx------");
      assertThatThrownBy(() -> be.checkpoint(dir.resolve("live"), Progress.NONE))
          .isInstanceOf(IllegalArgumentException.class);
    }
    try (StorageBackend copy = Rocks.open(target)) {
      assertThat(s(copy.keyValue("k").get(b("a")))).isEqualTo("1");
      assertThat(copy.log("l").nextOffset()).isEqualTo(2);
      assertThat(copy.snapshots("s").latest().orElseThrow().version()).isEqualTo(5);
      assertThat(copy.verify(Progress.NONE).healthy()).isTrue();
    }
  }

  @Test
  void dataDirectoryIs0700AndFiles0600() throws IOException {
    try (StorageBackend be = Rocks.open(dir.resolve("db"))) {
      be.keyValue("k").put(b("a"), b("1"));
    }
    Path db = dir.resolve("db");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(db)))
        .isEqualTo("rwx------");
    try (Stream<Path> files = Files.list(db)) {
      files
          .filter(Files::isRegularFile)
          .forEach(
              f -> {
                try {
                  assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f)))
                      .as(f.toString())
                      .isEqualTo("rw-------");
                } catch (IOException e) {
                  throw new AssertionError(e);
                }
              });
    }
  }

  @Test
  void compactPurgesExpiredAndCompactsWithProgress() {
    Rocks.ManualClock clock = new Rocks.ManualClock(1_000);
    try (Rocks.WithEngine w =
        Rocks.withEngine(
            dir, Durability.NORMAL, "sweeper-interval = 0s", new MetricRegistry(), clock, null)) {
      StorageBackend be = w.backend();
      KeyValueStore kv = be.keyValue("k");
      for (int i = 0; i < 100; i++) {
        kv.put(b("t" + i), b("v"), java.time.Duration.ofSeconds(1));
      }
      kv.put(b("stay"), b("v"));
      clock.advance(java.time.Duration.ofSeconds(5));
      List<String> phases = new java.util.ArrayList<>();
      be.compact((phase, done, total) -> phases.add(phase));
      // the base purges (its phases), then the engine compacts the records' column family
      assertThat(phases).contains("compact-range");
      assertThat(kv.approximateCount()).isEqualTo(1);
      assertThat(w.engine().sumProperty("rocksdb.estimate-num-keys")).isLessThan(50);
    }
  }

  // ------------------------------------------------------------------ helpers

  private static String value(int i) {
    return ("value-" + i + "-").repeat(20);
  }

  /** Writes 2000 entries and closes, so they sit in an SST file. */
  private static void populate(Path dir) {
    try (StorageBackend be =
        Rocks.open(
            dir,
            Durability.NONE,
            "advanced.compression = none",
            new MetricRegistry(),
            Clock.systemUTC())) {
      KeyValueStore kv = be.keyValue("k");
      for (int i = 0; i < 2000; i++) {
        kv.put(b("key" + i), b(value(i)));
      }
    }
  }

  private static Path largestSst(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .filter(p -> p.toString().endsWith(".sst"))
          .max(
              (a, c) -> {
                try {
                  return Long.compare(Files.size(a), Files.size(c));
                } catch (IOException e) {
                  throw new AssertionError(e);
                }
              })
          .orElseThrow(() -> new AssertionError("no SST file in " + dir));
    }
  }

  private static void flipBytesInTheMiddle(Path file) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      long len = f.length();
      for (long pos = len / 4; pos < len / 2; pos += 512) {
        f.seek(pos);
        int v = f.read();
        f.seek(pos);
        f.write(v ^ 0xFF);
      }
    }
  }

  /** Quarantine directories: {@code corrupt-<stamp>} inside the data directory. */
  private static List<Path> siblings(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().startsWith("corrupt-")).toList();
    }
  }

  /**
   * A configuration of one RocksDB backend {@code name} in {@code dataDir} with {@code settings}.
   */
  private static com.typesafe.config.Config rocksdb(String name, Object dataDir, String settings) {
    return ConfigFactory.parseString(
        "cairn.backends."
            + name
            + " { type = "
            + RocksDbBackendProvider.TYPE
            + ", data-dir = \""
            + dataDir
            + "\", "
            + settings
            + " }");
  }
}
