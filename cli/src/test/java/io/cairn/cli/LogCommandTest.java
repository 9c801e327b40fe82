package io.cairn.cli;

import static io.cairn.cli.LogCommandIT.T1;
import static io.cairn.cli.LogCommandIT.T2;
import static io.cairn.cli.LogCommandIT.jsonLines;
import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code cairn log} in-process: the options and errors {@link LogCommandIT} leaves out to keep its
 * child JVMs few (payload renderings, text output, zoned {@code --after}, a missing log, bad
 * values, a backend that cannot be followed).
 */
class LogCommandTest {
  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "rocksdb"})
  void optionsAndErrors(String type) throws IOException {
    Path conf = LogCommandIT.config(dir, type);
    String c = conf.toString();
    LogCommandIT.fill(conf);

    // tail --from (every record from there, -n ignored), base64
    CliRunner from =
        CliRunner.run(
            "log", "tail", "audit", "--from", "4", "--payload", "base64", "--json", "-c", c);
    assertThat(from.exitCode()).as(from.err()).isZero();
    List<Config> fromLines = jsonLines(from.out());
    assertThat(fromLines).extracting(l -> l.getLong("offset")).containsExactly(4L, 5L, 6L);
    assertThat(fromLines.get(0).getString("encoding")).isEqualTo("base64");
    assertThat(fromLines.get(0).getString("payload"))
        .isEqualTo(Base64.getEncoder().encodeToString("late-1".getBytes(StandardCharsets.UTF_8)));

    // --after with a zone offset: 11:59:59+01:00 is 10:59:59Z, so the four records of T2
    CliRunner zoned =
        CliRunner.run(
            "log", "dump", "audit", "--after", "2026-12-05T11:59:59+01:00", "--json", "-c", c);
    assertThat(jsonLines(zoned.out()))
        .extracting(l -> l.getLong("offset"))
        .containsExactly(3L, 4L, 5L, 6L);
    // strictly after: nothing was appended after T2
    assertThat(
            jsonLines(
                CliRunner.run("log", "dump", "audit", "--after", T2.toString(), "--json", "-c", c)
                    .out()))
        .isEmpty();
    assertThat(
            jsonLines(
                CliRunner.run("log", "dump", "audit", "--after", T1.toString(), "--json", "-c", c)
                    .out()))
        .hasSize(4);

    // every log, sizes only
    CliRunner all = CliRunner.run("log", "dump", "--json", "--payload", "none", "-c", c);
    List<Config> allLines = jsonLines(all.out());
    assertThat(allLines).hasSize(8);
    assertThat(allLines).extracting(l -> l.getString("log")).contains("audit", "other");
    assertThat(allLines.get(0).hasPath("payload")).isFalse();
    assertThat(allLines.get(0).hasPath("encoding")).isFalse();

    // readable text: offset, ISO time, size, payload on one line (the newline escaped)
    CliRunner text = CliRunner.run("log", "dump", "other", "-c", c);
    assertThat(text.exitCode()).as(text.err()).isZero();
    assertThat(text.out().strip()).matches("0\\s+" + T2 + "\\s+3 B\\s+x\\\\ny");
    CliRunner hex = CliRunner.run("log", "tail", "audit", "-n", "1", "-c", c);
    assertThat(hex.out()).contains("hex:ff0010");
    CliRunner everyText = CliRunner.run("log", "dump", "-c", c);
    assertThat(everyText.out()).contains("log audit: offsets 0..6 (7 records)").contains("other ");

    // a missing log is named, with the logs there are
    CliRunner missing = CliRunner.run("log", "tail", "nope", "-c", c);
    assertThat(missing.exitCode()).isEqualTo(CairnCommand.USAGE);
    assertThat(missing.err()).contains("no log 'nope'").contains("[audit, other]");
    assertThat(CliRunner.run("log", "dump", "nope", "-c", c).err()).contains("no log 'nope'");

    // bad values: a unit-less time, a negative offset, a poll without unit
    CliRunner badTime = CliRunner.run("log", "dump", "audit", "--after", "1796490000", "-c", c);
    assertThat(badTime.exitCode()).isEqualTo(CairnCommand.USAGE);
    assertThat(badTime.err()).contains("ISO-8601").contains("2026-12-05T17:00:00Z");
    CliRunner localTime =
        CliRunner.run("log", "dump", "audit", "--after", "2026-12-05T10:00:00", "-c", c);
    assertThat(localTime.exitCode()).isEqualTo(CairnCommand.USAGE);
    CliRunner badOffset = CliRunner.run("log", "dump", "audit", "--from", "-1", "-c", c);
    assertThat(badOffset.exitCode()).isEqualTo(CairnCommand.USAGE);
    assertThat(badOffset.err()).contains("--from takes an offset of 0 or more");
    CliRunner badPoll = CliRunner.run("log", "tail", "audit", "--follow", "--poll", "5", "-c", c);
    assertThat(badPoll.exitCode()).isEqualTo(CairnCommand.USAGE);
    assertThat(badPoll.err()).contains("--poll takes a duration with its unit");
  }

  @Test
  void aMemoryBackendCannotBeFollowedAndSaysSo() throws IOException {
    Path conf = dir.resolve("mem.conf");
    Files.writeString(conf, "cairn.backends.m { type = memory }\n");
    CliRunner r = CliRunner.run("log", "tail", "audit", "--follow", "-c", conf.toString());
    assertThat(r.exitCode()).isEqualTo(CairnCommand.USAGE);
    assertThat(r.err()).contains("cannot follow log 'audit'").contains("memory backend 'm'");
  }
}
