package io.cairn.backend.postgres;

import io.cairn.tck.ConcurrencyContract;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(FreshSchema.class)
class PostgresConcurrencyContractTest extends ConcurrencyContract {
  @Override
  protected String backendConfig() {
    return FreshSchema.config("normal");
  }
}
