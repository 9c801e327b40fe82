package io.cairn.backend.sqlite;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.PersistenceRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/** Opens SQLite backends for tests through the real registry path. */
final class TestBackends {
  private TestBackends() {}

  /**
   * The provider type these tests open: {@code sqlite}, or what {@code
   * -Dcairn.test.sqlite-type=sqlite-base} names, to run the backend's own tests against the engine
   * on the shared base while the port of issue 12 is under way (see /work/notes/sqport-status.md).
   */
  static final String TYPE =
      System.getProperty("cairn.test.sqlite-type", SqliteBackendProvider.TYPE);

  static PersistenceRegistry open(Path dir, String body) {
    return open(dir, body, Clock.systemUTC());
  }

  static PersistenceRegistry open(Path dir, String body, Clock clock) {
    String conf =
        "cairn.backends.main { type = "
            + TYPE
            + ", data-dir = \""
            + dir.toString().replace("\\", "\\\\")
            + "\", "
            + body
            + " }";
    return PersistenceRegistry.builder().clock(clock).open(ConfigFactory.parseString(conf));
  }

  /**
   * Opens a {@link SqliteBackend} directly (not through the registry), for tests that reach into
   * the writer connection. {@code body} is HOCON of the instance's settings.
   */
  static SqliteBackend direct(Path dir, String body, io.cairn.persistence.Durability durability) {
    com.typesafe.config.Config config =
        ConfigFactory.parseString(body)
            .withFallback(ConfigFactory.load().getConfig("cairn.backend-defaults.sqlite"));
    return SqliteBackend.open(
        io.cairn.persistence.spi.BackendContext.builder("main", "sqlite")
            .config(config)
            .dataDir(dir)
            .durability(durability)
            .build());
  }

  /** A clock tests move by hand. */
  static final class ManualClock extends Clock {
    private final AtomicLong millis = new AtomicLong(1_700_000_000_000L);

    void advance(long ms) {
      millis.addAndGet(ms);
    }

    @Override
    public long millis() {
      return millis.get();
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis.get());
    }

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }
}
