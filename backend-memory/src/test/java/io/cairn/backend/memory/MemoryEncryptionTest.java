package io.cairn.backend.memory;

import io.cairn.tck.EncryptionContract;

/** The TCK's EncryptionContract: values, payloads and chunks sealed and bound to their place. */
class MemoryEncryptionTest extends EncryptionContract {
  @Override
  protected String backendConfig() {
    return "type = memory";
  }
}
