package io.cairn.backend.postgres;

import io.cairn.tck.LogStoreContract;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(FreshSchema.class)
class PostgresLogStoreContractTest extends LogStoreContract {
  @Override
  protected String backendConfig() {
    return FreshSchema.config("normal");
  }
}
