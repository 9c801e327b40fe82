package io.cairn.backend.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.Durability;
import io.cairn.tck.crash.CrashHarness;
import io.cairn.tck.crash.CrashReport;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * kill -9 crash loop: every acknowledged write survives. {@code -DcrashCycles=200} runs 200 cycles
 * per durability level.
 */
class SqliteCrashTest {
  private static final long SEED = Long.getLong("crashSeed", 20261122L);

  @ParameterizedTest
  @EnumSource(
      value = Durability.class,
      names = {"NORMAL", "FULL"})
  void acknowledgedWritesSurviveKill9(Durability durability, @TempDir Path work) throws Exception {
    CrashReport report =
        CrashHarness.builder("type = " + TestBackends.TYPE + ", sweeper-interval = 1s", work)
            .durability(durability)
            .seed(SEED)
            .build()
            .run();
    System.out.println(report.summary());
    report.assertPassed();
    assertThat(report.cycles()).isEqualTo(CrashHarness.defaultCycles());
    assertThat(report.acknowledgedWrites()).as("the workload made progress").isGreaterThan(100);
  }

  /** The harness catches a write path that acknowledges before the write is stored. */
  @Test
  void negativeControlDetectsAcknowledgedButLostWrites(@TempDir Path work) throws Exception {
    CrashReport report =
        CrashHarness.builder("type = " + TestBackends.TYPE, work)
            .durability(Durability.FULL)
            .acknowledgeBeforeWrite(true)
            .cycles(10)
            .threads(4)
            .killDelay(Duration.ofMillis(100), Duration.ofMillis(300))
            .seed(SEED)
            .build()
            .run();
    System.out.println(report.summary());
    assertThat(report.passed()).as("the unsafe write path must be caught").isFalse();
    assertThat(report.violations())
        .anySatisfy(
            v ->
                assertThat(v)
                    .containsAnyOf(
                        "the last acknowledged write was",
                        "acknowledged append",
                        "newest acknowledged snapshot"));
  }
}
