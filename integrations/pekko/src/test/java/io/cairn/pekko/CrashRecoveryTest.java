package io.cairn.pekko;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.tck.crash.ChildJvm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An event-sourced actor per backend (SQLite and RocksDB, durability normal) in a child JVM, killed
 * with SIGKILL at a random moment while it persists, then restarted: recovery must replay every
 * acknowledged event, in order, none twice. {@code -DcrashCycles=N} sets the number of kills (20 by
 * default).
 */
class CrashRecoveryTest {
  private static final List<String> BACKENDS = List.of("sqlite", "rocksdb");

  @Test
  void everyAcknowledgedEventIsReplayedInOrderOnceAfterKill9(@TempDir Path dir) {
    int cycles = Integer.getInteger("crashCycles", 20);
    Map<String, Long> acked = new HashMap<>();
    Map<String, Long> recovered = new HashMap<>();
    for (String b : BACKENDS) {
      acked.put(b, 0L);
      recovered.put(b, 0L);
    }
    for (int cycle = 0; cycle <= cycles; cycle++) {
      try (ChildJvm child = ChildJvm.start(CrashChild.class, dir.toString())) {
        for (String b : BACKENDS) {
          String line =
              child.awaitLine(l -> l.startsWith("RECOVERED " + b + " "), Duration.ofSeconds(120));
          String[] f = line.split(" ", 4);
          long count = Long.parseLong(f[2]);
          assertThat(f[3])
              .as("cycle %d, %s: replay order (events must be 1..n, none twice)", cycle, b)
              .isEqualTo("ok");
          assertThat(count)
              .as("cycle %d, %s: recovered events vs acknowledged before the kill", cycle, b)
              .isGreaterThanOrEqualTo(acked.get(b));
          recovered.put(b, count);
        }
        if (cycle == cycles) {
          break; // the last start only verifies the last kill
        }
        for (String b : BACKENDS) {
          long after = recovered.get(b);
          child.awaitLine(
              l ->
                  l.startsWith("ACK " + b + " ")
                      && Long.parseLong(l.substring(5 + b.length())) > after,
              Duration.ofSeconds(120));
        }
        sleep(ThreadLocalRandom.current().nextInt(0, 400));
        child.killHard();
        for (String line : child.output()) {
          for (String b : BACKENDS) {
            if (line.startsWith("ACK " + b + " ")) {
              acked.merge(b, Long.parseLong(line.substring(5 + b.length())), Math::max);
            }
          }
        }
      }
    }
    for (String b : BACKENDS) {
      assertThat(acked.get(b)).as("%s made progress", b).isGreaterThan((long) cycles);
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
