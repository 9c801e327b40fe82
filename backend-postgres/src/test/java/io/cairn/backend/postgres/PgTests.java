package io.cairn.backend.postgres;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.PersistenceRegistry;
import java.nio.file.Path;
import java.time.Clock;

/** Opening registries on the test server, for this module's own tests. */
final class PgTests {
  private PgTests() {}

  /** A registry with backend {@code pg} on {@code schema}, plus {@code extra} in the entry. */
  static PersistenceRegistry open(String schema, String durability, String extra, Clock clock) {
    String hocon =
        "cairn.backends.pg { "
            + TestPostgres.shared().backendConfig(schema, durability)
            + "\n"
            + extra
            + " }";
    PersistenceRegistry.Builder b =
        PersistenceRegistry.builder().baseDirectory(Path.of(System.getProperty("java.io.tmpdir")));
    if (clock != null) {
      b.clock(clock);
    }
    return b.open(ConfigFactory.parseString(hocon));
  }

  static PersistenceRegistry open(String schema, String extra) {
    return open(schema, "normal", extra, null);
  }
}
