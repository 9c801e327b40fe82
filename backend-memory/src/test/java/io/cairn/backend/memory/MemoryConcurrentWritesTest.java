package io.cairn.backend.memory;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.Durability;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.spi.BackendContext;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The memory engine's one-record writes under the shared side of its lock ({@link
 * MemoryEngine#concurrentWrites()}): they must not modify a map an open snapshot holds, a store
 * they empty must not be listed, and {@code concurrent-writes = false} turns the opt-in off.
 */
class MemoryConcurrentWritesTest {
  private final MemoryEngine engine = new MemoryEngine();
  private final StorageBackend backend =
      MemoryBackendProvider.open(
          BackendContext.builder("mem", "memory").durability(Durability.NONE).build(), engine);

  @AfterEach
  void close() {
    backend.close();
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * One-record puts and deletes from another thread while a read transaction is open: they fall
   * back to copying the store's map (the snapshot's stays as it was), in place once it is closed.
   */
  @Test
  void oneRecordWritesDoNotChangeAnOpenSnapshot() {
    KeyValueStore kv = backend.keyValue("kv");
    kv.put(b("a"), b("old"));
    kv.put(b("b"), b("old"));
    List<String> seen =
        backend.readTransaction(
            view -> {
              var r = view.keyValue("kv");
              String before = new String(r.get(b("a")), StandardCharsets.UTF_8);
              CompletableFuture.runAsync(
                      () -> {
                        kv.put(b("a"), b("new"));
                        kv.delete(b("b"));
                        kv.put(b("c"), b("new"));
                      })
                  .orTimeout(60, TimeUnit.SECONDS)
                  .join();
              return List.of(
                  before,
                  new String(r.get(b("a")), StandardCharsets.UTF_8),
                  String.valueOf(r.get(b("b")) != null),
                  String.valueOf(r.get(b("c")) != null));
            });
    assertThat(seen).containsExactly("old", "old", "true", "false");
    assertThat(kv.get(b("a"))).isEqualTo(b("new"));
    assertThat(kv.get(b("b"))).isNull();
    assertThat(kv.get(b("c"))).isEqualTo(b("new"));
  }

  @Test
  void aStoreEmptiedByOneRecordDeletesIsNotListed() {
    KeyValueStore kv = backend.keyValue("gone");
    kv.put(b("k"), b("v"));
    StoreId id = new StoreId(StoreKind.KEY_VALUE, "gone");
    assertThat(backend.stores()).contains(id);
    assertThat(kv.delete(b("k"))).isTrue();
    assertThat(backend.stores()).doesNotContain(id);
    assertThat(engine.stores()).doesNotContain(id);
    kv.put(b("k"), b("again"));
    assertThat(backend.stores()).contains(id);
  }

  @Test
  void concurrentWritesIsOnByDefaultAndOffWhenConfigured() {
    assertThat(engine.concurrentWrites()).isTrue();
    assertThat(new MemoryEngine(false).concurrentWrites()).isFalse();
    try (PersistenceRegistry r =
        PersistenceRegistry.open(
            ConfigFactory.parseString(
                "cairn.backends.m { type = memory, concurrent-writes = false }"))) {
      KeyValueStore kv = r.backend("m").keyValue("ns");
      long first = kv.put(b("k"), b("v"));
      assertThat(first).isPositive();
      assertThat(kv.put(b("k"), b("v"))).isGreaterThan(first);
    }
    List<ConfigProblem> problems =
        PersistenceRegistry.validate(
            ConfigFactory.parseString(
                "cairn.backends.m { type = memory, concurrent-writes = sometimes }"));
    assertThat(problems).hasSize(1);
    assertThat(problems.get(0).toString()).contains("concurrent-writes").contains("true or false");
  }
}
