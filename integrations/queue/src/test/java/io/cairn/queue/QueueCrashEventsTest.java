package io.cairn.queue;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regression test for the false "lost acknowledged enqueues" of {@link QueueCrashLoopTest}: the
 * loop's record of what a killed child did must be complete.
 *
 * <p>The loop used to read the child's events from its standard output. A kill through {@link
 * Process#destroyForcibly()} (what {@code ChildJvm.killHard()} does) also closes the parent's end
 * of that pipe, so every line the child had written but the parent had not read yet was lost: the
 * deliveries and acks of the last moments before each kill. This test makes that deterministic: the
 * child writes all its lines and says so through a marker file while the parent has read none, then
 * it is killed. The pipe yields (almost) nothing; the event file holds every line.
 */
class QueueCrashEventsTest {
  @TempDir Path dir;

  @Test
  void eventsWrittenBeforeAKillAreAllRecorded() throws Exception {
    int n = 2000; // about 40 KB: fits the pipe buffer, so the child never blocks on it
    List<String> cmd =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp",
            System.getProperty("java.class.path"),
            QueueCrashChild.class.getName(),
            "burst",
            dir.toString(),
            String.valueOf(n));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!Files.exists(dir.resolve("burst.done"))) {
        assertThat(p.isAlive()).as("child alive").isTrue();
        assertThat(System.nanoTime()).as("child finished writing in time").isLessThan(deadline);
        Thread.sleep(10);
      }
      p.destroyForcibly();
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();

      // What the old loop relied on: reading the pipe after the kill. The JDK closed our end of it.
      List<String> piped = new ArrayList<>();
      try (BufferedReader r =
          new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          piped.add(line);
        }
      } catch (IOException e) {
        // "Stream closed": the unread lines are gone
      }
      assertThat(piped)
          .as("lines read from the killed child's pipe (the JDK discards the unread rest)")
          .hasSizeLessThan(n);

      List<String> recorded = QueueCrashLoopTest.events(dir);
      assertThat(recorded).hasSize(n);
      for (int i = 0; i < n; i++) {
        assertThat(recorded.get(i)).isEqualTo("E burst-" + i + " " + i);
      }
    } finally {
      p.destroyForcibly();
    }
  }
}
