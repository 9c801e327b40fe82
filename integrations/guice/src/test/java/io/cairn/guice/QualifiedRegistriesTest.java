package io.cairn.guice;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.health.HealthCheckRegistry;
import com.google.inject.AbstractModule;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Key;
import com.google.inject.Stage;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.cairn.runtime.Cairn;
import jakarta.inject.Inject;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12: {@link CairnModule} binds its registries under {@link CairnMetrics}, so an application
 * that binds its own {@link MetricRegistry} and {@link HealthCheckRegistry} gets an injector, not a
 * duplicate-binding error, and each side injects its own.
 */
class QualifiedRegistriesTest {
  @TempDir Path dir;

  private static final MetricRegistry APP_METRICS = new MetricRegistry();
  private static final HealthCheckRegistry APP_HEALTH = new HealthCheckRegistry();

  /** An application's own wiring, as it was before it added Cairn. */
  static final class ApplicationModule extends AbstractModule {
    @Override
    protected void configure() {
      bind(MetricRegistry.class).toInstance(APP_METRICS);
      bind(HealthCheckRegistry.class).toInstance(APP_HEALTH);
    }
  }

  static final class Service {
    @Inject MetricRegistry appMetrics;
    @Inject HealthCheckRegistry appHealth;
    @Inject @CairnMetrics MetricRegistry cairnMetrics;
    @Inject @CairnMetrics HealthCheckRegistry cairnHealth;
    @Inject Cairn cairn;
  }

  private Config config() {
    return ConfigFactory.parseString(
        "cairn.backends.main { type = memory, durability = none }\n"
            + "cairn.modules = [queue]\n"
            + "cairn.queues.orders { backend = main }\n");
  }

  @Test
  void anApplicationBindingItsOwnRegistriesKeepsThemAndCairnKeepsItsOwn() {
    Injector injector =
        Guice.createInjector(
            Stage.PRODUCTION,
            new ApplicationModule(),
            new CairnModule(Cairn.builder(config()).baseDirectory(dir)));
    Service s = injector.getInstance(Service.class);
    try {
      assertThat(s.appMetrics).isSameAs(APP_METRICS);
      assertThat(s.appHealth).isSameAs(APP_HEALTH);
      assertThat(s.cairnMetrics).isSameAs(s.cairn.metrics()).isNotSameAs(APP_METRICS);
      assertThat(s.cairnHealth).isSameAs(s.cairn.healthChecks()).isNotSameAs(APP_HEALTH);
      assertThat(s.cairnMetrics.getNames()).anyMatch(n -> n.startsWith("cairn.queues.orders."));
      assertThat(APP_METRICS.getNames()).noneMatch(n -> n.startsWith("cairn."));
    } finally {
      s.cairn.close();
    }
  }

  @Test
  void anApplicationMayHandCairnItsRegistryToPublishInto() {
    MetricRegistry shared = new MetricRegistry();
    Injector injector =
        Guice.createInjector(
            Stage.PRODUCTION,
            new CairnModule(Cairn.builder(config()).baseDirectory(dir).metrics(shared)));
    Cairn cairn = injector.getInstance(Cairn.class);
    try {
      assertThat(injector.getInstance(Key.get(MetricRegistry.class, CairnMetrics.class)))
          .isSameAs(shared);
      assertThat(shared.getNames()).anyMatch(n -> n.startsWith("cairn.queues.orders."));
      assertThat(injector.getExistingBinding(Key.get(MetricRegistry.class)))
          .as("no unqualified binding that could collide")
          .isNull();
    } finally {
      cairn.close();
    }
  }
}
