package io.cairn.guice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.inject.CreationException;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Key;
import com.google.inject.Stage;
import com.google.inject.TypeLiteral;
import com.google.inject.name.Names;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.cairn.cache.TieredCache;
import io.cairn.persistence.Codec;
import io.cairn.persistence.LifecycleListener;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.queue.Delivery;
import io.cairn.queue.DurableQueue;
import io.cairn.routing.RouteTable;
import io.cairn.runtime.Cairn;
import jakarta.inject.Inject;
import jakarta.inject.Named;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Queues, caches and route tables bound by name, raw and typed, opened in recovery order; on every
 * backend.
 */
@ParameterizedClass(name = "{0}")
@ValueSource(strings = {"memory", "sqlite", "rocksdb"})
class SubsystemBindingsTest {
  @Parameter String type;

  @TempDir Path dir;

  @SuppressWarnings("rawtypes")
  static final class Service {
    @Inject
    @Named("orders")
    DurableQueue<String> orders;

    @Inject
    @Named("orders")
    DurableQueue<byte[]> ordersBytes;

    @Inject
    @Named("orders")
    DurableQueue ordersRawType;

    @Inject
    @Named("sessions")
    TieredCache<String, Long> sessions;

    @Inject
    @Named("sessions")
    TieredCache sessionsRawType;

    @Inject
    @Named("catalog")
    RouteTable catalog;

    @Inject Cairn cairn;
  }

  private Config file() throws IOException {
    Path file = dir.resolve("app.conf");
    Files.writeString(
        file,
        "cairn {\n"
            + "  backends.main = "
            + TestBackends.hocon(type)
            + "\n"
            + "  modules = [routing, cache, queue]\n"
            + "  queues.orders { backend = main }\n"
            + "  caches.sessions { backend = main }\n"
            + "  route-tables.catalog { backend = main }\n"
            + "}\n");
    return ConfigFactory.parseFile(file.toFile());
  }

  @Test
  void typedAndRawBindingsAreViewsOfTheSameObjects() throws IOException {
    Cairn.Builder builder =
        Cairn.builder(file())
            .baseDirectory(dir)
            .queueCodec("orders", String.class, Codec.utf8())
            .cacheCodecs("sessions", String.class, Codec.utf8(), Long.class, Codec.int64());
    Injector injector = Guice.createInjector(new CairnModule(builder));
    Service s = injector.getInstance(Service.class);
    try {
      assertThat(s.orders).isSameAs(s.cairn.queue("orders", String.class));
      assertThat(s.ordersRawType).isSameAs(s.orders);
      assertThat(s.ordersBytes).isSameAs(s.cairn.queue("orders"));
      assertThat(s.sessions).isSameAs(s.cairn.cache("sessions")).isSameAs(s.sessionsRawType);
      assertThat(s.catalog).isSameAs(s.cairn.routeTable("catalog"));

      s.orders.enqueue("order-1");
      Delivery<byte[]> d = s.ordersBytes.poll(Duration.ofSeconds(5)).orElseThrow();
      assertThat(new String(d.payload(), StandardCharsets.UTF_8)).isEqualTo("order-1");
      assertThat(s.ordersBytes.ack(d)).isTrue();

      s.sessions.put("user-1", 7L);
      assertThat(s.sessions.getIfPresent("user-1")).isEqualTo(7L);
      assertThatThrownBy(() -> s.cairn.queue("orders", Integer.class))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("queueCodec");
    } finally {
      s.cairn.stop();
    }
  }

