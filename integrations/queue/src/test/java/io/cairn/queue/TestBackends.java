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
  static final List<String> TYPES = List.of("memory", "sqlite");

  private TestBackends() {}

  static Stream<String> types() {
    return TYPES.stream();
  }

  /** Durable types only (for restart tests). */
  static Stream<String> durableTypes() {
    return TYPES.stream().filter(t -> !t.equals("memory"));
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
    PersistenceRegistry.Builder b = PersistenceRegistry.builder().clock(clock).baseDirectory(dir);
    for (LifecycleListener l : listeners) {
      b.listener(l);
    }
    PersistenceRegistry r = b.open(ConfigFactory.parseString(backendConf(type) + extra));
    if (!type.equals("memory") && !r.backend("b").capabilities().contains(Capability.DURABLE)) {
      throw new AssertionError(type + " should be durable");
    }
    return r;
  }
}
