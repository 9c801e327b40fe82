package io.cairn.backend.sqlite;

import io.cairn.tck.ModelBasedContract;

/**
 * The model-based suite with a writer version cache of about two entries, so nearly every write
 * evicts and most take the read-modify-write path: versions must be identical either way.
 */
class SqliteTinyVersionCacheModelTest extends ModelBasedContract {
  @Override
  protected String backendConfig() {
    return "type = sqlite, durability = normal, version-cache-size = 250";
  }

  @Override
  protected int operationsPerSeed() {
    return 120;
  }
}
