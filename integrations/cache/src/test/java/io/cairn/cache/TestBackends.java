package io.cairn.cache;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.LifecycleListener;
import io.cairn.persistence.PersistenceRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.stream.Stream;

/** The backends every cache test runs on, and how to open a registry over one of them. */
final class TestBackends {
  /**
   * Backend types the suite runs on. Adding a landed backend is one entry here. PostgreSQL (a
   * schema of its own per test directory on the test server) only with {@code
   * -Dcache.postgres=true}: it multiplies the suite's time, and the multi-instance behaviour has
   * its own test (CacheMultiInstanceTest) that always runs.
   */
  static final List<String> TYPES =
      Boolean.getBoolean("cache.postgres")
          ? List.of("memory", "sqlite", "rocksdb", "postgres")
          : List.of("memory", "sqlite", "rocksdb");

  private static final java.util.Map<Path, String> PG_SCHEMAS =
      new java.util.concurrent.ConcurrentHashMap<>();

  private TestBackends() {}

  static Stream<String> types() {
    return TYPES.stream();
  }

  /**
   * {@link #types()} plus PostgreSQL whatever the flag says: the cache's behaviour suites
   * (TieredCacheTest, TagInvalidationTest, CacheRestartTest) always run on the test server too; the
   * bound, stress and interleaving suites only with the flag.
   */
  static Stream<String> typesWithPostgres() {
    return TYPES.contains("postgres")
        ? TYPES.stream()
        : Stream.concat(TYPES.stream(), Stream.of("postgres"));
  }

  /** {@link #durableTypes()} plus PostgreSQL whatever the flag says (see above). */
  static Stream<String> durableTypesWithPostgres() {
    return typesWithPostgres().filter(t -> !t.equals("memory"));
  }

  static Stream<String> durableTypes() {
    return TYPES.stream().filter(t -> !t.equals("memory"));
  }

  static String backendConf(String type) {
    return "cairn.backends.b { type = "
        + type
        + ", durability = "
        + (type.equals("memory") || type.equals("flaky") ? "none" : "normal")
        + " }\n";
  }

  /** The value codec's bytes of the cache entry stored under {@code key}, or null. */
  static byte[] storedValue(io.cairn.persistence.KeyValueStore store, byte[] key) {
    byte[] v = store.get(key);
    return v == null ? null : StoredValue.decode(v).value();
  }

  static PersistenceRegistry open(
      String type, Path dir, Clock clock, String extra, LifecycleListener... listeners) {
    PersistenceRegistry.Builder b = PersistenceRegistry.builder().clock(clock).baseDirectory(dir);
    for (LifecycleListener l : listeners) {
      b.listener(l);
    }
    String conf = backendConf(type);
    if (type.equals("postgres")) {
      String schema =
          PG_SCHEMAS.computeIfAbsent(
              dir,
              d -> {
                String name =
                    "cache_" + PG_SCHEMAS.size() + "_" + Long.toHexString(System.nanoTime());
                io.cairn.backend.postgres.PostgresTestServer.shared().dropSchema(name);
                return name;
              });
      conf =
          "cairn.backends.b { "
              + io.cairn.backend.postgres.PostgresTestServer.shared()
                  .backendConfig(schema, "normal")
              + " }\n";
    }
    return b.open(ConfigFactory.parseString(conf + extra));
  }
}
