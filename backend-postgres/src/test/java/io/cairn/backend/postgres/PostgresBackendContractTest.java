package io.cairn.backend.postgres;

import io.cairn.tck.BackendContract;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(FreshSchema.class)
class PostgresBackendContractTest extends BackendContract {
  @Override
  protected String backendConfig() {
    return FreshSchema.config("normal");
  }
}
