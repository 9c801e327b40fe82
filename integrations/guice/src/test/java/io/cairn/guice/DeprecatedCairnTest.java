package io.cairn.guice;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.inject.Guice;
import com.google.inject.Injector;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.Codec;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Code written against 0.1's {@code io.cairn.guice.Cairn} still compiles and runs: the deprecated
 * type delegates to {@link io.cairn.runtime.Cairn}, and the injector binds it over the same
 * instance.
 */
@SuppressWarnings("removal")
class DeprecatedCairnTest {
  @TempDir Path dir;

  private Config config() {
    return ConfigFactory.parseString(
        "cairn.backends.main { type = memory, durability = none }\n"
            + "cairn.modules = [queue]\n"
            + "cairn.queues.orders { backend = main }\n");
  }

  @Test
  void theOldEntryPointStillOpensAndTheInjectorBindsIt() {
    Cairn.Builder old =
        Cairn.builder(config()).baseDirectory(dir).queueCodec("orders", String.class, Codec.utf8());
    Injector injector = Guice.createInjector(new CairnModule(old));
    Cairn cairn = injector.getInstance(Cairn.class);
    io.cairn.runtime.Cairn runtime = injector.getInstance(io.cairn.runtime.Cairn.class);
    assertThat(cairn.runtime()).isSameAs(runtime);
    try {
      cairn.start().queue("orders", String.class).enqueue("o-1");
      assertThat(runtime.queue("orders", String.class).poll(Duration.ofSeconds(5)))
          .hasValueSatisfying(d -> assertThat(d.payload()).isEqualTo("o-1"));
      assertThat(cairn.queueNames()).containsExactly("orders");
    } finally {
      cairn.close();
    }
    assertThat(runtime.isRunning()).isFalse();
    try (Cairn plain = Cairn.open(config())) {
      assertThat(plain.isRunning()).isTrue();
    }
  }
}
