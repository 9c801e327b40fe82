package io.cairn.backend.rocksdb;

import io.cairn.persistence.Durability;
import io.cairn.tck.BackendTck;
import io.cairn.tck.TckDurabilities;

/**
 * The whole TCK on the RocksDB engine over the shared base (test type {@code rocksdb-base}, issue
 * 12 port) at each durability RocksDB accepts. Becomes {@code RocksDbTckTest} at the provider
 * switch.
 */
@TckDurabilities({Durability.NONE, Durability.NORMAL, Durability.FULL})
class RocksBaseTckTest extends BackendTck {
  @Override
  protected String backendConfig(Durability durability) {
    return "type = " + RocksBaseProvider.TYPE + ", durability = " + durability.configName();
  }
}
