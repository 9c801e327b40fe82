package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import io.cairn.persistence.PersistenceRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cairn restore} emits a {@code restore} event to the configured JSON-lines event file:
 * backend, paths, file count, bytes and duration; never a key or value.
 */
class RestoreEventTest {
  private static final String MARKER = "secret-marker-7f3a";

  @TempDir Path dir;

  @Test
  void restoreWritesARestoreEventWithCountsAndNoData() throws IOException {
    Path source = dir.resolve("source.conf");
    Files.writeString(
        source,
        "cairn.backends.main { type = sqlite, data-dir = \"" + dir.resolve("data1") + "\" }\n");
    try (PersistenceRegistry r =
        PersistenceRegistry.open(ConfigFactory.parseFile(source.toFile()))) {
      for (int i = 0; i < 20; i++) {
        r.backend("main").keyValue("kv").put(bytes(MARKER + "-k" + i), bytes(MARKER + "-v" + i));
        r.backend("main").log("audit").append(bytes(MARKER + "-r" + i));
      }
    }
    Path backup = dir.resolve("backup");
    CliRunner b = CliRunner.run("backup", "--config", source.toString(), "--to", backup.toString());
    assertThat(b.exitCode()).as(b.err()).isZero();

    Path events = dir.resolve("events.jsonl");
    Path target = dir.resolve("app.conf");
    Files.writeString(
        target,
        "cairn.backends.main { type = sqlite, data-dir = \""
            + dir.resolve("data2")
            + "\" }\n"
            + "cairn.events { sink = file, file = \""
            + events
            + "\" }\n");
    CliRunner r =
        CliRunner.run(
            "restore", "--config", target.toString(), "--from", backup.toString(), "--yes");
    assertThat(r.exitCode()).as(r.err()).isZero();

    assertThat(events).exists();
    String all = Files.readString(events, StandardCharsets.UTF_8);
    assertThat(all).doesNotContain(MARKER);
    List<Config> restores =
        all.lines()
            .map(
                l ->
                    ConfigFactory.parseString(
                        l, ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON)))
            .filter(c -> c.getString("type").equals("restore"))
            .toList();
    assertThat(restores).hasSize(1);
    Config e = restores.get(0);
    assertThat(e.getString("backend")).isEqualTo("main");
    assertThat(e.getString("time")).isNotEmpty();
    assertThat(e.getString("from")).isEqualTo(backup.toAbsolutePath().normalize().toString());
    assertThat(e.getString("to")).isEqualTo(dir.resolve("data2").toAbsolutePath().toString());
    assertThat(e.getString("backend-type")).isEqualTo("sqlite");
    assertThat(e.getInt("files")).isPositive();
    assertThat(e.getLong("bytes")).isPositive();
    assertThat(e.getBoolean("replaced-data")).isFalse();
    assertThat(e.getLong("duration-ms")).isNotNegative();

    // the restored backend holds the data
    try (PersistenceRegistry reopened =
        PersistenceRegistry.open(ConfigFactory.parseFile(target.toFile()))) {
      assertThat(reopened.backend("main").log("audit").nextOffset()).isEqualTo(20);
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
