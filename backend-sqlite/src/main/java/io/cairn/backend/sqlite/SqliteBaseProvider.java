package io.cairn.backend.sqlite;

import io.cairn.persistence.Capability;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.DataDirectory;
import io.cairn.persistence.spi.EngineBackend;
import io.cairn.persistence.spi.Settings;
import io.cairn.persistence.spi.StorageBackendProvider;

/**
 * Provider type {@code sqlite-base}, for the port of issue 12 only: the SQLite engine ({@link
 * SqliteEngine}) on the shared base ({@link EngineBackend}), while type {@code sqlite} still opens
 * the old backend. Deliberately NOT registered in this jar's {@code META-INF/services}: only this
 * module's tests and the benchmarks register it (with a copy of {@code
 * cairn.backend-defaults.sqlite} as its defaults), so no user can configure it. At the provider
 * switch this class goes and {@link SqliteBackendProvider} opens exactly what {@link #open(
 * BackendContext, String)} opens.
 */
public final class SqliteBaseProvider implements StorageBackendProvider {
  /** The type name, for tests and benchmarks. */
  public static final String TYPE = "sqlite-base";

  /** For ServiceLoader. */
  public SqliteBaseProvider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "SQLite engine on the shared base (test-only, issue 12 port)";
  }

  @Override
  public void validate(Settings settings) {
    SqliteSettings.read(settings);
    DataDirectory.Options.read(settings);
  }

  @Override
  public StorageBackend open(BackendContext context) {
    return open(context, TYPE);
  }

  /** The engine on the base, as provider type {@code type}. */
  public static StorageBackend open(BackendContext context, String type) {
    SqliteSettings settings =
        SqliteSettings.of(context.config(), "cairn.backends." + context.name());
    return EngineBackend.open(
        context, type, SqliteEngine.open(context, settings), options(context, settings));
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
