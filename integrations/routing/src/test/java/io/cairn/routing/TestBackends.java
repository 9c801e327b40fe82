package io.cairn.routing;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.cairn.backend.postgres.PostgresTestServer;
import io.cairn.persistence.PersistenceRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;

/**
 * The backends every routing test runs on, and how to open a registry over each. Adding a backend
 * to the suites is one entry in {@link #CONFIGS} plus its name in the suites' {@code @ValueSource}.
 */
final class TestBackends {
  static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);

  /** Backend entry for {@code cairn.backends.main} per type. */
  static final Map<String, String> CONFIGS =
      Map.of(
          "memory", "{ type = memory, durability = none }",
          "sqlite", "{ type = sqlite, durability = normal }",
          "rocksdb", "{ type = rocksdb, durability = normal }");

  private TestBackends() {}

  /** Whether data survives closing the registry (memory does not). */
  static boolean durable(String type) {
    return !type.equals("memory");
  }

  /** Schema placeholder of a postgres config, replaced per test directory by {@link #open}. */
  private static final String PG_PENDING = "pending_schema";

  private static final Map<Path, String> PG_SCHEMAS =
      new java.util.concurrent.ConcurrentHashMap<>();

  static Config config(String type, String extra) {
    String backend =
        type.equals("postgres")
            ? "{ " + PostgresTestServer.shared().backendConfig(PG_PENDING, "normal") + " }"
            : CONFIGS.get(type);
    if (backend == null) {
      throw new IllegalArgumentException("No test configuration for backend type " + type);
    }
    return ConfigFactory.parseString("cairn.backends.main = " + backend + "\n" + extra);
  }

  /**
   * Opens a registry over {@code config}; a postgres backend gets a schema of its own per test
   * directory (fresh at first use, the same one when the test reopens), like a data directory.
   */
  static PersistenceRegistry open(Path dir, Config config) {
    String at = "cairn.backends.main.schema";
    if (config.hasPath(at) && config.getString(at).equals(PG_PENDING)) {
      String schema =
          PG_SCHEMAS.computeIfAbsent(
              dir,
              d -> {
                String s = "rt_" + PG_SCHEMAS.size() + "_" + Long.toHexString(System.nanoTime());
                PostgresTestServer.shared().dropSchema(s);
                return s;
              });
      config = config.withValue(at, com.typesafe.config.ConfigValueFactory.fromAnyRef(schema));
    }
    return PersistenceRegistry.builder().clock(CLOCK).baseDirectory(dir).open(config);
  }
}
