package io.cairn.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.MetricRegistry;
import io.cairn.persistence.Capability;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StorageBackend;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A queue is never run by the one-process engine on a backend that several processes share: on a
 * backend that declares {@link Capability#MULTI_PROCESS} without offering {@link
 * io.cairn.persistence.LeasedQueueStore}, opening it is refused, naming what is missing.
 */
class MultiProcessBackendTest {
  @TempDir Path dir;

  /** The memory backend, claiming MULTI_PROCESS (as a networked backend without leases would). */
  private static StorageBackend multiProcess(StorageBackend real) {
    return (StorageBackend)
        Proxy.newProxyInstance(
            StorageBackend.class.getClassLoader(),
            new Class<?>[] {StorageBackend.class},
            (proxy, m, args) -> {
              if (m.getName().equals("capabilities")) {
                Set<Capability> c = EnumSet.noneOf(Capability.class);
                c.addAll(real.capabilities());
                c.add(Capability.MULTI_PROCESS);
                return c;
              }
              if (m.getName().equals("extension")) {
                return Optional.empty();
              }
              try {
                return m.invoke(real, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }

  @Test
  void aSharedBackendWithoutServerLeasesIsRefused() {
    try (PersistenceRegistry r =
        TestBackends.open(
            "memory", dir, Clock.systemUTC(), "cairn.queues.orders { backend = b }\n")) {
      List<ConfigProblem> problems = new ArrayList<>();
      QueueSettings s = QueueSettings.read(r.config(), "orders", problems);
      assertThat(problems).isEmpty();
      StorageBackend shared = multiProcess(r.backend("b"));
      assertThatThrownBy(
              () -> DurableQueue.openEngine(shared, s, Clock.systemUTC(), new MetricRegistry()))
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("Queue 'orders'")
          .hasMessageContaining("MULTI_PROCESS")
          .hasMessageContaining("io.cairn.persistence.LeasedQueueStore")
          .hasMessageContaining("cairn.queues.orders.backend");
      // the same backend without the claim runs the one-process engine
      QueueCore local =
          DurableQueue.openEngine(r.backend("b"), s, Clock.systemUTC(), new MetricRegistry());
      try {
        assertThat(local).isInstanceOf(QueueEngine.class);
      } finally {
        local.close();
      }
    }
  }

  @Test
  void aBackendOfferingServerLeasesGetsTheSharedEngine() {
    try (PersistenceRegistry r =
        TestBackends.open(
            TestBackends.SHARED, dir, Clock.systemUTC(), "cairn.queues.orders { backend = b }\n")) {
      try (DurableQueue<byte[]> q = DurableQueue.openRaw(r, "orders")) {
        assertThat(q.toString()).contains("orders");
      }
      List<ConfigProblem> problems = new ArrayList<>();
      QueueSettings s = QueueSettings.read(r.config(), "orders", problems);
      QueueCore e =
          DurableQueue.openEngine(r.backend("b"), s, Clock.systemUTC(), new MetricRegistry());
      try {
        assertThat(e).isInstanceOf(SharedQueueEngine.class);
      } finally {
        e.close();
      }
    }
  }
}
