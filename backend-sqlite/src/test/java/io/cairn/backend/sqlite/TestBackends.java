package io.cairn.backend.sqlite;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.SnapshotStore;
import io.cairn.persistence.StorageBackend;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/** Opens SQLite backends for tests through the real registry path. */
final class TestBackends {
  private TestBackends() {}

  /** The provider type these tests open. */
  static final String TYPE = SqliteBackendProvider.TYPE;

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
   * Opens the backend directly (not through the registry), for tests that reach into the engine's
   * writer connection. {@code body} is HOCON of the instance's settings.
   */
  static Direct direct(Path dir, String body, io.cairn.persistence.Durability durability) {
    com.typesafe.config.Config config =
        ConfigFactory.parseString(body)
            .withFallback(ConfigFactory.load().getConfig("cairn.backend-defaults.sqlite"));
    return Direct.open(
        io.cairn.persistence.spi.BackendContext.builder("main", SqliteBackendProvider.TYPE)
            .config(config)
            .dataDir(dir)
            .durability(durability)
            .build());
  }

  /**
   * The backend as {@link SqliteBackendProvider} opens it (the engine on the shared base), with its
   * engine at hand: the writer and the background check for tests.
   */
  record Direct(StorageBackend backend, SqliteEngine engine) implements AutoCloseable {
    static Direct open(io.cairn.persistence.spi.BackendContext ctx) {
      SqliteSettings settings = SqliteSettings.of(ctx.config(), "cairn.backends." + ctx.name());
      SqliteEngine engine = SqliteEngine.open(ctx, settings);
      return new Direct(
          io.cairn.persistence.spi.EngineBackend.open(
              ctx,
              SqliteBackendProvider.TYPE,
              engine,
              SqliteBackendProvider.options(ctx, settings)),
          engine);
    }

    KeyValueStore keyValue(String name) {
      return backend.keyValue(name);
    }

    LogStore log(String name) {
      return backend.log(name);
    }

    SnapshotStore snapshots(String name) {
      return backend.snapshots(name);
    }

    com.codahale.metrics.health.HealthCheck.Result health() {
      return backend.health();
    }

    io.cairn.persistence.VerifyReport verify(io.cairn.persistence.Progress progress) {
      return backend.verify(progress);
    }

    Writer writer() {
      return engine.writer();
    }

    BackgroundCheck backgroundCheck() {
      return engine.backgroundCheck();
    }

    @Override
    public void close() {
      backend.close();
    }
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
