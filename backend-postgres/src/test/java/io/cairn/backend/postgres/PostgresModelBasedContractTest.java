package io.cairn.backend.postgres;

import io.cairn.tck.ModelBasedContract;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(FreshSchema.class)
class PostgresModelBasedContractTest extends ModelBasedContract {
  @Override
  protected String backendConfig() {
    return FreshSchema.config("normal");
  }
}
