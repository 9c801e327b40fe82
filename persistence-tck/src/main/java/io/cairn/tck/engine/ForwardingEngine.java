package io.cairn.tck.engine;

import io.cairn.persistence.Durability;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.spi.StorageEngine;
import java.util.List;
import java.util.Objects;
import java.util.SortedSet;

/**
 * A {@link StorageEngine} that passes every call to another, for the engine contracts' probes: a
 * probe overrides the calls it watches or changes (counting reads, dropping the base's own records,
 * failing or pausing a write) and inherits the rest. Optional engine methods not overridden here
 * keep their defaults (no snapshots, no checkpoint), which the contracts using it do not need.
 */
abstract class ForwardingEngine implements StorageEngine {
  /** The engine every call goes to. */
  final StorageEngine engine;

  ForwardingEngine(StorageEngine engine) {
    this.engine = Objects.requireNonNull(engine, "engine");
  }

  @Override
  public byte[] get(StoreId store, byte[] key) {
    return engine.get(store, key);
  }

  @Override
  public List<Record> range(StoreId store, byte[] from, byte[] to, int limit) {
    return engine.range(store, from, to, limit);
  }

  @Override
  public void write(List<Write> batch, Durability durability) {
    engine.write(batch, durability);
  }

  @Override
  public boolean concurrentWrites() {
    return engine.concurrentWrites();
  }

  @Override
  public SortedSet<StoreId> stores() {
    return engine.stores();
  }

  @Override
  public boolean checksumsRecords() {
    return engine.checksumsRecords();
  }

  @Override
  public void close() {
    engine.close();
  }
}
