package io.cairn.backend.rocksdb;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.Durability;
import io.cairn.tck.crash.CrashHarness;
import io.cairn.tck.crash.CrashReport;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * kill -9 crash loop on RocksDB with the shared harness ({@link CrashHarness}): a child JVM writes
 * (KV puts, deletes, batches, log appends, snapshots, four threads) and is killed at a random
 * moment; the parent reopens, checks that every acknowledged write survived and that {@code
 * verify()} passes. 20 cycles per durability by default; {@code -DcrashCycles=200} for more, {@code
 * -DcrashSeed=N} to replay.
 */
class RocksDbCrashTest {
  private static final long SEED = Long.getLong("crashSeed", 20261122L);

  @ParameterizedTest
  @EnumSource(
      value = Durability.class,
      names = {"NORMAL", "FULL"})
  void acknowledgedWritesSurviveKill9(Durability durability, @TempDir Path work) throws Exception {
    CrashReport report =
        CrashHarness.builder(
                "type = " + RocksDbBackendProvider.TYPE + ", sweeper-interval = 1s", work)
            .durability(durability)
            .seed(SEED)
            .build()
            .run();
    System.out.println(report.summary());
    report.assertPassed();
    assertThat(report.cycles()).isEqualTo(CrashHarness.defaultCycles());
    assertThat(report.acknowledgedWrites()).as("the workload made progress").isGreaterThan(100);
  }

  /**
   * Negative control, and a check of the durability mapping: with {@code durability = none} the WAL
   * is off, so kill -9 loses acknowledged writes still in the memtable, and the harness must see
   * it. If this ever passes, either the harness went blind or {@code none} silently writes a WAL.
   */
  @Test
  void durabilityNoneLosesAcknowledgedWritesAndTheHarnessSeesIt(@TempDir Path work)
      throws Exception {
    CrashReport report =
        CrashHarness.builder("type = " + RocksDbBackendProvider.TYPE, work)
            .durability(Durability.NONE)
            .cycles(5)
            .seed(SEED)
            .build()
            .run();
    System.out.println(report.summary().lines().findFirst().orElse(""));
    assertThat(report.passed()).as("WAL-less writes must be lost on kill -9").isFalse();
  }
}
