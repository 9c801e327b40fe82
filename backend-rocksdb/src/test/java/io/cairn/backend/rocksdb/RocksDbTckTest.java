package io.cairn.backend.rocksdb;

import io.cairn.persistence.Durability;
import io.cairn.tck.BackendTck;
import io.cairn.tck.TckDurabilities;

/** The whole TCK on RocksDB at each durability it accepts. */
@TckDurabilities({Durability.NONE, Durability.NORMAL, Durability.FULL})
class RocksDbTckTest extends BackendTck {
  @Override
  protected String backendConfig(Durability durability) {
    return "type = rocksdb, durability = " + durability.configName();
  }
}
