package io.cairn.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StorageBackend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's Java example, compiled and run. {@link #readmeShowsThisExample()} fails if the
 * README's code block and the marked region below drift apart.
 */
class ReadmeExampleTest {
  @TempDir Path dir;

  @Test
  void example() {
    Path dataDir = dir.resolve("orders");
    // README-EXAMPLE-START
    Config config =
        ConfigFactory.parseString(
            "cairn.backends.main { type = sqlite, data-dir = \"" + dataDir + "\" }");
    try (PersistenceRegistry registry = PersistenceRegistry.open(config)) {
      StorageBackend main = registry.backend("main");
      KeyValueStore orders = main.keyValue("orders");
      LogStore audit = main.log("audit");

      long v1 = orders.put("o-1".getBytes(UTF_8), "placed".getBytes(UTF_8));
      // Compare-and-set on the version just read: fails with VersionConflictException if
      // someone else wrote in between.
      orders.compareAndSet("o-1".getBytes(UTF_8), v1, "paid".getBytes(UTF_8), null);

      // A state change and its audit record commit together or not at all.
      long offset =
          main.inTransaction(
              tx -> {
                tx.keyValue("orders").put("o-1".getBytes(UTF_8), "shipped".getBytes(UTF_8));
                return tx.log("audit").append("o-1 shipped".getBytes(UTF_8));
              });

      List<LogRecord> replay = audit.read(audit.firstOffset(), 100); // bounded read
      System.out.println(new String(orders.get("o-1".getBytes(UTF_8)), UTF_8)); // shipped
      // README-EXAMPLE-END
      assertThat(orders.get("o-1".getBytes(UTF_8))).isEqualTo("shipped".getBytes(UTF_8));
      assertThat(replay).hasSize(1);
      assertThat(replay.get(0).offset()).isEqualTo(offset).isZero();
      assertThat(registry.metrics().timer("cairn.backends.main.kv.put").getCount()).isEqualTo(1);
    }
  }

  @Test
  void readmeShowsThisExample() throws IOException {
    Path root = Path.of("").toAbsolutePath();
    while (!Files.exists(root.resolve("README.md")) && root.getParent() != null) {
      root = root.getParent();
    }
    String readme = Files.readString(root.resolve("README.md"));
    String source =
        Files.readString(root.resolve("cli/src/test/java/io/cairn/cli/ReadmeExampleTest.java"));
    assertThat(normalize(between(readme, "<!-- example:start -->\n```java\n", "```\n")))
        .isEqualTo(
            normalize(between(source, "// README-EXAMPLE-START\n", "// README-EXAMPLE-END")));
  }

  private static String between(String text, String start, String end) {
    int s = text.indexOf(start);
    assertThat(s).as("marker %s", start).isNotNegative();
    int e = text.indexOf(end, s + start.length());
    assertThat(e).as("marker %s", end).isPositive();
    return text.substring(s + start.length(), e);
  }

  private static String normalize(String code) {
    return code.lines()
        .map(String::strip)
        .filter(l -> !l.isEmpty())
        .reduce("", (a, b) -> a + b + "\n");
  }
}
