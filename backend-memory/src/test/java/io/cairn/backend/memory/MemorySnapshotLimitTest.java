package io.cairn.backend.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.Capability;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.SnapshotStore;
import io.cairn.tck.Fixtures;
import io.cairn.tck.crash.ChildJvm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The memory backend keeps snapshots on the heap: it does not declare {@link
 * Capability#LARGE_SNAPSHOTS} and refuses a snapshot beyond {@code max-snapshot-bytes} (default a
 * quarter of the heap) cleanly instead of running out of memory (issue: a 220 MiB snapshot at
 * -Xmx128m was an OutOfMemoryError).
 */
class MemorySnapshotLimitTest {
  @TempDir Path dir;

  private PersistenceRegistry open(String extra) {
    return PersistenceRegistry.builder()
        .baseDirectory(dir)
        .open(ConfigFactory.parseString("cairn.backends.m { type = memory\n" + extra + "\n}"));
  }

  @Test
  void doesNotClaimLargeSnapshots() {
    try (PersistenceRegistry r = open("")) {
      assertThat(r.backend("m").capabilities()).doesNotContain(Capability.LARGE_SNAPSHOTS);
    }
  }

  @Test
  void aSnapshotOverTheLimitIsRefusedNamingTheKeyAndTheOldOneStays() {
    try (PersistenceRegistry r = open("max-snapshot-bytes = 200KiB")) {
      SnapshotStore snaps = r.backend("m").snapshots("s");
      snaps.save(1, Fixtures.generatedStream(1, 200 * 1024));
      assertThatThrownBy(() -> snaps.save(1, Fixtures.generatedStream(2, 200 * 1024 + 1)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("cairn.backends.m.max-snapshot-bytes")
          .hasMessageContaining("nothing was stored");
      Fixtures.assertStreamEquals(snaps.load(1), 1, 200 * 1024);
      assertThat(snaps.list()).hasSize(1);
    }
  }

  @Test
  void aBadLimitIsAConfigurationProblem() {
    assertThat(
            PersistenceRegistry.validate(
                ConfigFactory.parseString(
                    "cairn.backends.m { type = memory, max-snapshot-bytes = lots }")))
        .anySatisfy(p -> assertThat(p.toString()).contains("max-snapshot-bytes"));
  }

  /** The case: a 220 MiB snapshot in a JVM with -Xmx128m. */
  @Test
  void aSnapshotLargerThanTheHeapIsRefusedWithoutRunningOutOfMemory() {
    try (ChildJvm child =
        ChildJvm.builder(LargeSnapshotChild.class)
            .jvmArgs(List.of("-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"))
            .start()) {
      String line =
          child.awaitLine(
              l -> l.startsWith("REFUSED") || l.startsWith("SAVED") || l.contains("Error"),
              Duration.ofMinutes(3));
      assertThat(line)
          .as("child output: %s", child.output())
          .startsWith("REFUSED java.lang.IllegalArgumentException")
          .contains("max-snapshot-bytes");
      child.awaitLine(l -> l.equals("STILL WORKS"), Duration.ofMinutes(1));
    }
  }

  /** Child main: saves 220 MiB to a memory backend, prints the outcome, then uses the backend. */
  public static final class LargeSnapshotChild {
    public static void main(String[] args) {
      try (PersistenceRegistry r =
          PersistenceRegistry.open(ConfigFactory.parseString("cairn.backends.m.type = memory"))) {
        SnapshotStore snaps = r.backend("m").snapshots("big");
        try {
          snaps.save(1, Fixtures.generatedStream(3, 220L * 1024 * 1024));
          System.out.println("SAVED");
        } catch (RuntimeException e) {
          System.out.println("REFUSED " + e.getClass().getName() + ": " + e.getMessage());
        }
        snaps.save(2, new byte[] {1, 2, 3});
        if (snaps.list().size() == 1) {
          System.out.println("STILL WORKS");
        }
      }
      System.out.flush();
    }
  }
}
