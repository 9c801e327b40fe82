package io.cairn.bench.rocksdb;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import io.cairn.backend.rocksdb.RocksDbBackendProvider;
import io.cairn.persistence.Durability;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.spi.BackendContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A Cairn RocksDB backend with default settings and the given durability: either through the
 * registry exactly as a service opens it (instrumented stores: a Dropwizard timer per operation),
 * or bare through its provider, to separate the backend's own cost from the metrics'.
 */
final class CairnRocks implements AutoCloseable {
  /**
   * System property: more settings for the backend entry opened through the registry, in HOCON,
   * e.g. {@code -Dcairn.bench.rocksdb.settings='advanced.db-options { enable_pipelined_write = true
   * }'}: for trying a RocksDB option on Cairn in the benchmark of record before making it a
   * default. Empty by default (Cairn's defaults).
   */
  static final String EXTRA = "cairn.bench.rocksdb.settings";

  final Path dir;
  private final AutoCloseable owner;
  final KeyValueStore store;

  CairnRocks(String durability, boolean instrumented) {
    String type = RocksDbBackendProvider.TYPE;
    try {
      dir = Files.createTempDirectory(RawRocks.benchRoot(), "cairn-rocksdb");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (instrumented) {
      PersistenceRegistry registry =
          PersistenceRegistry.open(
              ConfigFactory.parseString(
                  "cairn.backends.bench { type = "
                      + type
                      + ", durability = "
                      + durability
                      + ", data-dir = "
                      + ConfigUtil.quoteString(dir.resolve("db").toString())
                      + ", "
                      + System.getProperty(EXTRA, "")
                      + " }"));
      owner = registry;
      store = registry.backend("bench").keyValue("bench");
    } else {
      BackendContext context =
          BackendContext.builder("bench", type)
              .dataDir(dir.resolve("db"))
              .durability(Durability.valueOf(durability.toUpperCase(Locale.ROOT)))
              .build();
      StorageBackend backend = new RocksDbBackendProvider().open(context);
      owner = backend;
      store = backend.keyValue("bench");
    }
  }

  @Override
  public void close() {
    try {
      owner.close();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    RawRocks.deleteTree(dir);
  }
}
