package io.cairn.routing;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
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

  static Config config(String type, String extra) {
    String backend = CONFIGS.get(type);
    if (backend == null) {
      throw new IllegalArgumentException("No test configuration for backend type " + type);
    }
    return ConfigFactory.parseString("cairn.backends.main = " + backend + "\n" + extra);
  }

  static PersistenceRegistry open(Path dir, Config config) {
    return PersistenceRegistry.builder().clock(CLOCK).baseDirectory(dir).open(config);
  }
}
