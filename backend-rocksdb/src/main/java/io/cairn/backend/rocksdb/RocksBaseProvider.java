package io.cairn.backend.rocksdb;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.Capability;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.DataDirectory;
import io.cairn.persistence.spi.EngineBackend;
import io.cairn.persistence.spi.Settings;
import io.cairn.persistence.spi.StorageBackendProvider;
import java.util.ArrayList;

/**
 * Provider type {@code rocksdb-base}, for the port of issue 12 only: the RocksDB engine ({@link
 * RocksStorageEngine}, layout 3) on the shared base ({@link EngineBackend}), while type {@code
 * rocksdb} still opens the layout-2 backend. Deliberately NOT registered in this jar's {@code
 * META-INF/services}: only this module's tests and the benchmarks register it, so no user can
 * configure it. Its settings are those of {@code rocksdb} (same validation, same defaults: {@code
 * cairn.backend-defaults.rocksdb}). At the provider switch this class goes and {@link
 * RocksDbBackendProvider} opens exactly what {@link #open(BackendContext, String)} opens.
 */
public final class RocksBaseProvider implements StorageBackendProvider {
  /** The type name, for tests and benchmarks. */
  public static final String TYPE = "rocksdb-base";

  /** For ServiceLoader. */
  public RocksBaseProvider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "RocksDB engine on the shared base (test-only, issue 12 port)";
  }

  @Override
  public void validate(Settings settings) {
    RocksDbConfig.read(settings);
    DataDirectory.Options.read(settings);
  }

  @Override
  public StorageBackend open(BackendContext context) {
    return open(context, TYPE);
  }

  /** The engine on the base, as provider type {@code type}. */
  public static StorageBackend open(BackendContext context, String type) {
    RocksDbConfig config = config(context);
    return EngineBackend.open(
        context, type, RocksStorageEngine.open(context, config), options(context, config));
  }

  /**
   * The context's settings over {@code cairn.backend-defaults.rocksdb} (a context built by hand may
   * lack the defaults, as in {@link RocksDbBackendProvider#open}); throws naming every bad one.
   */
  static RocksDbConfig config(BackendContext context) {
    Config merged =
        context
            .config()
            .withFallback(
                ConfigFactory.defaultReference(RocksBaseProvider.class.getClassLoader())
                    .getConfig("cairn.backend-defaults.rocksdb"));
    Settings s = new Settings(merged, "cairn.backends." + context.name(), new ArrayList<>());
    RocksDbConfig config = RocksDbConfig.read(s);
    Settings.throwIfAny(s.problems());
    return config;
  }

  /** The options the RocksDB engine gives the base. */
  static EngineBackend.Options options(BackendContext context, RocksDbConfig config) {
    boolean readOnly = DataDirectory.readOnlyRequested(context);
    EngineBackend.Options.Builder b =
        EngineBackend.Options.builder(context.durability())
            .capabilities(Capability.DURABLE, Capability.LARGE_SNAPSHOTS)
            .snapshotChunkBytes(config.snapshotChunkSize())
            .description("RocksDB, layout " + RocksStorageEngine.LAYOUT_VERSION)
            .sweeper(config.sweeperInterval())
            .readOnly(readOnly);
    if (!readOnly) {
      b.capabilities(Capability.CHECKPOINT); // a checkpoint needs the owning handle
    }
    return b.build();
  }
}