  @Test
  void withoutCodecsQueuesCarryBytesAndCachesMapStringsToBytes() throws IOException {
    Injector injector =
        Guice.createInjector(
            Stage.PRODUCTION, new CairnModule(Cairn.builder(file()).baseDirectory(dir)));
    Cairn cairn = injector.getInstance(Cairn.class);
    try {
      DurableQueue<byte[]> orders =
          injector.getInstance(
              Key.get(new TypeLiteral<DurableQueue<byte[]>>() {}, Names.named("orders")));
      TieredCache<String, byte[]> sessions =
          injector.getInstance(
              Key.get(new TypeLiteral<TieredCache<String, byte[]>>() {}, Names.named("sessions")));
      assertThat(orders).isSameAs(cairn.queue("orders"));
      assertThat(sessions).isSameAs(cairn.cache("sessions", String.class, byte[].class));
      orders.enqueue(new byte[] {1, 2});
      sessions.put("k", new byte[] {3});
      assertThat(sessions.getIfPresent("k")).containsExactly(3);
    } finally {
      cairn.stop();
    }
  }

  @Test
  void subsystemsOpenInRecoveryOrderAndCloseInReverse() throws IOException {
    List<String> events = new ArrayList<>();
    Cairn.Builder builder = Cairn.builder(file()).baseDirectory(dir);
    for (int order :
        new int[] {
          LifecycleListener.ORDER_QUEUES + 1,
          LifecycleListener.ORDER_CACHES + 1,
          LifecycleListener.ORDER_ROUTING + 1
        }) {
      builder.listener(
          new LifecycleListener() {
            @Override
            public int order() {
              return order;
            }

            @Override
            public void onOpen(PersistenceRegistry registry) {
              events.add("open@" + order + " " + openSubsystems(registry));
            }

            @Override
            public void onClose(PersistenceRegistry registry) {
              events.add("close@" + order + " " + openSubsystems(registry));
            }
          });
    }
    Cairn cairn = builder.build().start();
    cairn.stop();
    assertThat(events)
        .containsExactly(
            "open@101 [queue]",
            "open@201 [cache, queue]",
            "open@301 [cache, queue, routing]",
            "close@301 [cache, queue, routing]",
            "close@201 [cache, queue]",
            "close@101 [queue]");
  }

  /** Which subsystems have registered their metrics, i.e. are open. */
  private static Set<String> openSubsystems(PersistenceRegistry registry) {
    Set<String> open = new TreeSet<>();
    Set<String> names = registry.metrics().getNames();
    if (names.contains("cairn.queues.orders.depth")) {
      open.add("queue");
    }
    if (names.contains("cairn.caches.sessions.l1.size")) {
      open.add("cache");
    }
    if (names.contains("cairn.route-tables.catalog.routes")) {
      open.add("routing");
    }
    return open;
  }

  @Test
  void queueNamingAnUnknownBackendFailsInjectorCreation() throws IOException {
    Path file = dir.resolve("bad.conf");
    Files.writeString(
        file,
        "cairn {\n"
            + "  backends.main = "
            + TestBackends.hocon(type)
            + "\n"
            + "  modules = [queue]\n"
            + "  queues.orders {\n"
            + "    backend = archive\n"
            + "  }\n"
            + "}\n");
    Config config = ConfigFactory.parseFile(file.toFile());
    assertThatThrownBy(
            () -> Guice.createInjector(new CairnModule(Cairn.builder(config).baseDirectory(dir))))
        .isInstanceOf(CreationException.class)
        .satisfies(
            e -> {
              StringBuilder all = new StringBuilder();
              ((CreationException) e)
                  .getErrorMessages()
                  .forEach(m -> all.append(m.getMessage()).append('\n'));
              assertThat(all.toString())
                  .containsPattern("cairn\\.queues\\.orders\\.backend \\(\\S*bad\\.conf:5\\)")
                  .contains("archive");
            });
    assertThat(dir.resolve("data")).doesNotExist();
  }

  @Test
  void codecForAnUnconfiguredQueueIsAProblem() throws IOException {
    Cairn.Builder builder =
        Cairn.builder(file()).baseDirectory(dir).queueCodec("ordrs", String.class, Codec.utf8());
    assertThatThrownBy(() -> Guice.createInjector(new CairnModule(builder)))
        .isInstanceOf(CreationException.class)
        .hasMessageContaining("cairn.queues.ordrs")
        .hasMessageContaining("queueCodec");
  }
}
