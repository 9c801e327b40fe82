package io.cairn.bench.peers;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
    // Threads: one row per thread count, Cairn ÷ raw from the same rows.
    assertThat(page)
        .contains("| put, 1 thread | 900 ± 10 | 1,000 | 0.90 |")
        .contains("| put, 4 threads | 1,800 ± 10 | 2,000 | 0.90 |")
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

  @Test
  void aStaleChartOfASectionWithoutResultsIsDeleted() throws Exception {
    Path results = fixture();
    Path charts = Files.createDirectories(dir.resolve("charts"));
    Files.writeString(charts.resolve("reopen-sqlite.png"), "old");
    PeersReport.main(new String[] {results.toString(), dir.toString()});
    assertThat(charts.resolve("reopen-sqlite.png")).doesNotExist();
  }
}
