package io.cairn.backend.memory;

import io.cairn.persistence.Durability;
import io.cairn.tck.BackendTck;
import io.cairn.tck.TckDurabilities;

/**
 * The whole TCK on the memory backend. It accepts durability {@code none} only ({@code normal} and
 * {@code full} are refused at validation), so the TCK runs once; the restart suite is skipped by
 * capability (no {@code DURABLE}).
 */
@TckDurabilities(Durability.NONE)
class MemoryTckTest extends BackendTck {
  @Override
  protected String backendConfig(Durability durability) {
    return "type = memory, durability = " + durability.configName();
  }
}
