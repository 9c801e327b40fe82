package io.cairn.bench.rocksdb;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A Cairn RocksDB backend opened through the registry exactly as a service opens it (instrumented
 * stores: a Dropwizard timer per operation), with default settings and the given durability.
 */
final class CairnRocks implements AutoCloseable {
  final Path dir;
  final PersistenceRegistry registry;
  final KeyValueStore store;

  CairnRocks(String durability) {
    try {
      dir = Files.createTempDirectory(RawRocks.benchRoot(), "cairn-rocksdb");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    registry =
        PersistenceRegistry.open(
            ConfigFactory.parseString(
                "cairn.backends.bench { type = rocksdb, durability = "
                    + durability
                    + ", data-dir = "
                    + ConfigUtil.quoteString(dir.resolve("db").toString())
                    + " }"));
    store = registry.backend("bench").keyValue("bench");
  }

  @Override
  public void close() {
    registry.close();
    RawRocks.deleteTree(dir);
  }
}
