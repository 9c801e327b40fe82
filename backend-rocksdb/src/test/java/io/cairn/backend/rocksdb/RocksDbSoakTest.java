package io.cairn.backend.rocksdb;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.Durability;
import io.cairn.tck.reliability.SoakChart;
import io.cairn.tck.reliability.SoakReport;
import io.cairn.tck.reliability.SoakRun;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Soak (only with {@code -Psoak}): 30 minutes of mixed load killed with SIGKILL every ~3 minutes
 * ({@code -DsoakDuration=2 -DsoakKillEvery=0.5} for a short try; {@code -DsoakDurability=full}).
 * Writes {@code target/soak/rocksdb-<durability>.md} and {@code .png}; every acknowledged write
 * must survive every kill.
 */
@Tag("soak")
class RocksDbSoakTest {
  @Test
  void mixedLoadWithKills(@TempDir Path work) throws Exception {
    Durability durability =
        Durability.valueOf(System.getProperty("soakDurability", "normal").toUpperCase(Locale.ROOT));
    SoakReport report =
        SoakRun.of("type = " + RocksDbBackendProvider.TYPE, work).durability(durability).run();
    String markdown = report.markdown();
    System.out.println(markdown);
    Path out = Path.of("target", "soak");
    Files.createDirectories(out);
    String base = "rocksdb-" + durability.configName();
    Files.writeString(out.resolve(base + ".md"), markdown, StandardCharsets.UTF_8);
    SoakChart.write(report, out.resolve(base + ".png"));
    assertThat(report.cycles()).as("kills").isNotEmpty();
    assertThat(report.samples()).as("samples").isNotEmpty();
    report.crash().assertPassed();
  }
}
