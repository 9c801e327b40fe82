package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.PersistenceRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cairn export}, {@code import} and {@code migrate} in-process: output, {@code --json}, exit
 * codes, refusals, and the {@code migration} event (counts, never keys or values).
 */
class TransferCommandsTest {
  private static final String MARKER = "MARKER-7f3a-never-in-events";

  @TempDir Path dir;
  Path config;
  Path events;

  @BeforeEach
  void data() throws IOException {
    events = dir.resolve("events.jsonl");
    config = dir.resolve("app.conf");
    Files.writeString(
        config,
        "cairn.backends {\n"
            + "  main { type = sqlite, data-dir = \""
            + dir.resolve("main")
            + "\" }\n"
            + "  mem { type = memory }\n"
            + "}\n"
            + "cairn.events { sink = file, file = \""
            + events
            + "\" }\n");
    try (PersistenceRegistry r =
        PersistenceRegistry.open(ConfigFactory.parseFile(config.toFile()))) {
      var main = r.backend("main");
      StoreContents.populate(main, 300);
      main.keyValue("secrets").put(bytes(MARKER + "key"), bytes(MARKER + "value"));
      main.log("events").append(bytes(MARKER + "payload"));
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void exportThenImportIntoAnotherBackendTypeVerifiesEveryStore() throws IOException {
    Path file = dir.resolve("main.cairnexp");
    CliRunner e =
        CliRunner.run(
            "export",
            "--config",
            config.toString(),
            "--backend",
            "main",
            "--to",
            file.toString(),
            "--json");
    assertThat(e.exitCode()).as(e.err()).isZero();
    assertThat(e.out().replaceAll("\\s", ""))
        .contains("\"formatVersion\":1")
        .contains("\"name\":\"users\"");
    assertThat(file).exists();
    assertThat(dir.resolve("main.cairnexp.partial")).doesNotExist();

    CliRunner i =
        CliRunner.run(
            "import", "--config", config.toString(), "--backend", "mem", "--from", file.toString());
    assertThat(i.exitCode()).as(i.err()).isZero();
    assertThat(i.out())
        .contains("kv:users")
        .contains("log:events")
        .contains("snapshot:state")
        .contains("Verified: every store has the same count and checksum");

    // the file exists now: a second export refuses to overwrite it
    CliRunner again =
        CliRunner.run(
            "export", "--config", config.toString(), "--backend", "main", "--to", file.toString());
    assertThat(again.exitCode()).isEqualTo(CairnCommand.USAGE);
    assertThat(again.err()).contains("exists; give a new file");
  }

  @Test
  void aDamagedFileExitsOneNamingWhere() throws IOException {
    Path file = dir.resolve("main.cairnexp");
    assertThat(
            CliRunner.run("export", "-c", config.toString(), "-b", "main", "--to", file.toString())
                .exitCode())
        .isZero();
    byte[] s = Files.readAllBytes(file);
    Files.write(file, java.util.Arrays.copyOf(s, s.length - 10));
    CliRunner i =
        CliRunner.run(
            "import", "--config", config.toString(), "--backend", "mem", "--from", file.toString());
    assertThat(i.exitCode()).isEqualTo(CairnCommand.PROBLEMS);
    assertThat(i.err()).contains("Truncated export stream").contains("byte offset");
  }

  @Test
  void migratePrintsTheTableAndEmitsAMigrationEventWithoutKeysOrValues() throws IOException {
    CliRunner m =
        CliRunner.run(
            "migrate", "--config", config.toString(), "--from", "main", "--to", "mem", "--json");
    assertThat(m.exitCode()).as(m.err()).isZero();
    assertThat(m.out().replaceAll("\\s", ""))
        .startsWith("{\"verified\":true")
        .contains("\"name\":\"secrets\"");
    String ev = Files.readString(events).replaceAll("\\s", "");
    assertThat(ev)
        .contains("\"type\":\"migration\"")
        .contains("\"from\":\"main\"")
        .contains("\"to\":\"mem\"")
        .contains("\"verified\":true")
        .contains("\"entries\":");
    assertThat(ev).doesNotContain(MARKER);

    CliRunner text =
        CliRunner.run("migrate", "-c", config.toString(), "--from", "main", "--to", "mem");
    assertThat(text.out()).contains("store").contains("source").contains("target").contains(" ok");

    CliRunner same =
        CliRunner.run("migrate", "-c", config.toString(), "--from", "main", "--to", "main");
    assertThat(same.exitCode()).isEqualTo(CairnCommand.USAGE);
    assertThat(same.err()).contains("the same backend 'main'");
  }

  @Test
  void importIntoANonEmptyStoreNamesItAndWritesNothing() throws IOException {
    Path file = dir.resolve("main.cairnexp");
    assertThat(
            CliRunner.run("export", "-c", config.toString(), "-b", "main", "--to", file.toString())
                .exitCode())
        .isZero();
    CliRunner i =
        CliRunner.run(
            "import",
            "--config",
            config.toString(),
            "--backend",
            "main",
            "--from",
            file.toString());
    assertThat(i.exitCode()).isEqualTo(CairnCommand.USAGE);
    assertThat(i.err())
        .contains("backend 'main'")
        .contains("is not empty")
        .contains("nothing was written");
  }
}
