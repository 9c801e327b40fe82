package io.cairn.backend.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.Durability;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogStore;
import io.cairn.tck.VisibilityProbe;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
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

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void aReaderAtAnyStepOfACommitSeesAllOfItsWritesOrNone() throws Exception {
    try (SqliteBackend backend = TestBackends.direct(dir, "", Durability.NORMAL)) {
      KeyValueStore first = backend.keyValue("first");
      KeyValueStore second = backend.keyValue("second");
      LogStore log = backend.log("events");
      first.put(b("a"), b("old"));
      VisibilityProbe probe =
          new VisibilityProbe(
              () ->
                  List.of(
                      java.util.Arrays.equals(first.get(b("a")), b("new")),
                      second.get(b("b")) != null,
                      log.nextOffset() == 1,
                      log.read(0, 1).size() == 1));
      backend.writer().afterTransactionCommit =
          () -> {
            probe.committed();
            probe.pause("after COMMIT");
          };
      backend.inTransaction(
          tx -> {
            tx.keyValue("first").put(b("a"), b("new"));
            probe.pause("after the first put");
            tx.keyValue("second").put(b("b"), b("new"));
            probe.pause("after the second put");
            tx.log("events").append(b("e0"));
            probe.pause("after the append");
            return null;
          });
      backend.writer().afterTransactionCommit = null;
      probe.pause("after inTransaction returned");
      assertThat(probe.verify()).as("SQLite readers never wait for the writer").isEqualTo(5);
    }
  }
}
