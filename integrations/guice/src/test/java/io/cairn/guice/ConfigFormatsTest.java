package io.cairn.guice;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Key;
import com.google.inject.Stage;
import com.google.inject.name.Names;
import com.typesafe.config.Config;
import io.cairn.cache.TieredCache;
import io.cairn.config.CairnConfig;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.queue.DurableQueue;
import io.cairn.routing.Route;
import io.cairn.routing.RouteTable;
import io.cairn.runtime.Cairn;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An injector built only from a HOCON file and one built only from the equivalent TOML file give
 * the same bindings and the same objects, on every backend.
 */
@ParameterizedClass(name = "{0}")
@ValueSource(strings = {"memory", "sqlite", "rocksdb"})
class ConfigFormatsTest {
  @Parameter String type;

  @TempDir Path dir;

  private Path hocon(Path dataRoot) throws IOException {
    Path file = dir.resolve("app.conf");
    Files.writeString(
        file,
        "app.name = orders\n"
            + "cairn {\n"
            + "  data-root = \""
            + dataRoot.toString().replace("\\", "/")
            + "\"\n"
            + "  modules = [queue, cache, routing, io.cairn.guice.thirdparty.GreetingModule,"
            + " io.cairn.guice.thirdparty.PlainModule]\n"
            + "  backends.main = "
            + TestBackends.hocon(type)
            + "\n"
            + "  queues.orders { backend = main, max-attempts = 3 }\n"
            + "  caches.sessions { backend = main, ttl = 5m }\n"
            + "  route-tables.catalog { backend = main, snapshot-every = 3 }\n"
            + "  route-tables.edge { backend = main, retain-snapshots = 3 }\n"
            + "}\n");
    return file;
  }

  private Path toml(Path dataRoot) throws IOException {
    Path file = dir.resolve("app.toml");
    Files.writeString(
        file,
        "[app]\n"
            + "name = \"orders\"\n"
            + "\n"
            + "[cairn]\n"
            + "data-root = \""
            + dataRoot.toString().replace("\\", "/")
            + "\"\n"
            + "modules = [\"queue\", \"cache\", \"routing\","
            + " \"io.cairn.guice.thirdparty.GreetingModule\","
            + " \"io.cairn.guice.thirdparty.PlainModule\"]\n"
            + "\n"
            + "[cairn.backends.main]\n"
            + TestBackends.toml(type)
            + "\n"
            + "\n"
            + "[cairn.queues.orders]\n"
            + "backend = \"main\"\n"
            + "max-attempts = 3\n"
            + "\n"
            + "[cairn.caches.sessions]\n"
            + "backend = \"main\"\n"
            + "ttl = \"5m\"\n"
            + "\n"
            + "[cairn.route-tables.catalog]\n"
            + "backend = \"main\"\n"
            + "snapshot-every = 3\n"
            + "\n"
            + "[cairn.route-tables.edge]\n"
            + "backend = \"main\"\n"
            + "retain-snapshots = 3\n");
    return file;
  }

  private static Set<String> bindingKeys(Injector injector) {
    Set<String> keys = new TreeSet<>();
    injector.getBindings().keySet().forEach(k -> keys.add(k.toString()));
    return keys;
  }

  @Test
  void hoconAndTomlFilesGiveTheSameBindingsAndObjects() throws IOException {
    Config fromHocon = CairnConfig.load(hocon(dir.resolve("data-hocon")));
    Config fromToml = CairnConfig.load(toml(dir.resolve("data-toml")));
    for (String section : new String[] {"cairn.route-tables", "cairn.queues", "cairn.caches"}) {
      assertThat(fromToml.getConfig(section)).isEqualTo(fromHocon.getConfig(section));
    }
    assertThat(fromToml.getList("cairn.modules").unwrapped())
        .isEqualTo(fromHocon.getList("cairn.modules").unwrapped());

    Injector a = Guice.createInjector(Stage.PRODUCTION, new CairnModule(fromHocon));
    Injector b = Guice.createInjector(Stage.PRODUCTION, new CairnModule(fromToml));
    Cairn ca = a.getInstance(Cairn.class);
    Cairn cb = b.getInstance(Cairn.class);
    try {
      assertThat(bindingKeys(b)).isEqualTo(bindingKeys(a));
      assertThat(bindingKeys(a))
          .contains(
              Key.get(RouteTable.class, Names.named("catalog")).toString(),
              Key.get(RouteTable.class, Names.named("edge")).toString(),
              Key.get(DurableQueue.class, Names.named("orders")).toString(),
              Key.get(TieredCache.class, Names.named("sessions")).toString(),
              Key.get(PersistenceRegistry.class).toString(),
              Key.get(String.class, Names.named("greeting")).toString());
      for (Injector i : new Injector[] {a, b}) {
        RouteTable catalog = i.getInstance(Key.get(RouteTable.class, Names.named("catalog")));
        catalog.put(Route.of("/x", "y"));
        @SuppressWarnings("unchecked") // bound under the raw DurableQueue (a class-literal key)
        DurableQueue<byte[]> orders =
            i.getInstance(Key.get(DurableQueue.class, Names.named("orders")));
        orders.enqueue(new byte[] {1});
        assertThat(i.getInstance(Key.get(String.class, Names.named("greeting"))))
            .isEqualTo("hello from orders");
        assertThat(i.getInstance(PersistenceRegistry.class).backend("main").type()).isEqualTo(type);
      }
      assertThat(ca.routeTable("catalog").routes()).isEqualTo(cb.routeTable("catalog").routes());
      assertThat(ca.routeTableNames()).isEqualTo(cb.routeTableNames());
      assertThat(ca.queue("orders").stats().depth()).isEqualTo(cb.queue("orders").stats().depth());
      assertThat(ca.cacheNames()).isEqualTo(cb.cacheNames()).containsExactly("sessions");
    } finally {
      ca.stop();
      cb.stop();
    }
  }
}
