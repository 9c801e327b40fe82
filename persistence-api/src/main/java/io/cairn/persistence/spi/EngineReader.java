package io.cairn.persistence.spi;

import io.cairn.persistence.StoreId;
import java.util.List;

/**
 * What the base stores' read code reads from: the engine's current state (every store read) or one
 * {@link StorageEngine.Snapshot} (the reads of a read transaction). One read path serves both, so a
 * rule of reading (framing, expiry, gap checks, opening sealed values) is written once.
 */
interface EngineReader {
  /** As {@link StorageEngine#get}. */
  byte[] get(StoreId store, byte[] key);

  /** As {@link StorageEngine#range}. */
  List<StorageEngine.Record> range(
      StoreId store, byte[] fromInclusive, byte[] toExclusive, int limit);

  /** Reads of the engine's current state. */
  static EngineReader of(StorageEngine engine) {
    return new EngineReader() {
      @Override
      public byte[] get(StoreId store, byte[] key) {
        return engine.get(store, key);
      }

      @Override
      public List<StorageEngine.Record> range(StoreId store, byte[] from, byte[] to, int limit) {
        return engine.range(store, from, to, limit);
      }
    };
  }

  /** Reads of {@code snapshot}. */
  static EngineReader of(StorageEngine.Snapshot snapshot) {
    return new EngineReader() {
      @Override
      public byte[] get(StoreId store, byte[] key) {
        return snapshot.get(store, key);
      }

      @Override
      public List<StorageEngine.Record> range(StoreId store, byte[] from, byte[] to, int limit) {
        return snapshot.range(store, from, to, limit);
      }
    };
  }
}
