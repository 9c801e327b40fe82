package io.cairn.backend.sqlite;

import io.cairn.persistence.Capability;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.DataDirectory;
import io.cairn.persistence.spi.EngineBackend;
import io.cairn.persistence.spi.Settings;
import io.cairn.persistence.spi.StorageBackendProvider;

/**
 * The {@code sqlite} backend type: Cairn's embedded default. Each instance is one SQLite database
 * ({@code <data-dir>/cairn.db}, WAL mode) holding all of the instance's key-value namespaces, logs
 * and snapshot sets, opened through xerial sqlite-jdbc: the engine ({@link SqliteEngine}, records
 * in one table, schema v5) under the shared base ({@link EngineBackend}), which owns every Cairn
 * rule above it. Files of an older schema are migrated inside the open ({@link EngineSchema}).
 *
 * <p>Settings live under {@code cairn.backend-defaults.sqlite} (see this module's {@code
 * reference.conf}); {@code durability} maps to {@code PRAGMA synchronous}: {@code none} → OFF,
 * {@code normal} → NORMAL, {@code full} → FULL. Stateless and thread-safe.
 */
public final class SqliteBackendProvider implements StorageBackendProvider {

  /** The type name used in configuration. */
  public static final String TYPE = "sqlite";

  /** For ServiceLoader. */
  public SqliteBackendProvider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "SQLite (WAL, group commit) in one file per backend; the embedded default";
  }

  /** Reads every {@code sqlite} setting and reports each bad one. */
  @Override
  public void validate(Settings settings) {
    SqliteSettings.read(settings);
    DataDirectory.Options.read(settings);
  }

  /**
   * Opens the backend, creating its directory (0700) and database (0600) if needed.
   *
   * @throws io.cairn.persistence.BackendLockedException if another backend holds the directory
   * @throws io.cairn.persistence.StoreCorruptedException if the database is corrupt and {@code
   *     on-corruption = fail}
   * @throws io.cairn.persistence.StorageEngineException if the files cannot be created or opened
   */
  @Override
  public StorageBackend open(BackendContext context) {
    SqliteSettings settings =
        SqliteSettings.of(context.config(), "cairn.backends." + context.name());
    EngineBackend.warnIgnoredSweeperBatch(context, settings.deprecatedSweeperBatch());
    return EngineBackend.open(
        context, TYPE, SqliteEngine.open(context, settings), options(context, settings));
  }

  /** The options the SQLite engine gives the base. */
  static EngineBackend.Options options(BackendContext context, SqliteSettings settings) {
    return EngineBackend.Options.builder(context.durability())
        .capabilities(Capability.DURABLE, Capability.CHECKPOINT, Capability.LARGE_SNAPSHOTS)
        .snapshotChunkBytes(settings.snapshotChunkBytes())
        .description("SQLite in WAL mode, group commit")
        .sweeper(settings.sweeperInterval())
        .readOnly(DataDirectory.readOnlyRequested(context))
        .build();
  }
}
