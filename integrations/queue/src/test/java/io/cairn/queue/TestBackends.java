package io.cairn.queue;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.Capability;
import io.cairn.persistence.LifecycleListener;
import io.cairn.persistence.PersistenceRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.stream.Stream;

/** The backends every queue test runs on, and how to open a registry over one of them. */
final class TestBackends {
  /** Backend types the suite runs on. Adding a landed backend is one entry here. */
  static final List<String> TYPES = List.of("memory", "sqlite", "rocksdb");

  /**
   * The backend type with a queue shared by several processes (the shared engine on {@code
   * LeasedQueueStore}); its suites run against the embedded PostgreSQL server of the
   * backend-postgres test-jar and are skipped, with the reason, where it cannot run.
   */
  static final String SHARED = "postgres";

  /** Schemas already dropped once by this JVM, per test directory. */
  private static final java.util.Set<Path> FRESH =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  private TestBackends() {}

  /** {@link #TYPES} plus the shared-queue backend. */
  static Stream<String> typesWithShared() {
    return Stream.concat(TYPES.stream(), Stream.of(SHARED));
  }

  /** Durable types plus the shared-queue backend. */
  static Stream<String> durableTypesWithShared() {
    return Stream.concat(durableTypes(), Stream.of(SHARED));
  }

  /** The PostgreSQL schema of the test whose directory is {@code dir}. */
  static String schema(Path dir) {
    return "qt_" + Integer.toHexString(dir.toAbsolutePath().toString().hashCode());
  }

  static Stream<String> types() {
    return TYPES.stream();
  }

  /** Durable types only (for restart tests). */
  static Stream<String> durableTypes() {
    return TYPES.stream().filter(t -> !t.equals("memory"));
  }

  /** Backends the child-JVM crash loop runs on. */
  static Stream<String> crashTypes() {
    return Stream.of("sqlite", "rocksdb");
  }

  /** Backend settings: {@code durability = normal} for durable types, {@code none} for memory. */
  static String backendConf(String type) {
    return "cairn.backends.b { type = "
        + type
        + ", durability = "
        + (type.equals("memory") ? "none" : "normal")
        + " }\n";
  }

  static PersistenceRegistry open(
      String type, Path dir, Clock clock, String extra, LifecycleListener... listeners) {
    String backend = backendConf(type);
    if (type.equals(SHARED)) {
      String schema = schema(dir);
      if (FRESH.add(dir.toAbsolutePath())) {
        io.cairn.backend.postgres.PostgresTestServer.shared()
            .dropSchema(schema); // fresh per test, kept across reopens
      }
      backend =
          "cairn.backends.b { "
              + io.cairn.backend.postgres.PostgresTestServer.shared()
                  .backendConfig(schema, "normal")
              + " }\n";
    }
    PersistenceRegistry.Builder b = PersistenceRegistry.builder().clock(clock).baseDirectory(dir);
    for (LifecycleListener l : listeners) {
      b.listener(l);
    }
    PersistenceRegistry r = b.open(ConfigFactory.parseString(backend + extra));
    if (!type.equals("memory") && !r.backend("b").capabilities().contains(Capability.DURABLE)) {
      throw new AssertionError(type + " should be durable");
    }
    return r;
  }
}
