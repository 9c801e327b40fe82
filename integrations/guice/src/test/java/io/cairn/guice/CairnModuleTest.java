package io.cairn.guice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.health.HealthCheckRegistry;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Key;
import com.google.inject.Stage;
import com.google.inject.name.Names;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.routing.Route;
import io.cairn.routing.RouteTable;
import io.cairn.runtime.Cairn;
import jakarta.inject.Inject;
import jakarta.inject.Named;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ValueSource;

/** Injectors built from configuration files, on every backend. */
@ParameterizedClass(name = "{0}")
@ValueSource(strings = {"memory", "sqlite", "rocksdb"})
class CairnModuleTest {
  @Parameter String type;

  @TempDir Path dir;

  /** What a service class looks like: constructor-free field injection by name. */
  static final class Service {
    @Inject PersistenceRegistry registry;
    @Inject @CairnMetrics MetricRegistry metrics;
    @Inject @CairnMetrics HealthCheckRegistry healthChecks;
    @Inject Cairn cairn;

    @Inject
    @Named("catalog")
    RouteTable catalog;

    @Inject
    @Named("edge")
    RouteTable edge;

    @Inject
    @Named("greeting")
    String greeting;

    @Inject
    @Named("answer")
    Integer answer;
  }

  private Config file(String text) throws IOException {
    Path file = dir.resolve("app.conf");
    Files.writeString(file, text);
    return ConfigFactory.parseFile(file.toFile());
  }

  private String appConf() {
    return "app.name = orders\n"
        + "cairn {\n"
        + "  backends.main = "
        + TestBackends.hocon(type)
        + "\n"
        + "  modules = [routing, io.cairn.guice.thirdparty.GreetingModule,"
        + " io.cairn.guice.thirdparty.PlainModule]\n"
        + "  route-tables.catalog { backend = main, snapshot-every = 3 }\n"
        + "  route-tables.edge { backend = main }\n"
        + "}\n";
  }

  private Injector injector(Stage stage, Config config) {
    return Guice.createInjector(stage, new CairnModule(Cairn.builder(config).baseDirectory(dir)));
  }

  @Test
  void injectorFromHoconFileBindsRegistriesTablesAndThirdPartyModules() throws IOException {
    Injector injector = injector(Stage.DEVELOPMENT, file(appConf()));
    Service s = injector.getInstance(Service.class);
    try {
      assertThat(s.cairn.isRunning()).isTrue();
      assertThat(s.registry).isSameAs(s.cairn.registry());
      assertThat(s.metrics).isSameAs(s.cairn.metrics()).isSameAs(s.registry.metrics());
      assertThat(s.healthChecks).isSameAs(s.registry.healthChecks());
      assertThat(s.registry.backend("main").type()).isEqualTo(type);
      assertThat(s.catalog).isSameAs(s.cairn.routeTable("catalog"));
      assertThat(s.catalog.name()).isEqualTo("catalog");
      assertThat(s.edge.name()).isEqualTo("edge");
      assertThat(s.greeting).isEqualTo("hello from orders");
      assertThat(s.answer).isEqualTo(42);
      // Guice's own @Named and jakarta's resolve to the same binding.
      assertThat(injector.getInstance(Key.get(RouteTable.class, Names.named("catalog"))))
          .isSameAs(s.catalog);
      s.catalog.put(Route.of("/a", "x"));
      assertThat(s.catalog.resolve("/a/b").map(Route::key)).hasValue("/a");
    } finally {
      s.cairn.stop();
    }
    assertThat(s.cairn.isRunning()).isFalse();
    assertThatThrownBy(() -> s.catalog.get("/a")).hasMessageContaining("closed");
  }

  @Test
  void productionStageOpensAtInjectorCreationAndStopIsIdempotent() throws IOException {
    Injector injector = injector(Stage.PRODUCTION, file(appConf()));
    Cairn cairn = injector.getInstance(Cairn.class);
    assertThat(cairn.isRunning()).isTrue();
    assertThat(cairn.start()).isSameAs(cairn);
    RouteTable catalog = cairn.routeTable("catalog");
    for (int i = 0; i < 7; i++) {
      catalog.put(Route.of("/k" + i, "t" + i));
    }
    cairn.stop();
    cairn.stop();
    assertThat(cairn.isRunning()).isFalse();
    assertThatThrownBy(cairn::start).isInstanceOf(IllegalStateException.class);

    if (!type.equals("memory")) {
      // A second injector over the same data sees the recovered table.
      Injector again = injector(Stage.PRODUCTION, file(appConf()));
      Cairn second = again.getInstance(Cairn.class);
      try {
        RouteTable recovered = again.getInstance(Key.get(RouteTable.class, Names.named("catalog")));
        assertThat(recovered.size()).isEqualTo(7);
        assertThat(recovered).isNotSameAs(catalog);
      } finally {
        second.stop();
      }
    }
  }

  @Test
  void plainJavaEntryPointGivesTheSameObjectsAsTheInjector() throws IOException {
    Config config = file(appConf());
    try (Cairn cairn = Cairn.builder(config).baseDirectory(dir).build().start()) {
      assertThat(cairn.modules())
          .containsExactly(
              "routing",
              "io.cairn.guice.thirdparty.GreetingModule",
              "io.cairn.guice.thirdparty.PlainModule");
      assertThat(cairn.routeTableNames()).containsExactly("catalog", "edge");
      assertThat(cairn.routeTable("catalog").backendName()).isEqualTo("main");
      assertThat(cairn.registry().backendNames()).containsExactly("main");
    }
  }
}
