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

/** Opens RocksDB backends for tests the way the registry would. */
final class Rocks {
  private Rocks() {}

  /**
   * The provider type the layout-2 backend's tests open: {@code rocksdb} unless the system property
   * {@code cairn.test.rocksdb-type} says {@code rocksdb-base} (issue 12 port: the same tests on the
   * engine over the shared base; see /work/notes/rocksport-status.md for which pass).
   */
  static final String TYPE = System.getProperty("cairn.test.rocksdb-type", "rocksdb");

  /** The provider of {@link #TYPE}. */
  static io.cairn.persistence.spi.StorageBackendProvider provider() {
    return TYPE.equals(RocksBaseProvider.TYPE)
        ? new RocksBaseProvider()
        : new RocksDbBackendProvider();
  }

  static StorageBackend open(Path dir) {
    return open(dir, Durability.NORMAL, "", new MetricRegistry(), Clock.systemUTC());
  }

  static StorageBackend open(Path dir, String hocon) {
    return open(dir, Durability.NORMAL, hocon, new MetricRegistry(), Clock.systemUTC());
  }

  static StorageBackend open(
      Path dir, Durability durability, String hocon, MetricRegistry metrics, Clock clock) {
    return open(dir, durability, hocon, metrics, clock, TYPE);
  }

  /** As the registry would open type {@code type} ({@code rocksdb} or {@code rocksdb-base}). */
  static StorageBackend open(
      Path dir,
      Durability durability,
      String hocon,
      MetricRegistry metrics,
      Clock clock,
      String type) {
    io.cairn.persistence.spi.StorageBackendProvider provider =
        type.equals(RocksBaseProvider.TYPE)
            ? new RocksBaseProvider()
            : new RocksDbBackendProvider();
    return provider.open(
        BackendContext.builder("test", type)
            .dataDir(dir)
            .durability(durability)
            .config(ConfigFactory.parseString(hocon))
            .metrics(metrics)
            .clock(clock)
            .build());
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
