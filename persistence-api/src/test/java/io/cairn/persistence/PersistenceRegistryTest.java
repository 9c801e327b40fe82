package io.cairn.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.health.HealthCheckRegistry;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.spi.CoarseClock;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PersistenceRegistryTest {
  @TempDir Path dir;

  @BeforeEach
  void reset() {
    RecordingProvider.EVENTS.clear();
  }

  private static Config config(String hocon) {
    return ConfigFactory.parseString(hocon);
  }

  private static LifecycleListener listener(String name, int order) {
    return new LifecycleListener() {
      @Override
      public int order() {
        return order;
      }

      @Override
      public String name() {
        return name;
      }

      @Override
      public void onOpen(PersistenceRegistry registry) {
        if (name.startsWith("fail")) {
          RecordingProvider.EVENTS.add("refuse " + name);
          throw new IllegalStateException(name + " failed");
        }
        RecordingProvider.EVENTS.add("listener-open " + name);
      }

      @Override
      public void onClose(PersistenceRegistry registry) {
        RecordingProvider.EVENTS.add("listener-close " + name);
      }
    };
  }

  @Test
  void listenersRunInRecoveryOrderAndCloseInReverseBeforeBackends() {
    PersistenceRegistry registry =
        PersistenceRegistry.builder()
            .baseDirectory(dir)
            .listener(listener("routing", LifecycleListener.ORDER_ROUTING))
            .listener(listener("other", LifecycleListener.ORDER_DEFAULT))
            .listener(listener("queue", LifecycleListener.ORDER_QUEUES))
            .listener(listener("cache", LifecycleListener.ORDER_CACHES))
            .listener(listener("queue2", LifecycleListener.ORDER_QUEUES))
            .open(config("cairn.backends { a.type = recording, b.type = recording }"));
    registry.close();
    registry.close(); // idempotent
    assertThat(RecordingProvider.EVENTS)
        .containsExactly(
            "open a",
            "open b",
            "listener-open queue",
            "listener-open queue2",
            "listener-open cache",
            "listener-open routing",
            "listener-open other",
            "listener-close other",
            "listener-close routing",
            "listener-close cache",
            "listener-close queue2",
            "listener-close queue",
            "close b",
            "close a");
  }

  @Test
  void failingListenerClosesWhatWasOpenedAndRethrows() {
    assertThatThrownBy(
            () ->
                PersistenceRegistry.builder()
                    .baseDirectory(dir)
                    .listener(listener("queue", LifecycleListener.ORDER_QUEUES))
                    .listener(listener("fail-cache", LifecycleListener.ORDER_CACHES))
                    .listener(listener("routing", LifecycleListener.ORDER_ROUTING))
                    .open(config("cairn.backends.a.type = recording")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("fail-cache failed");
    assertThat(RecordingProvider.EVENTS)
        .containsExactly(
            "open a",
            "listener-open queue",
            "refuse fail-cache",
            "listener-close queue",
            "close a");
  }

  @Test
  void failingBackendClosesEarlierBackendsAndLeavesNoMetricsOrHealthChecks() {
    MetricRegistry metrics = new MetricRegistry();
    HealthCheckRegistry health = new HealthCheckRegistry();
    assertThatThrownBy(
            () ->
                PersistenceRegistry.builder()
                    .baseDirectory(dir)
                    .metrics(metrics)
                    .healthChecks(health)
                    .open(config("cairn.backends { a.type = recording, fail-b.type = recording }")))
        .isInstanceOf(StorageEngineException.class)
        .hasMessageContaining("fail-b");
    assertThat(RecordingProvider.EVENTS).containsExactly("open a", "refuse fail-b", "close a");
    assertThat(health.getNames()).isEmpty();
    assertThat(metrics.getNames()).noneMatch(n -> n.startsWith("cairn.backends.a."));
    assertThat(CoarseClock.running()).as("timers' clock released with the backend").isFalse();
  }

  /**
   * Never silent about encryption: a backend that does not declare {@link Capability#ENCRYPTION}
   * would write plaintext with a hook configured, so the registry refuses it and closes it.
   */
  @Test
  void aBackendWithoutEncryptionIsRefusedAnEnabledHookAndClosed() {
    io.cairn.persistence.spi.Encryption hook =
        new io.cairn.persistence.spi.Encryption() {
          @Override
          public byte[] seal(byte[] plaintext, byte[] associatedData) {
            return plaintext.clone();
          }

          @Override
          public byte[] open(byte[] sealed, byte[] associatedData) {
            return sealed.clone();
          }
        };
    assertThatThrownBy(
            () ->
                PersistenceRegistry.builder()
                    .baseDirectory(dir)
                    .encryption(name -> hook)
                    .open(config("cairn.backends { a.type = recording }")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("'a'")
        .hasMessageContaining("ENCRYPTION")
        .hasMessageContaining("in clear");
    assertThat(RecordingProvider.EVENTS).containsExactly("open a", "close a");

    // a disabled hook (Encryption.NONE) is not refused
    try (PersistenceRegistry registry =
        PersistenceRegistry.builder()
            .baseDirectory(dir)
            .encryption(name -> io.cairn.persistence.spi.Encryption.NONE)
            .open(config("cairn.backends { b.type = recording }"))) {
      assertThat(registry.backendNames()).containsExactly("b");
    }
  }

  @Test
  void healthChecksPerBackendAreRegisteredAndRemovedOnClose() {
    HealthCheckRegistry health = new HealthCheckRegistry();
    try (PersistenceRegistry registry =
        PersistenceRegistry.builder()
            .baseDirectory(dir)
            .healthChecks(health)
            .open(config("cairn.backends { a.type = recording, b.type = recording }"))) {
      assertThat(health.getNames()).containsExactly("cairn.backends.a", "cairn.backends.b");
      assertThat(health.runHealthCheck("cairn.backends.a").isHealthy()).isTrue();
      assertThat(registry.backendNames()).containsExactly("a", "b");
      assertThat(CoarseClock.running()).as("timers' meters and reservoirs use it").isTrue();
    }
    assertThat(health.getNames()).isEmpty();
    assertThat(CoarseClock.running()).as("released by the last backend's close").isFalse();
  }

  @Test
  void badConfigurationOpensNothingAndListsEveryProblem() {
    assertThatThrownBy(
            () ->
                PersistenceRegistry.builder()
                    .baseDirectory(dir)
                    .open(
                        config(
                            "cairn.backends { a { type = recording, durability = sometimes },"
                                + " b { type = recordin }, c { type = recording, colour = red } }")))
        .isInstanceOfSatisfying(
            ConfigurationException.class,
            e -> {
              assertThat(e.problems()).hasSize(3);
              assertThat(e.getMessage())
                  .contains("cairn.backends.a.durability", "one of [none, normal, full]")
                  .contains("cairn.backends.b.type", "did you mean 'recording'")
                  .contains("cairn.backends.c.colour", "unknown key 'colour'");
            });
    assertThat(RecordingProvider.EVENTS).isEmpty();
  }

  @Test
  void unknownBackendNameListsConfiguredOnes() {
    try (PersistenceRegistry registry =
        PersistenceRegistry.builder()
            .baseDirectory(dir)
            .open(config("cairn.backends { a.type = recording, b.type = recording }"))) {
      assertThatThrownBy(() -> registry.backend("c"))
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("'c'")
          .hasMessageContaining("[a, b]");
      assertThatThrownBy(registry::defaultBackend)
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("cairn.default-backend");
    }
  }

  @Test
  void defaultBackendIsTheOnlyOneOrTheNamedOne() {
    try (PersistenceRegistry registry =
        PersistenceRegistry.builder()
            .baseDirectory(dir)
            .open(config("cairn.backends.only.type = recording"))) {
      assertThat(registry.defaultBackend().name()).isEqualTo("only");
    }
    try (PersistenceRegistry registry =
        PersistenceRegistry.builder()
            .baseDirectory(dir)
            .open(
                config(
                    "cairn { default-backend = b, backends { a.type = recording, b.type ="
                        + " recording } }"))) {
      assertThat(registry.defaultBackend().name()).isEqualTo("b");
    }
  }

  @Test
  void validateReportsWithoutOpening() {
    List<ConfigProblem> problems =
        PersistenceRegistry.validate(config("cairn.backends.a.type = nosuch"));
    assertThat(problems).hasSize(1);
    assertThat(problems.get(0).path()).isEqualTo("cairn.backends.a.type");
    assertThat(problems.get(0).expected()).contains("recording");
    assertThat(RecordingProvider.EVENTS).isEmpty();
  }

  @Test
  void useAfterCloseThrows() {
    PersistenceRegistry registry =
        PersistenceRegistry.builder()
            .baseDirectory(dir)
            .open(config("cairn.backends.a.type = recording"));
    registry.close();
    assertThatThrownBy(() -> registry.backend("a"))
        .isInstanceOf(ClosedException.class)
        .isNotInstanceOf(BackendClosedException.class)
        .hasMessageStartingWith("This PersistenceRegistry is closed; open a new one");
  }

  @Test
  void aBackendNamedLikeASubsystemCannotTouchItsMetrics() {
    MetricRegistry metrics = new MetricRegistry();
    metrics.counter("cairn.queues.orders.acked").inc(); // a queue named orders
    try (PersistenceRegistry registry =
        PersistenceRegistry.builder()
            .baseDirectory(dir)
            .metrics(metrics)
            .open(config("cairn.backends.queues.type = recording"))) {
      assertThat(metrics.getNames())
          .as("backend metrics live under cairn.backends")
          .anyMatch(n -> n.startsWith("cairn.backends.queues."))
          .noneMatch(n -> n.startsWith("cairn.queues.") && !n.equals("cairn.queues.orders.acked"));
    }
    assertThat(metrics.getCounters()).containsKey("cairn.queues.orders.acked");
  }
}
