package io.cairn.backend.memory;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.Durability;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.tck.VisibilityProbe;
import org.junit.jupiter.api.Test;

/**
 * Issue 20 item 2 on memory, deterministically: a transaction writing two namespaces and a log is
 * paused after each of its writes (inside the work) and after each step of its commit (the
 * backend's commit hook, under the exclusive lock); a reader started at each pause must see all of
 * the writes or none.
 */
class MemoryTransactionVisibilityTest {
  @Test
  void aReaderAtAnyStepOfACommitSeesAllOfItsWritesOrNone() throws Exception {
    try (StorageBackend backend =
        new MemoryBackendProvider()
            .open(BackendContext.builder("mem", "memory").durability(Durability.NONE).build())) {
      MemoryBackend mb = (MemoryBackend) backend;
      VisibilityProbe probe = VisibilityProbe.forTwoNamespacesAndALog(backend);
      mb.commitStepHook = probe::pause;
      try {
        probe.runTransaction(backend);
      } finally {
        mb.commitStepHook = null;
      }
      // memory readers wait on the lock the transaction holds: only the last one finished at once
      assertThat(probe.verify()).isEqualTo(1);
    }
  }
}
