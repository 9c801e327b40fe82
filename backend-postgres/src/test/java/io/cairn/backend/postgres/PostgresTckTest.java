package io.cairn.backend.postgres;

import io.cairn.persistence.Durability;
import io.cairn.tck.BackendTck;
import io.cairn.tck.TckDurabilities;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The whole TCK on PostgreSQL at each durability that behaves differently: {@code full} ({@code
 * synchronous_commit = on}) and {@code normal} ({@code off}). {@code none} also maps to {@code
 * synchronous_commit = off} and takes exactly {@code normal}'s code path (the backend's only other
 * use of it is to stay quiet about a server running with {@code fsync = off}), so a third run of
 * every suite would prove nothing the {@code normal} run does not; {@code
 * PostgresBackendTest.durabilityMapsOntoSynchronousCommit} checks that {@code none} opens, reports
 * itself and maps to {@code off}. Every run uses the one server of this JVM ({@link
 * TestPostgres#shared()}); {@link FreshSchema} drops the TCK schema before each test (the extension
 * applies to every nested suite), so each test starts on an empty database as the embedded backends
 * start on an empty directory.
 */
@TckDurabilities({Durability.NORMAL, Durability.FULL})
@ExtendWith(FreshSchema.class)
class PostgresTckTest extends BackendTck {
  @Override
  protected String backendConfig(Durability durability) {
    return FreshSchema.config(durability.configName());
  }
}
