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
 * Provider of {@code type = rocksdb}: an embedded RocksDB database per backend, with bounded native
 * memory ({@code memory-budget}), {@code durability} mapped onto the WAL ({@code none} = WAL off,
 * {@code normal} = WAL without fsync, {@code full} = WAL fsynced per write, grouped by RocksDB
 * across concurrent writers) and online checkpoints. The engine ({@link RocksStorageEngine}, layout
 * 3: every record in one column family) runs under the shared base ({@link EngineBackend}), which
 * owns every Cairn rule above it; a directory of layout 1 or 2 is migrated inside the open ({@link
 * Layout2Migration}). Settings are documented in this module's {@code reference.conf} under {@code
 * cairn.backend-defaults.rocksdb}.
 *
 * <p>Stateless and thread-safe, as the SPI requires. Registered through {@code META-INF/services}.
 */
public final class RocksDbBackendProvider implements StorageBackendProvider {

  /** The configuration type name. */
  public static final String TYPE = "rocksdb";

  /** Public no-argument constructor for ServiceLoader. */
  public RocksDbBackendProvider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "rocksdb - embedded RocksDB (LSM tree): fast writes, bounded memory, online checkpoints";
  }

  /** Reads every RocksDB setting eagerly and records one problem per bad one. */
  @Override
  public void validate(Settings settings) {
    RocksDbConfig.read(settings);
    DataDirectory.Options.read(settings);
  }

  /**
   * Opens or creates the database in {@code context.dataDir()}, migrating an older layout first.
   *
   * @throws io.cairn.persistence.BackendLockedException if another instance holds the directory
   * @throws io.cairn.persistence.StoreCorruptedException on corruption with {@code on-corruption =
   *     fail}
   * @throws io.cairn.persistence.ConfigurationException if the settings are invalid
   */
  @Override
  public StorageBackend open(BackendContext context) {
    RocksDbConfig config = config(context);
    EngineBackend.warnIgnoredSweeperBatch(context, config.deprecatedSweeperBatch());
    return EngineBackend.open(
        context, TYPE, RocksStorageEngine.open(context, config), options(context, config));
  }

  /**
   * The context's settings over {@code cairn.backend-defaults.rocksdb} (the registry hands over the
   * merged config; a context built by hand may lack the defaults); throws naming every bad one.
   */
  static RocksDbConfig config(BackendContext context) {
    Config merged =
        context
            .config()
            .withFallback(
                ConfigFactory.defaultReference(RocksDbBackendProvider.class.getClassLoader())
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
