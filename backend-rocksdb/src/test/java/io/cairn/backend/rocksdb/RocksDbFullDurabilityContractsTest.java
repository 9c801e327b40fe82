package io.cairn.backend.rocksdb;

import io.cairn.tck.RestartContract;
import io.cairn.tck.TransactionContract;
import org.junit.jupiter.api.Nested;

/**
 * The transaction and restart contracts again at {@code durability = full}, where {@code
 * inTransactionDeferred} writes without the WAL sync and {@code syncCommitted} syncs the WAL (the
 * other suites run at {@code normal}, where both are plain commits).
 */
class RocksDbFullDurabilityContractsTest {
  @Nested
  class Transactions extends TransactionContract {
    @Override
    protected String backendConfig() {
      return "type = rocksdb, durability = full";
    }
  }

  @Nested
  class Restart extends RestartContract {
    @Override
    protected String backendConfig() {
      return "type = rocksdb, durability = full";
    }
  }
}
