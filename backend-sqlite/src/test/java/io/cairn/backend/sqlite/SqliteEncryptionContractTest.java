package io.cairn.backend.sqlite;

import io.cairn.tck.EncryptionContract;

/** The TCK's EncryptionContract: values, payloads and chunks sealed and bound to their place. */
class SqliteEncryptionContractTest extends EncryptionContract {
  @Override
  protected String backendConfig() {
    return "type = sqlite, durability = normal";
  }
}
