package io.cairn.bench.peers;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.bench.cache.CredentialWorkloadBenchmark;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openjdk.jmh.annotations.Param;

/**
 * The issue-15 sections from a small JMH JSON fixture (src/test/resources/report): present results
 * become tables, ratios and charts; absent benchmarks and sizes are said to be not measured.
 */
class FrontPageSectionsTest {
  @TempDir Path dir;

  private Path fixture() throws Exception {
    Path results = Files.createDirectories(dir.resolve("results"));
    for (String f : new String[] {"jmh.json", "scale-footprint-cairn_rocksdb-100000.json"}) {
      try (var in = getClass().getResourceAsStream("/report/" + f)) {
        Files.copy(in, results.resolve(f));
      }
    }
    Files.writeString(
        results.resolve("scale.machine.txt"),
        "Command: `benchmarks/run --quick --report --suite scale`\nLoad: before 1, after 2\n");
    return results;
  }

  @Test
  void rendersWhatWasMeasuredAndNamesWhatWasNot() throws Exception {
    Path results = fixture();
    PeersReport.main(new String[] {results.toString(), dir.toString()});
    String page = Files.readString(dir.resolve("RESULTS.md"), StandardCharsets.UTF_8);

    // The machine of the suite that ran, under its name.
    assertThat(page)
        .contains("### scale\n")
        .contains("- Command: `benchmarks/run --quick --report --suite scale`");
    // No peers results: said so, no peers table.
    assertThat(page)
        .contains("Not measured in this run (no result of `io.cairn.bench.peers.*`)")
        .doesNotContain("| CAIRN_ROCKSDB_FULL |");
    // Threads: one row per thread count; a file holding both sides is one round; no task-clock
    // in the fixture, so CPU per operation is said to be not measured.
    assertThat(page)
        .contains(
            "| put, 1 thread | 1 | 900 | 1,000 | 0.90 | not measured | not measured | not"
                + " measured |")
        .contains("| put, 4 threads | 1 | 1,800 | 2,000 | 0.90 |")
        .contains(
            "Not measured in this run (no result of `io.cairn.bench.sqlite.SqliteThreadsBenchmark`)")
        .contains(
            "Not measured in this run (no result of `io.cairn.bench.rocksdb.RocksDbReopenBenchmark`)")
        .contains(
            "Not measured in this run (no result of"
                + " `io.cairn.bench.cache.CredentialWorkloadBenchmark`)");
    // Scale: the sizes measured, the ratio per engine, the sizes that were not.
    assertThat(page)
        .contains("| CAIRN_ROCKSDB | get | 500,000 ± 1,000 |")
        .contains("| Cairn ÷ raw ROCKSDB | get | **0.80** |")
        .contains("| Cairn ÷ raw SQLITE | put | **0.50** |")
        .contains("Not measured in this run: 1,000,000 keys, 10,000,000 keys.")
        .contains("| CAIRN_ROCKSDB_LOG | 2,000 ± 100 ms (500,000 records/s) |")
        .contains("| CAIRN_SQLITE_LOG | not measured |")
        .contains("Not measured in this run: 10,000,000 records.")
        .contains("| CAIRN_ROCKSDB | 100,000 | 2.0 s | 50,000 | this run |")
        .contains(
            "| CAIRN_ROCKSDB | 100,000 | 11.5 | 650.0 | 140.0 | 1.1 MiB | 62.0 MiB | 13.4 MiB |");
    for (String chart :
        new String[] {
          "threads-rocksdb", "scale-get", "scale-put", "scale-replay", "scale-disk-per-entry"
        }) {
      assertThat(dir.resolve("charts/" + chart + ".png")).isNotEmptyFile();
    }
    assertThat(dir.resolve("charts/threads-sqlite.png")).doesNotExist();
    assertThat(page).contains("![RocksDB](charts/threads-rocksdb.png)");
  }

  /**
   * One JMH result file of a paired round, as benchmarks/run's threads suite writes it: one side,
   * with perfnorm's task-clock (ms/op) unless {@code taskClockMs} is null.
   */
  private void round(
      Path results,
      String method,
      int threads,
      int round,
      String impl,
      double score,
      Double taskClockMs)
      throws Exception {
    Files.writeString(
        results.resolve(
            "threads-RocksDbThreadsBenchmark-t"
                + threads
                + "-"
                + method
                + "-r"
                + round
                + "-"
                + impl
                + ".json"),
        "["
            + result(
                FrontPageSections.ROCKS_THREADS + "." + method,
                threads,
                impl,
                ", \"keys\": \"100000\"",
                score,
                taskClockMs)
            + "]");
  }

