package io.cairn.pekko;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Actor-system configurations that select the Cairn plugins over a backend in a temp dir. */
final class TestConfigs {
  private TestConfigs() {}

  /** A fresh temporary data directory (deleted by {@link #delete}). */
  static Path tempDir(String type) {
    try {
      return Files.createTempDirectory("cairn-pekko-" + type + "-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Journal and snapshot store on backend {@code main} of {@code type} in {@code dir}, with {@code
   * durability}.
   */
  static Config plugins(String type, Path dir, String durability) {
    return ConfigFactory.parseString(
        String.join(
            "\n",
            "pekko.persistence.journal.plugin = cairn.pekko.journal",
            "pekko.persistence.snapshot-store.plugin = cairn.pekko.snapshot-store",
            "pekko.persistence.journal.auto-start-journals = []",
            "pekko.loglevel = WARNING",
            // a loaded build machine: scale the TCK's expectMsg timeouts (3 s by default)
            "pekko.test.timefactor = 5",
            "cairn.pekko.journal.backend = main",
            "cairn.pekko.snapshot-store.backend = main",
            "cairn.backends.main {",
            "  type = " + type,
            "  data-dir = \"" + dir.resolve("data").toString().replace("\\", "/") + "\"",
            "  durability = " + durability,
            "}"));
  }

  static void delete(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.delete(p);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
