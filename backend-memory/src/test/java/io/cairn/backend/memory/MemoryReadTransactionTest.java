package io.cairn.backend.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.Capability;
import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Durability;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.Transaction;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.EngineBackend;
import io.cairn.tck.ReadTransactionContract;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The whole read-transaction contract on memory (through the registry), plus the rules the base
 * ({@code EngineBackend}) enforces itself, without the registry's wrapper.
 */
class MemoryReadTransactionTest extends ReadTransactionContract {
  @Override
  protected String backendConfig() {
    return "type = memory";
  }

  /** The read-only and thread rules hold on the bare backend too (no registry wrapper). */
  @Test
  void theBareBackendEnforcesTheReadOnlyAndThreadRules() throws Exception {
    try (StorageBackend bare =
        new MemoryBackendProvider()
            .open(BackendContext.builder("bare", "memory").durability(Durability.NONE).build())) {
      assertThat(bare.capabilities()).contains(Capability.SNAPSHOT_READS);
      KeyValueStore kv = bare.keyValue("bare");
      LogStore log = bare.log("bare");
      kv.put(b("k"), b("v"));
      log.append(b("r"));
      AtomicReference<Transaction.ReadView> leaked = new AtomicReference<>();
      AtomicReference<CloseableIterator<Entry>> leakedScan = new AtomicReference<>();
      bare.readTransaction(
          view -> {
            List<Runnable> refused =
                List.of(
                    () -> kv.put(b("k"), b("w")),
                    () -> kv.delete(b("k")),
                    () -> log.append(b("w")),
                    () -> log.truncateBefore(1),
                    () -> bare.snapshots("bare").save(1, new byte[] {1}),
                    () -> bare.compact(Progress.NONE),
                    () -> bare.inTransaction(tx -> null),
                    () -> bare.readTransaction(inner -> null));
            for (Runnable r : refused) {
              assertThatThrownBy(r::run)
                  .isInstanceOf(IllegalStateException.class)
                  .hasMessageContaining("readTransaction()");
            }
            Transaction.KeyValueReader reader = view.keyValue("bare");
            CompletableFuture<byte[]> elsewhere =
                CompletableFuture.supplyAsync(() -> reader.get(b("k")));
            assertThatThrownBy(() -> elsewhere.get(60, TimeUnit.SECONDS))
                .hasCauseInstanceOf(IllegalStateException.class);
            leaked.set(view);
            leakedScan.set(reader.scan(null, null));
            return null;
          });
      assertThatThrownBy(() -> leaked.get().keyValue("bare"))
          .isInstanceOf(IllegalStateException.class);
      assertThatThrownBy(() -> leakedScan.get().hasNext())
          .isInstanceOf(IllegalStateException.class);
      assertThat(kv.get(b("k"))).isEqualTo(b("v"));
      assertThat(log.nextOffset()).isEqualTo(1);
      assertThat(bare.snapshots("bare").list()).isEmpty();
      kv.put(b("k"), b("after")); // a writer again once the work ended
      assertThat(kv.get(b("k"))).isEqualTo(b("after"));
    }
  }

  /** SNAPSHOT_READS follows the engine; declaring it in the options is a named mistake. */
  @Test
  void snapshotReadsAreDeclaredByTheEngineNotTheOptions() {
    BackendContext ctx =
        BackendContext.builder("opts", "memory").durability(Durability.NONE).build();
    assertThatThrownBy(
            () ->
                EngineBackend.open(
                    ctx,
                    "memory",
                    new MemoryEngine(),
                    EngineBackend.Options.builder(Durability.NONE)
                        .capabilities(Capability.SNAPSHOT_READS)
                        .build()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("offersSnapshots()");
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
