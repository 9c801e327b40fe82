package io.cairn.backend.memory;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.Durability;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.tck.VisibilityProbe;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 20 item 2 on memory, deterministically: a transaction writing two namespaces and a log is
 * paused after each of its writes (inside the work) and after each step of its commit (the
 * backend's commit hook); a reader started at each pause must see all of the writes or none.
 */
class MemoryTransactionVisibilityTest {
  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void aReaderAtAnyStepOfACommitSeesAllOfItsWritesOrNone() throws Exception {
    try (StorageBackend backend =
        new MemoryBackendProvider()
            .open(BackendContext.builder("mem", "memory").durability(Durability.NONE).build())) {
      MemoryBackend mb = (MemoryBackend) backend;
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
      mb.commitStepHook = probe::pause;
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
      mb.commitStepHook = null;
      probe.committed();
      probe.pause("after inTransaction returned");
      probe.verify();
      assertThat(log.read(0, 10)).hasSize(1);
    }
  }
}
