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
import io.cairn.tck.ManualClock;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * The base's expiry sweeper on the memory backend: expired entries leave the heap without anyone
 * calling purge, the thread is named for the backend and ends with it, and {@code 0s} starts none.
 */
class MemorySweeperTest {
  private static final StoreId NS = new StoreId(StoreKind.KEY_VALUE, "sessions");

  private final ManualClock clock = new ManualClock();

  @Test
  void expiredEntriesLeaveTheHeapWithoutAPurgeCall() {
    MemoryEngine engine = new MemoryEngine();
    StorageBackend backend = open(engine, "sweeper-interval = 20ms");
    try {
      KeyValueStore kv = backend.keyValue(NS.name());
      kv.put(b("gone"), b("v"), Duration.ofSeconds(1));
      kv.put(b("kept"), b("v"), Duration.ofHours(1));
      kv.put(b("plain"), b("v"));
      assertThat(sweeperThreads("swept")).isEqualTo(1);
      clock.advance(Duration.ofSeconds(2));

      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (engine.get(NS, b("gone")) != null && System.nanoTime() < deadline) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
      }
      assertThat(engine.get(NS, b("gone"))).as("the expired entry, in the engine").isNull();
      assertThat(engine.get(NS, b("kept"))).isNotNull();
      assertThat(engine.get(NS, b("plain"))).isNotNull();
    } finally {
      backend.close();
    }
    assertThat(sweeperThreads("swept")).as("sweeper threads after close").isZero();
  }

  @Test
  void zeroStartsNoThread() {
    StorageBackend backend = open(new MemoryEngine(), "sweeper-interval = 0s");
    try {
      assertThat(sweeperThreads("swept")).isZero();
    } finally {
      backend.close();
    }
  }

  @Test
  void anIntervalWithoutAUnitIsRefused() {
    List<ConfigProblem> problems =
        PersistenceRegistry.validate(
            ConfigFactory.parseString("cairn.backends.a { type = memory, sweeper-interval = 30 }"));
    assertThat(problems)
        .singleElement()
        .asString()
        .contains("cairn.backends.a.sweeper-interval", "30s");
  }

  private StorageBackend open(MemoryEngine engine, String config) {
    return MemoryBackendProvider.open(
        BackendContext.builder("swept", "memory")
            .durability(Durability.NONE)
            .clock(clock)
            .config(ConfigFactory.parseString(config))
            .build(),
        engine);
  }

  /** Live threads named as the base names the sweeper of backend {@code name}. */
  private static long sweeperThreads(String name) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && t.getName().equals("cairn-memory-sweeper-" + name))
        .count();
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
