package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InspectCommandTest {
  @TempDir Path dir;

  @Test
  void jsonListsBackends() throws IOException {
    Path file = dir.resolve("m.conf");
    Files.writeString(file, "cairn.backends.scratch { type = memory }\n");
    CliRunner r = CliRunner.run("inspect", "--config", file.toString(), "--json");
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out()).contains("\"name\" : \"scratch\"", "\"type\" : \"memory\"");
  }

  @Test
  void unknownOptionIsUsageError() {
    CliRunner r = CliRunner.run("inspect", "--bogus");
    assertThat(r.exitCode()).isEqualTo(CairnCommand.USAGE);
    assertThat(r.err()).contains("--bogus");
  }
}
