package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.PersistenceRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cairn export}, {@code import} and {@code migrate} through the real runnable jar, SQLite to
 * RocksDB and back, {@code --json} checked; then the copies are opened and compared exactly.
 */
class TransferIT {
  @TempDir Path dir;

  @Test
  void exportImportAndMigrateThroughTheJar() throws Exception {
    Path config = dir.resolve("app.conf");
    Files.writeString(
        config,
        "cairn.backends {\n"
            + "  main { type = sqlite, data-dir = main }\n"
            + "  fast { type = rocksdb, data-dir = fast }\n"
            + "  back { type = sqlite, data-dir = back }\n"
            + "}\n");
    var parsed = ConfigFactory.parseFile(config.toFile());
    try (PersistenceRegistry r = PersistenceRegistry.builder().baseDirectory(dir).open(parsed)) {
      StoreContents.populate(r.backend("main"), 2000);
    }
    String c = config.toString();
    JarRunner e =
        JarRunner.run(
            dir, Map.of(), List.of(), "export", "-c", c, "-b", "main", "--to", "m.cairnexp");
    assertThat(e.exitCode()).as(e.all()).isZero();
    assertThat(e.out()).contains("Exported sqlite backend 'main'").contains("kv:users");
    JarRunner i =
        JarRunner.run(
            dir,
            Map.of(),
            List.of(),
            "import",
            "-c",
            c,
            "-b",
            "fast",
            "--from",
            "m.cairnexp",
            "--json");
    assertThat(i.exitCode()).as(i.all()).isZero();
    assertThat(i.out().replaceAll("\\s", "")).startsWith("{\"verified\":true");
    JarRunner m =
        JarRunner.run(
            dir, Map.of(), List.of(), "migrate", "-c", c, "--from", "fast", "--to", "back");
    assertThat(m.exitCode()).as(m.all()).isZero();
    assertThat(m.out()).contains("Verified: every store has the same count and checksum");
    JarRunner again =
        JarRunner.run(
            dir, Map.of(), List.of(), "migrate", "-c", c, "--from", "main", "--to", "back");
    assertThat(again.exitCode()).isEqualTo(CairnCommand.USAGE);
    assertThat(again.err()).contains("is not empty").contains("nothing was written");
    try (PersistenceRegistry r = PersistenceRegistry.builder().baseDirectory(dir).open(parsed)) {
      StoreContents.assertSame(r.backend("main"), r.backend("fast"));
      StoreContents.assertSame(r.backend("main"), r.backend("back"));
    }
  }
}
