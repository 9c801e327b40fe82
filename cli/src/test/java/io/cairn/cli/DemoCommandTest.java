package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cairn demo} on the embedded default backend, run twice on one data directory. */
class DemoCommandTest {
  @TempDir Path dir;

  @Test
  void secondRunFindsTheFirstRunsData() {
    String dataDir = dir.resolve("demo").toString();
    CliRunner first = CliRunner.run("demo", "--data-dir", dataDir);
    assertThat(first.exitCode()).as(first.err()).isZero();
    assertThat(first.out())
        .contains("type sqlite", "First run", "read back 1000/1000", "gap-free: true")
        .contains("checksum-verified: true", "cairn.backends.demo.kv.put-all")
        .contains("enqueued 10, acked 9, left 1 unacknowledged")
        .contains("loader calls 100")
        .contains("empty table on first run", "/api/v2/svc7/orders/42 -> /api/v2/svc7");

    CliRunner second = CliRunner.run("demo", "--data-dir", dataDir);
    assertThat(second.exitCode()).as(second.err()).isZero();
    assertThat(second.out())
        .contains("Found data after restart: 1 earlier run(s); 1001 entries in kv:demo-users")
        .contains("offsets 0..199")
        .contains("appended offsets 200..399")
        .contains(
            "QUEUE found 1 message(s) from earlier runs (1 redelivered after an expired lease)")
        .containsPattern("restored \\d+ routes at version \\d+ from snapshot \\+ log replay");
    // Every one of the 100 keys is found in L2 after the restart and none is loaded again. A key
    // read again before the fill thread copied it into L1 (an L2 hit's L1 copy is made there, see
    // TieredCache) is one more L2 hit, so the count is at least 100, not exactly 100.
    java.util.regex.Matcher cache =
        java.util.regex.Pattern.compile("L2 hits (\\d+), loader calls (\\d+)")
            .matcher(second.out());
    assertThat(cache.find()).as(second.out()).isTrue();
    assertThat(Integer.parseInt(cache.group(1))).as("L2 hits").isGreaterThanOrEqualTo(100);
    assertThat(Integer.parseInt(cache.group(2))).as("loader calls").isZero();
  }
}
