package io.cairn.backend.postgres;

import io.cairn.tck.RestartContract;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(FreshSchema.class)
class PostgresRestartContractTest extends RestartContract {
  @Override
  protected String backendConfig() {
    return FreshSchema.config("full");
  }
}
