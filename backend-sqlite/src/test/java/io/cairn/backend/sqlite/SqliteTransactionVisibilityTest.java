package io.cairn.backend.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.Durability;
import io.cairn.tck.VisibilityProbe;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 20 item 2 on SQLite, deterministically: a transaction writing two namespaces and a log is
 * paused after each of its statements (inside the work) and right after its COMMIT (the writer's
 * hook, before inTransaction returns); a reader started at each pause must see all of the writes or
 * none, and the reader right after COMMIT must see all.
 */
class SqliteTransactionVisibilityTest {
  @TempDir Path dir;

  @Test
  void aReaderAtAnyStepOfACommitSeesAllOfItsWritesOrNone() throws Exception {
    try (SqliteBackend backend = TestBackends.direct(dir, "", Durability.NORMAL)) {
      VisibilityProbe probe = VisibilityProbe.forTwoNamespacesAndALog(backend);
      backend.writer().afterTransactionCommit =
          () -> {
            probe.committed();
            probe.pause("after COMMIT");
          };
      try {
        probe.runTransaction(backend);
      } finally {
        backend.writer().afterTransactionCommit = null;
      }
      assertThat(probe.verify()).as("SQLite readers never wait for the writer").isEqualTo(5);
    }
  }
}
