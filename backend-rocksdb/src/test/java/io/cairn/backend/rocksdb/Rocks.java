package io.cairn.backend.rocksdb;

import com.codahale.metrics.MetricRegistry;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.Durability;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.spi.BackendContext;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

/** Opens RocksDB backends for tests the way the registry would. */
final class Rocks {
  private Rocks() {}

  static StorageBackend open(Path dir) {
    return open(dir, Durability.NORMAL, "", new MetricRegistry(), Clock.systemUTC());
  }

  static StorageBackend open(Path dir, String hocon) {
    return open(dir, Durability.NORMAL, hocon, new MetricRegistry(), Clock.systemUTC());
  }

  static StorageBackend open(
      Path dir, Durability durability, String hocon, MetricRegistry metrics, Clock clock) {
    return new RocksDbBackendProvider()
        .open(
            BackendContext.builder("test", RocksDbBackendProvider.TYPE)
                .dataDir(dir)
                .durability(durability)
                .config(ConfigFactory.parseString(hocon))
                .metrics(metrics)
                .clock(clock)
                .build());
  }

  /** A backend of type rocksdb and the engine under it, for tests that look at the raw records. */
  record WithEngine(StorageBackend backend, RocksStorageEngine engine) implements AutoCloseable {
    @Override
    public void close() {
      backend.close();
    }

    /**
     * Every raw value of the user's stores in column family records: key-value entries, log records
     * (not positions) and snapshot chunks (not manifests); the base's own stores skipped.
     */
    List<byte[]> userValues() throws org.rocksdb.RocksDBException {
      List<byte[]> out = new java.util.ArrayList<>();
      try (var it = engine.db.newIterator(engine.records())) {
        for (it.seekToFirst(); it.isValid(); it.next()) {
          byte[] k = it.key();
          int p = EngineKeys.prefixLength(k, "test");
          io.cairn.persistence.StoreId id = EngineKeys.store(k, "test");
          boolean own = id.name().startsWith("_");
          boolean position = id.kind() == io.cairn.persistence.StoreKind.LOG && k.length == p;
          boolean manifest =
              id.kind() == io.cairn.persistence.StoreKind.SNAPSHOT && k[p] == (byte) 'M';
          if (!own && !position && !manifest) {
            out.add(it.value());
          }
        }
        it.status();
      }
      return out;
    }
  }

  /** As {@link #open(Path, Durability, String, MetricRegistry, Clock)}, keeping the engine. */
  static WithEngine withEngine(
      Path dir,
      Durability durability,
      String hocon,
      MetricRegistry metrics,
      Clock clock,
      io.cairn.persistence.spi.Encryption encryption) {
    BackendContext.Builder b =
        BackendContext.builder("test", RocksDbBackendProvider.TYPE)
            .dataDir(dir)
            .durability(durability)
            .config(ConfigFactory.parseString(hocon))
            .metrics(metrics)
            .clock(clock);
    if (encryption != null) {
      b.encryption(encryption);
    }
    BackendContext ctx = b.build();
    RocksDbConfig config = RocksDbBackendProvider.config(ctx);
    RocksStorageEngine engine = RocksStorageEngine.open(ctx, config);
    return new WithEngine(
        io.cairn.persistence.spi.EngineBackend.open(
            ctx, RocksDbBackendProvider.TYPE, engine, RocksDbBackendProvider.options(ctx, config)),
        engine);
  }

  static WithEngine withEngine(Path dir, String hocon) {
    return withEngine(dir, Durability.NORMAL, hocon, new MetricRegistry(), Clock.systemUTC(), null);
  }

  /** The family {@code engine} reads the record of raw key {@code rocksKey} from. */
  static org.rocksdb.ColumnFamilyHandle familyOf(RocksStorageEngine engine, byte[] rocksKey) {
    int p = EngineKeys.prefixLength(rocksKey, "test");
    return engine.familyOf(
        EngineKeys.store(rocksKey, "test"),
        java.util.Arrays.copyOfRange(rocksKey, p, rocksKey.length));
  }

  /** A copy of fixture directory {@code name} (src/test/resources/fixtures) in {@code dir}. */
  static void copyFixture(String name, Path dir) throws java.io.IOException {
    java.net.URL url = Rocks.class.getResource("/fixtures/" + name);
    if (url == null) {
      throw new IllegalStateException("fixture " + name + " is not on the test class path");
    }
    Path from;
    try {
      from = Path.of(url.toURI());
    } catch (java.net.URISyntaxException e) {
      throw new IllegalStateException(e);
    }
    java.nio.file.Files.createDirectories(dir);
    try (var files = java.nio.file.Files.list(from)) {
      for (Path f : files.toList()) {
        java.nio.file.Files.copy(f, dir.resolve(f.getFileName()));
      }
    }
  }

  /** The column families of the RocksDB database in {@code dir}. */
  static List<String> families(Path dir) throws org.rocksdb.RocksDBException {
    try (org.rocksdb.Options o = new org.rocksdb.Options()) {
      List<String> out = new java.util.ArrayList<>();
      for (byte[] cf : org.rocksdb.RocksDB.listColumnFamilies(o, dir.toString())) {
        out.add(new String(cf, java.nio.charset.StandardCharsets.UTF_8));
      }
      return out;
    }
  }

  /** Whether a raw key (hex) is one of the base's bookkeeping records (the spi's rule). */
  static boolean bookkeeping(String hexKey) {
    byte[] k = java.util.HexFormat.of().parseHex(hexKey);
    int p = EngineKeys.prefixLength(k, "test");
    return io.cairn.persistence.spi.EngineRecords.isBookkeeping(
        EngineKeys.store(k, "test"), java.util.Arrays.copyOfRange(k, p, k.length));
  }

  static byte[] b(String s) {
    return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  static String s(byte[] b) {
    return new String(b, java.nio.charset.StandardCharsets.UTF_8);
  }

  /** A clock tests move by hand. */
  static final class ManualClock extends Clock {
    private volatile long millis;

    ManualClock(long millis) {
      this.millis = millis;
    }

    void advance(Duration d) {
      millis += d.toMillis();
    }

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public long millis() {
      return millis;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis);
    }
  }
}
