package io.cairn.backend.postgres;

import io.cairn.persistence.Durability;
import io.cairn.tck.BackendTck;
import io.cairn.tck.TckDurabilities;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The whole TCK on PostgreSQL at each durability it accepts ({@code full} → {@code
 * synchronous_commit = on}; {@code normal} and {@code none} → {@code off}). Every run uses the one
 * server of this JVM ({@link TestPostgres#shared()}); {@link FreshSchema} drops the TCK schema
 * before each test (the extension applies to every nested suite), so each test starts on an empty
 * database as the embedded backends start on an empty directory.
 */
@TckDurabilities({Durability.NONE, Durability.NORMAL, Durability.FULL})
@ExtendWith(FreshSchema.class)
class PostgresTckTest extends BackendTck {
  @Override
  protected String backendConfig(Durability durability) {
    return FreshSchema.config(durability.configName());
  }
}
