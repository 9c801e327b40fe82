package io.cairn.bench.peers;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The front page: history kept, groups checked against the counted syncs, failures named. */
class PeersReportTest {
  @TempDir Path dir;

  @Test
  void keepsTheHistoryAndFlagsAContradictedGroupAndNamesFailures() throws Exception {
    Files.writeString(dir.resolve("RESULTS.md"), "# Benchmark results\n\nold figures\n");
    Path results = Files.createDirectories(dir.resolve("results"));
    Path json = results.resolve("peers.json");
    Files.writeString(
        json,
        "[{\"benchmark\":\"io.cairn.bench.peers.PeerKeyValueBenchmark.put\",\"threads\":1,"
            + "\"params\":{\"impl\":\"CAIRN_ROCKSDB_FULL\",\"keys\":\"10000\"},"
            + "\"primaryMetric\":{\"score\":1000.0,\"scoreError\":\"NaN\",\"scoreUnit\":\"ops/s\"}},"
            + "{\"benchmark\":\"io.cairn.bench.peers.PeerKeyValueBenchmark.put\",\"threads\":1,"
            + "\"params\":{\"impl\":\"LMDB_SYNC\",\"keys\":\"10000\"},"
            + "\"primaryMetric\":{\"score\":500.0,\"scoreError\":20.0,\"scoreUnit\":\"ops/s\"}}]");
    Path syncs = results.resolve("syncs.tsv");
    Files.writeString(
        syncs, "impl\tsyncs_per_op\to_dsync\nLMDB_SYNC\t1.000\tyes\nMVSTORE_SYNC\t0.000\tno\n");
    Path machine = results.resolve("peers.machine.txt");
    Files.writeString(machine, "Command: `benchmarks/run --quick --report`\n");
    Path log = results.resolve("peers-jmh.log");
    Files.write(
        log,
        List.of(
            "# Parameters: (impl = CHRONICLE_MAP, keys = 10000)",
            "",
            "<failure>",
            "",
            "java.lang.IllegalAccessError: module java.base does not export jdk.internal.ref"));

    for (int run = 0; run < 2; run++) { // a second run keeps the same history, not two copies
      PeersReport.main(new String[] {results.toString(), dir.toString()});
    }

    String page = Files.readString(dir.resolve("RESULTS.md"), StandardCharsets.UTF_8);
    assertThat(page).containsOnlyOnce(PeersReport.HISTORY_MARKER).containsOnlyOnce("old figures");
    assertThat(page.indexOf("old figures")).isGreaterThan(page.indexOf(PeersReport.HISTORY_MARKER));
    assertThat(page)
        .contains("| LMDB_SYNC |")
        .contains("500 ± 20 | — | 0.50 | 1.000 + O_DSYNC file |")
        .contains("| MVSTORE_SYNC |")
        .contains("0.000 **CONTRADICTS GROUP**")
        .contains("CHRONICLE_MAP: `java.lang.IllegalAccessError: module java.base")
        .contains("Command: `benchmarks/run --quick --report`");
    assertThat(dir.resolve("charts/kv-put-fsync-per-commit.png")).isNotEmptyFile();
  }
}
