package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.PersistenceRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code cairn log tail|dump} through the real shaded jar in a child JVM, on SQLite and RocksDB:
 * records appended here at known append times (the registry's clock), read back as JSON lines,
 * filtered by {@code --after} (each child JVM costs seconds on a loaded machine: the other options
 * and the errors are in {@link LogCommandTest}, in-process), and followed while this JVM (another
 * process) holds the backend and appends.
 */
class LogCommandIT {
  static final Instant T1 = Instant.parse("2026-12-05T10:00:00Z");
  static final Instant T2 = Instant.parse("2026-12-05T11:00:00Z");

  @TempDir Path dir;

  private Path config(String type) throws IOException {
    return config(dir, type);
  }

  static Path config(Path dir, String type) throws IOException {
    Path f = dir.resolve("app.conf");
    Files.writeString(
        f,
        "cairn.backends.b { type = "
            + type
            + ", durability = normal, data-dir = \""
            + dir.resolve("data")
            + "\" }\n");
    return f;
  }

  private JarRunner cairn(String... args) {
    return JarRunner.run(dir, Map.of(), List.of(), args);
  }

  /** Each line of a JSON-lines output, parsed. */
  private static List<Config> jsonLines(JarRunner r) {
    assertThat(r.exitCode()).as(r.all()).isZero();
    return jsonLines(r.out());
  }

  static List<Config> jsonLines(String out) {
    List<Config> lines = new ArrayList<>();
    for (String line : out.split("\n")) {
      if (!line.isBlank()) {
        assertThat(line).startsWith("{").endsWith("}");
        lines.add(
            ConfigFactory.parseString(
                line, ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON)));
      }
    }
    return lines;
  }

  /**
   * Log {@code audit}: "early-0..2" appended at {@link #T1}, "late-0..2" and the non-UTF-8 bytes ff
   * 00 10 at {@link #T2} (offsets 0-6); log {@code other}: "x\ny" at T2.
   */
  static void fill(Path conf) {
    AtomicLong now = new AtomicLong(T1.toEpochMilli());
    try (PersistenceRegistry r = open(conf, new TestClock(now))) {
      LogStore audit = r.backend("b").log("audit");
      for (int i = 0; i < 3; i++) {
        audit.append(("early-" + i).getBytes(StandardCharsets.UTF_8));
      }
      now.set(T2.toEpochMilli());
      for (int i = 0; i < 3; i++) {
        audit.append(("late-" + i).getBytes(StandardCharsets.UTF_8));
      }
      audit.append(new byte[] {(byte) 0xff, 0x00, 0x10}); // not UTF-8: hex
      r.backend("b").log("other").append("x\ny".getBytes(StandardCharsets.UTF_8));
    }
  }

  private static PersistenceRegistry open(Path conf, Clock clock) {
    return PersistenceRegistry.builder().clock(clock).open(ConfigFactory.parseFile(conf.toFile()));
  }

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "rocksdb"})
  void tailAndDumpPrintOffsetsAppendTimesAndPayloads(String type) throws IOException {
    Path conf = config(type);
    String c = conf.toString();
    fill(conf);

    // tail: the last N, JSON lines
    List<Config> tail = jsonLines(cairn("log", "tail", "audit", "-n", "2", "--json", "-c", c));
    assertThat(tail).hasSize(2);
    assertThat(tail.get(0).getString("log")).isEqualTo("audit");
    assertThat(tail.get(0).getLong("offset")).isEqualTo(5);
    assertThat(tail.get(0).getString("appendedAt")).isEqualTo(T2.toString());
    assertThat(tail.get(0).getLong("appendedAtMillis")).isEqualTo(T2.toEpochMilli());
    assertThat(tail.get(0).getString("encoding")).isEqualTo("utf8");
    assertThat(tail.get(0).getString("payload")).isEqualTo("late-2");
    assertThat(tail.get(0).getInt("size")).isEqualTo(6);
    assertThat(tail.get(1).getLong("offset")).isEqualTo(6);
    assertThat(tail.get(1).getString("encoding")).isEqualTo("hex");
    assertThat(tail.get(1).getString("payload")).isEqualTo("ff0010");

    // dump --after: only the records appended after T1 (strictly), any zone accepted
    List<Config> after =
        jsonLines(cairn("log", "dump", "audit", "--after", T1.toString(), "--json", "-c", c));
    assertThat(after).extracting(l -> l.getLong("offset")).containsExactly(3L, 4L, 5L, 6L);
    // the rest of the options and errors: LogCommandTest, in-process
  }

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "rocksdb"})
  void followSeesRecordsAnotherProcessAppends(String type) throws Exception {
    Path conf = config(type);
    Path out = dir.resolve("follow.out");
    Path err = dir.resolve("follow.err");
    try (PersistenceRegistry r = PersistenceRegistry.open(ConfigFactory.parseFile(conf.toFile()))) {
      LogStore audit = r.backend("b").log("audit");
      audit.append("before".getBytes(StandardCharsets.UTF_8));
      Process follow =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-jar",
                  JarRunner.jar().toString(),
                  "log",
                  "tail",
                  "audit",
                  "--follow",
                  "--json",
                  "--poll",
                  "200ms",
                  "-c",
                  conf.toString())
              .directory(dir.toFile())
              .redirectOutput(out.toFile())
              .redirectError(err.toFile())
              .start();
      try {
        // this JVM holds the backend's lock: the follower must have opened it read-only
        waitFor(
            () -> read(out).contains("\"payload\":\"before\""), follow, err, "the first record");
        assertThat(read(err)).contains("following log 'audit'");
        long at = audit.append("live-1".getBytes(StandardCharsets.UTF_8));
        waitFor(() -> read(out).contains("\"payload\":\"live-1\""), follow, err, "live-1");
        audit.appendAll(
            List.of(
                "live-2".getBytes(StandardCharsets.UTF_8),
                "live-3".getBytes(StandardCharsets.UTF_8)));
        waitFor(() -> read(out).contains("\"payload\":\"live-3\""), follow, err, "live-3");
        List<String> lines = read(out).lines().toList();
        assertThat(lines).hasSize(4);
        assertThat(lines.get(1)).contains("\"offset\":" + at);
        assertThat(follow.isAlive()).as(read(err)).isTrue();
      } finally {
        follow.destroy(); // SIGTERM: the shutdown hook closes the backend
        if (!follow.waitFor(1, TimeUnit.MINUTES)) {
          follow.destroyForcibly();
        }
      }
      // the service never noticed: it still writes
      audit.append("after".getBytes(StandardCharsets.UTF_8));
      assertThat(read(err)).doesNotContain("internal error").doesNotContain("Exception");
    }
  }

  private interface Check {
    boolean ok() throws IOException;
  }

  /**
   * Waits up to 2 minutes (a loaded machine) for {@code check}, failing early if the child died.
   */
  private static void waitFor(Check check, Process p, Path err, String what) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    while (!check.ok()) {
      if (!p.isAlive()) {
        throw new AssertionError(
            "cairn log tail --follow exited "
                + p.exitValue()
                + " before "
                + what
                + ": "
                + read(err));
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no " + what + " within 2 minutes; stderr: " + read(err));
      }
      Thread.sleep(100);
    }
  }

  private static String read(Path f) throws IOException {
    return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8) : "";
  }

  /** A clock the test sets. */
  static final class TestClock extends Clock {
    private final AtomicLong millis;

    TestClock(AtomicLong millis) {
      this.millis = millis;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public long millis() {
      return millis.get();
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis());
    }
  }
}
