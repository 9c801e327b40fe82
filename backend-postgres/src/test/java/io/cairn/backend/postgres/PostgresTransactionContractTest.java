package io.cairn.backend.postgres;

import io.cairn.tck.TransactionContract;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(FreshSchema.class)
class PostgresTransactionContractTest extends TransactionContract {
  @Override
  protected String backendConfig() {
    return FreshSchema.config("normal");
  }
}
