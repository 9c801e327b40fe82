package io.cairn.backend.postgres;

import io.cairn.tck.KeyValueStoreContract;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(FreshSchema.class)
class PostgresKeyValueStoreContractTest extends KeyValueStoreContract {
  @Override
  protected String backendConfig() {
    return FreshSchema.config("normal");
  }
}
