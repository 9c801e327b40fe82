package io.cairn.tck.crash;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.Durability;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The harness counts what a kill lost. The test-only {@code thirdparty} backend saves its state
 * only on close, so every acknowledged write of a killed child is gone: the report must count them
 * as lost (and not as wrong), and the observer must see every cycle with its recovery time.
 */
class CrashHarnessCountsTest {
  @Test
  void writesLostToAKillAreCountedAsLost(@TempDir Path work) throws Exception {
    List<Long> recoveries = new ArrayList<>();
    int[] running = {0};
    CrashReport report =
        CrashHarness.builder("type = thirdparty", work)
            .durability(Durability.NONE)
            .cycles(2)
            .threads(2)
            .killDelay(Duration.ofMillis(300), Duration.ofMillis(400))
            .stopAtFirstViolation(false)
            .observer(
                new CrashHarness.Observer() {
                  @Override
                  public void running(int cycle, ChildJvm child, Path dataDir) {
                    running[0]++;
                  }

                  @Override
                  public void cycleEnded(
                      int cycle, long recoveryMillis, long acknowledged, List<String> violations) {
                    recoveries.add(recoveryMillis);
                  }
                },
                Duration.ofMillis(100))
            .seed(7)
            .build()
            .run();
    System.out.println(report.summary());
    assertThat(report.acknowledgedWrites()).isGreaterThan(0);
    assertThat(report.lostWrites()).isGreaterThan(0);
    assertThat(report.wrongValues()).isZero();
    assertThat(report.summary()).contains(report.lostWrites() + " lost, 0 wrong");
    assertThat(recoveries).hasSize(2).allSatisfy(t -> assertThat(t).isGreaterThanOrEqualTo(0));
    assertThat(running[0]).isGreaterThanOrEqualTo(2);
  }
}
