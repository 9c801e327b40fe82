package io.cairn.backend.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StorageBackend;
import io.cairn.tck.RestartContract;
import io.cairn.tck.TransactionContract;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The transaction and restart contracts again at {@code durability = full}, where {@code
 * inTransactionDeferred} commits at {@code synchronous = NORMAL} and {@code syncCommitted} fsyncs
 * the WAL file (the other suites run at {@code normal}, where both are plain commits).
 */
class SqliteFullDurabilityContractsTest {
  @Nested
  class Transactions extends TransactionContract {
    @Override
    protected String backendConfig() {
      return "type = sqlite, durability = full";
    }
  }

  @Nested
  class Restart extends RestartContract {
    @Override
    protected String backendConfig() {
      return "type = sqlite, durability = full";
    }
  }

  @Test
  void anUnsyncedCommitRestoresFullSynchronousForTheWritesAfterIt(@TempDir Path dir) {
    try (PersistenceRegistry r = TestBackends.open(dir, "durability = full")) {
      StorageBackend b = r.backend("main");
      assertThat(b.stats().properties()).containsEntry("synchronous", "FULL");
      b.inTransactionDeferred(tx -> tx.keyValue("k").put(bytes("a"), bytes("1")));
      assertThat(b.stats().properties()).containsEntry("synchronous", "FULL");
      assertThat(
              catchThrowable(
                  () ->
                      b.inTransactionDeferred(
                          tx -> {
                            tx.keyValue("k").put(bytes("b"), bytes("2"));
                            throw new IllegalStateException("abort");
                          })))
          .hasMessage("abort");
      assertThat(b.stats().properties()).containsEntry("synchronous", "FULL");
      b.syncCommitted();
      assertThat(b.keyValue("k").get(bytes("a"))).isEqualTo(bytes("1"));
      assertThat(b.keyValue("k").get(bytes("b"))).isNull();
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