  /** One result of a JMH JSON file; {@code params} beside impl, each as {@code , "k": "v"}. */
  private static String result(
      String benchmark, int threads, String impl, String params, double score, Double taskClockMs) {
    String secondary =
        taskClockMs == null
            ? ""
            : ", \"secondaryMetrics\": {\"task-clock\": {\"score\": "
                + taskClockMs
                + ", \"scoreError\": \"NaN\", \"scoreUnit\": \"#/op\"}}";
    return "{\"benchmark\": \""
        + benchmark
        + "\", \"mode\": \"thrpt\", \"threads\": "
        + threads
        + ", \"forks\": 1, \"params\": {\"impl\": \""
        + impl
        + "\""
        + params
        + "}, \"primaryMetric\": {\"score\": "
        + score
        + ", \"scoreError\": \"NaN\", \"scoreUnit\": \"ops/s\"}"
        + secondary
        + "}";
  }

  @Test
  void pairedRoundsGiveMediansAndTheMedianAndRangeOfThePerRoundRatios() throws Exception {
    Path results = Files.createDirectories(dir.resolve("results"));
    // put, 1 thread: per-round Cairn ÷ raw 0.61, 0.545, 0.66. The median of the ratios (0.61, of
    // round 1) differs from the ratio of the medians (400 ÷ 606 = 0.66, both of round 3): the page
    // must show the former, taken within each round.
    round(results, "put", 1, 1, "CAIRN_ROCKSDB", 610, 0.004);
    round(results, "put", 1, 1, "RAW_ROCKSDB", 1000, 0.003);
    round(results, "put", 1, 2, "RAW_ROCKSDB", 550, 0.004);
    round(results, "put", 1, 2, "CAIRN_ROCKSDB", 300, 0.005);
    round(results, "put", 1, 3, "CAIRN_ROCKSDB", 400, 0.006);
    round(results, "put", 1, 3, "RAW_ROCKSDB", 606, 0.0036);
    // get, 4 threads: no task-clock on one side of every round (perf absent there).
    for (int r = 1; r <= 3; r++) {
      round(results, "get", 4, r, "CAIRN_ROCKSDB", 900 + r, null);
      round(results, "get", 4, r, "RAW_ROCKSDB", 1000, 0.002);
    }
    // get, 8 threads: round 2 lost its Cairn run.
    round(results, "get", 8, 1, "CAIRN_ROCKSDB", 800, 0.002);
    round(results, "get", 8, 1, "RAW_ROCKSDB", 1000, 0.002);
    round(results, "get", 8, 2, "RAW_ROCKSDB", 1000, 0.002);

    String md =
        FrontPageSections.paired(
            JmhResults.read(results),
            FrontPageSections.ROCKS_THREADS,
            "RAW_ROCKSDB",
            "RocksDB",
            Files.createDirectories(dir.resolve("charts")),
            "threads-rocksdb");

    assertThat(md)
        .contains(
            "| benchmark | rounds | CAIRN_ROCKSDB ops/s | RAW_ROCKSDB ops/s | CAIRN_ROCKSDB ÷"
                + " RAW_ROCKSDB | CAIRN_ROCKSDB CPU µs/op | RAW_ROCKSDB CPU µs/op | CPU RAW_ROCKSDB"
                + " ÷ CAIRN_ROCKSDB |")
        // medians 400 and 606; ratios 0.61 (0.55-0.66); CPU medians 5.00 and 3.60 µs, CPU raw ÷
        // Cairn per round 0.75, 0.80, 0.60
        .contains(
            "| put, keys = 100000, 1 thread | 3 | 400 | 606 | 0.61 (0.55-0.66) | 5.00 | 3.60 | 0.75 (0.60-0.80) |")
        .contains(
            "| get, keys = 100000, 4 threads | 3 | 902 | 1,000 | 0.90 (0.90-0.90) | not measured | 2.00 | not measured |")
        .contains(
            "| get, keys = 100000, 8 threads | 1 (+1 missing a side) | 800 | 1,000 | 0.80 | 2.00 | 2.00 | 1.00 |");
    assertThat(dir.resolve("charts/threads-rocksdb.png")).isNotEmptyFile();
  }

