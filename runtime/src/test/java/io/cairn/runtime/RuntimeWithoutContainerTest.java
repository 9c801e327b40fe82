package io.cairn.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import io.cairn.config.CairnConfig;
import io.cairn.persistence.Codec;
import io.cairn.persistence.ConfigurationException;
import io.cairn.queue.Delivery;
import io.cairn.raft.RaftEntry;
import io.cairn.raft.RaftGroups;
import io.cairn.raft.RaftStorage;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12, "a Guice-free runtime": {@link Cairn} opens everything a configuration selects —
 * queues, caches, route tables and Raft groups — with no dependency-injection container on the
 * class path (this module's test class path has none), and its classes refer to none.
 */
class RuntimeWithoutContainerTest {
  @TempDir Path dir;

  private Config file(String text) throws IOException {
    Path file = dir.resolve("app.conf");
    Files.writeString(file, text);
    return CairnConfig.load(file);
  }

  private Config everything() throws IOException {
    return file(
        "cairn {\n"
            + "  backends.main { type = sqlite, data-dir = \""
            + dir.resolve("data/main")
            + "\" }\n"
            + "  queues.orders { backend = main }\n"
            + "  caches.sessions { backend = main }\n"
            + "  route-tables.catalog { backend = main }\n"
            + "}\n"
            + RaftGroups.PATH
            + ".orders-group { backend = main }\n");
  }

  @Test
  void noContainerIsOnTheClassPath() {
    for (String type :
        List.of("com.google.inject.Module", "jakarta.inject.Inject", "javax.inject.Inject")) {
      assertThatThrownBy(() -> Class.forName(type))
          .as(type)
          .isInstanceOf(ClassNotFoundException.class);
    }
  }

  @Test
  void runtimeClassesReferToNoContainer() throws IOException, URISyntaxException {
    Path classes =
        Path.of(Cairn.class.getProtectionDomain().getCodeSource().getLocation().toURI())
            .resolve("io/cairn/runtime");
    List<Path> files;
    try (Stream<Path> s = Files.list(classes)) {
      files = s.filter(p -> p.toString().endsWith(".class")).toList();
    }
    assertThat(files).hasSizeGreaterThan(5);
    for (Path f : files) {
      String bytes = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
      assertThat(bytes)
          .as(f.getFileName().toString())
          .doesNotContain("com/google/inject")
          .doesNotContain("jakarta/inject")
          .doesNotContain("javax/inject");
    }
  }

  @Test
  void openSelectsEverySubsystemAndRaftStateSurvivesARestart() throws IOException {
    Config config = everything();
    try (Cairn cairn =
        Cairn.builder(config).queueCodec("orders", String.class, Codec.utf8()).build().start()) {
      assertThat(cairn.modules()).containsExactly("cache", "queue", "routing", "raft");
      assertThat(cairn.raftGroupNames()).containsExactly("orders-group");
      cairn.queue("orders", String.class).enqueue("o-1");
      Delivery<String> d = cairn.queue("orders", String.class).poll(Duration.ofSeconds(5)).get();
      assertThat(d.payload()).isEqualTo("o-1");
      RaftStorage raft = cairn.raftStorage("orders-group");
      assertThat(cairn.raftStorage("orders-group")).as("one writer per group").isSameAs(raft);
      raft.persistTerm(3, new byte[] {7});
      raft.append(List.of(new RaftEntry(1, 3, new byte[] {1})));
    }
    try (Cairn again = Cairn.open(config)) {
      var state = again.raftStorage("orders-group").restore();
      assertThat(state.term()).isEqualTo(3);
      assertThat(state.lastIndex()).isEqualTo(1);
    }
  }

  @Test
  void anUnconfiguredRaftGroupIsAConfigurationError() throws IOException {
    try (Cairn cairn = Cairn.open(everything())) {
      assertThatThrownBy(() -> cairn.raftStorage("order-group"))
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("order-group")
          .hasMessageContaining("orders-group");
    }
  }

  @Test
  void raftGroupsWithoutTheRaftModuleAreRefused() throws IOException {
    Config config =
        file(
            "cairn.backends.main { type = memory, durability = none }\n"
                + "cairn.modules = [queue]\n"
                + RaftGroups.PATH
                + ".g { backend = main }\n");
    assertThatThrownBy(() -> Cairn.builder(config).build())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("to list 'raft'");
  }

  @Test
  void aListedClassThatLoadsWithoutGuiceIsNotAGuiceModule() throws IOException {
    Config config =
        file(
            "cairn.backends.main { type = memory, durability = none }\n"
                + "cairn.modules = [queue, java.lang.String]\n");
    assertThatThrownBy(() -> Cairn.builder(config).build())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("java.lang.String, which is not a Guice module");
  }
}
