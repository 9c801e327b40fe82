package io.cairn.backend.postgres;

import io.cairn.persistence.Durability;
import io.cairn.tck.crash.CrashHarness;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TCK's kill-and-reopen harness with the client JVM as the victim: the writer is killed with
 * SIGKILL mid-workload and every acknowledged write must be in PostgreSQL. (A crash of the server
 * itself is the restart test's business, {@link PostgresServerRestartTest}.) Cycles: {@code
 * -DcrashCycles} (5 by default here: each cycle starts a JVM and a connection pool).
 */
class PostgresCrashTest {
  @Test
  void acknowledgedWritesSurviveKill9OfTheClient(@TempDir Path workDir) throws Exception {
    TestPostgres pg = TestPostgres.shared();
    pg.dropSchema("crash");
    CrashHarness.builder(
            pg.backendConfig("crash", "normal").replace(", durability = normal", ""), workDir)
        .durability(Durability.NORMAL)
        .cycles(Integer.getInteger(CrashHarness.CYCLES_PROPERTY, 5))
        .seed(Long.getLong("crashSeed", 17L))
        .build()
        .run()
        .assertPassed();
  }
}