  /**
   * benchmarks/run's writers and credential suites as paired rounds: one file per side and round.
   * Their files sort LMDB_SYNC (writers) and CAFFEINE_100K_RAW_SQLITE (credential) before the
   * baselines RAW_ROCKSDB_SYNC and CAFFEINE_RAW_SQLITE; every ratio must still be to the baseline.
   */
  @Test
  void writersAndCredentialRoundsArePairedToTheirBaselines() throws Exception {
    Path results = Files.createDirectories(dir.resolve("results"));
    // The impls benchmarks/run takes: each class's defaults.
    String[] writers =
        PeerSyncedWritersBenchmark.class
            .getDeclaredField("impl")
            .getAnnotation(Param.class)
            .value();
    // Cairn-RocksDB ÷ raw sync per round: 0.9, 1.0, 1.1 (raw 10,000; Cairn 9,000, 10,000, 11,000).
    for (int r = 1; r <= 3; r++) {
      for (String impl : writers) {
        double score =
            impl.equals("CAIRN_ROCKSDB_FULL")
                ? 8_000 + 1_000 * r
                : impl.equals("LMDB_SYNC") ? 2_000 : 10_000;
        Files.writeString(
            results.resolve("writers-put-r" + r + "-" + impl + ".json"),
            "["
                + result(
                    FrontPageSections.SYNCED_WRITERS + ".put",
                    8,
                    impl,
                    ", \"keys\": \"10000\"",
                    score,
                    0.1)
                + "]");
      }
    }
    // Credential: CAIRN_DEFAULT 120k, 100k against CAFFEINE_RAW_SQLITE 100k in both rounds.
    String[] credential =
        Arrays.stream(CredentialWorkloadBenchmark.Impl.values())
            .map(Enum::name)
            .toArray(String[]::new);
    for (int r = 1; r <= 2; r++) {
      for (String impl : credential) {
        double score =
            impl.equals("CAIRN_DEFAULT")
                ? 140_000 - 20_000 * r
                : impl.startsWith("CAIRN") ? 150_000 : 100_000;
        Files.writeString(
            results.resolve("credential-request-r" + r + "-" + impl + ".json"),
            "["
                + result(FrontPageSections.CREDENTIAL + ".request", 4, impl, "", score, null)
                + "]");
      }
    }

    PeersReport.main(new String[] {results.toString(), dir.toString()});
    String page = Files.readString(dir.resolve("RESULTS.md"), StandardCharsets.UTF_8);

    assertThat(page)
        .contains(
            "| benchmark | rounds | CAIRN_ROCKSDB_FULL ops/s | CAIRN_SQLITE_FULL ops/s |"
                + " RAW_ROCKSDB_SYNC ops/s | LMDB_SYNC ops/s |")
        .contains(" CAIRN_ROCKSDB_FULL ÷ RAW_ROCKSDB_SYNC | CAIRN_SQLITE_FULL ÷ RAW_ROCKSDB_SYNC |")
        .contains(
            "| put, keys = 10000 | 3 | 10,000 | 10,000 | 10,000 | 2,000 | 10,000 | 10,000 | 10,000"
                + " | 1.00 (0.90-1.10) | 1.00 (1.00-1.00) | 100.00 |")
        .contains(
            "| benchmark | rounds | CAIRN_DEFAULT ops/s | CAIRN_LOW_LATENCY ops/s |"
                + " CAFFEINE_RAW_SQLITE ops/s | CAFFEINE_100K_RAW_SQLITE ops/s | CAIRN_DEFAULT ÷"
                + " CAFFEINE_RAW_SQLITE | CAIRN_LOW_LATENCY ÷ CAFFEINE_RAW_SQLITE |")
        .contains(
            "| request | 2 | 110,000 | 150,000 | 100,000 | 100,000 | 1.10 (1.00-1.20) | 1.50"
                + " (1.50-1.50) | not measured |")
        .doesNotContain("÷ LMDB_SYNC")
        .doesNotContain("÷ CAFFEINE_100K_RAW_SQLITE");
    assertThat(dir.resolve("charts/writers.png")).isNotEmptyFile();
    assertThat(dir.resolve("charts/credential.png")).isNotEmptyFile();
  }

  /** A page's older results (one JMH run of every impl in one file) render as one round. */
  @Test
  void aFileOfEveryImplIsOneRound() throws Exception {
    Path results = Files.createDirectories(dir.resolve("results"));
    Files.writeString(
        results.resolve("credential.json"),
        "["
            + result(
                FrontPageSections.CREDENTIAL + ".request", 4, "CAIRN_DEFAULT", "", 103_000, null)
            + ", "
            + result(
                FrontPageSections.CREDENTIAL + ".request",
                4,
                "CAIRN_LOW_LATENCY",
                "",
                137_000,
                null)
            + ", "
            + result(
                FrontPageSections.CREDENTIAL + ".request",
                4,
                "CAFFEINE_RAW_SQLITE",
                "",
                113_000,
                null)
            + "]");

    PeersReport.main(new String[] {results.toString(), dir.toString()});

    assertThat(Files.readString(dir.resolve("RESULTS.md"), StandardCharsets.UTF_8))
        .contains(
            "| request | 1 | 103,000 | 137,000 | 113,000 | 0.91 | 1.21 | not measured | not"
                + " measured | not measured | not measured | not measured |");
  }

  @Test
  void aStaleChartOfASectionWithoutResultsIsDeleted() throws Exception {
    Path results = fixture();
    Path charts = Files.createDirectories(dir.resolve("charts"));
    Files.writeString(charts.resolve("reopen-sqlite.png"), "old");
    PeersReport.main(new String[] {results.toString(), dir.toString()});
    assertThat(charts.resolve("reopen-sqlite.png")).doesNotExist();
  }
}
