package io.cairn.backend.postgres;

import io.cairn.tck.SnapshotStoreContract;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(FreshSchema.class)
class PostgresSnapshotStoreContractTest extends SnapshotStoreContract {
  @Override
  protected String backendConfig() {
    return FreshSchema.config("normal");
  }
}
