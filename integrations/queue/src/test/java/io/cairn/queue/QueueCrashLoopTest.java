package io.cairn.queue;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.tck.crash.ChildJvm;
import io.cairn.tck.crash.CrashHarness;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Kills a child JVM producing and consuming at random moments ({@code -DcrashCycles} times, 20 by
 * default), then drains the queue in a last child, and checks: every acknowledged enqueue was
 * consumed (acked) or dead-lettered, and no message whose ack was acknowledged was delivered again,
 * in the same process or any later one. The child's backend runs at {@code durability = full}, the
 * level whose promises the queue's group commit must keep (a process kill loses no written data at
 * any level, but only {@code full} makes acks and enqueues wait for their commit's fsync).
 *
 * <p>The child records its events in a file, not only on its standard output: killing a child
 * through {@link Process#destroyForcibly()} also closes the parent's end of the pipe, and the lines
 * not yet read were lost. That made this loop report acknowledged enqueues as never consumed when
 * the child had in fact delivered and acked them just before the kill (see {@link
 * QueueCrashChild}).
 */
class QueueCrashLoopTest {
  @TempDir Path dir;

  /**
   * Reads and deletes the event file of the child that just ended. A line cut short by the kill (no
   * trailing newline) is dropped: its event had not been written completely.
   */
  static List<String> events(Path dir) throws java.io.IOException {
    Path file = dir.resolve(QueueCrashChild.EVENTS_FILE);
    if (!java.nio.file.Files.exists(file)) {
      return List.of();
    }
    String text = java.nio.file.Files.readString(file, java.nio.charset.StandardCharsets.UTF_8);
    java.nio.file.Files.delete(file);
    int end = text.lastIndexOf('\n');
    return end < 0 ? List.of() : List.of(text.substring(0, end).split("\n", -1));
  }

  private static String idOf(Map<String, String> idOwner, String payload) {
    for (Map.Entry<String, String> e : idOwner.entrySet()) {
      if (e.getValue().equals(payload)) {
        return e.getKey();
      }
    }
    return null;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.queue.TestBackends#crashTypes")
  void acknowledgedEnqueuesSurviveAndAckedMessagesNeverComeBack(String type) throws Exception {
    long seed = Long.getLong("crashSeed", 20261122L);
    int cycles = CrashHarness.defaultCycles();
    Random random = new Random(seed);
    Set<String> enqueued = new HashSet<>();
    Set<String> acked = new HashSet<>();
    Set<String> dead = new HashSet<>();
    Set<String> ackIntents = new HashSet<>();
    Map<String, List<String>> history = new HashMap<>();
    Map<String, String> idOwner = new HashMap<>();
    List<String> unknownLines = new ArrayList<>();
    Map<String, List<String>> byId = new HashMap<>();
    List<String> violations = new ArrayList<>();
    long deliveries = 0;
    String context = "seed " + seed + " (rerun with -DcrashSeed=" + seed + "), " + type;
    for (int cycle = 0; cycle <= cycles; cycle++) {
      boolean last = cycle == cycles;
      List<String> lines;
      try (ChildJvm child =
          last
              ? ChildJvm.start(QueueCrashChild.class, "drain", type, dir.toString())
              : ChildJvm.start(
                  QueueCrashChild.class,
                  "run",
                  type,
                  dir.toString(),
                  String.valueOf(cycle),
                  String.valueOf(random.nextLong()))) {
        // Generous: only a failing run waits this long, and on a loaded machine (load 40 on two
        // cores) a drain child took more than 2 minutes to start, recover and finish.
        if (last) {
          child.awaitLine(l -> l.equals("DONE"), Duration.ofMinutes(10));
        } else {
          child.awaitLine(l -> l.equals("READY"), Duration.ofMinutes(5));
          Thread.sleep(100 + random.nextInt(900));
          child.killHard();
          child.waitFor(Duration.ofSeconds(30));
        }
        lines = new ArrayList<>(events(dir));
        // Only READY, DONE and log output come through the pipe (see QueueCrashChild): the pipe
        // loses whatever was unread when the child was killed, the event file does not.
        lines.addAll(child.output());
      }
      long eLines = lines.stream().filter(l -> l.startsWith("E ")).count();
      long eSeen = 0;
      for (String line : lines) {
        String[] f = line.split(" ");
        if (f[0].equals("E")) {
          eSeen++;
          line = line + " (enqueue " + eSeen + " of " + eLines + " in this cycle)";
        }
        if (f.length > 1) {
          history.computeIfAbsent(f[1], k -> new ArrayList<>()).add(cycle + ":" + line);
        }
        if (f[0].equals("D") && f.length > 3) {
          byId.computeIfAbsent(f[3], k -> new ArrayList<>()).add(cycle + ":" + line);
        }
        switch (f[0]) {
          case "E" -> {
            enqueued.add(f[1]);
            String previous = idOwner.put(f[2], f[1]);
            if (previous != null && !previous.equals(f[1])) {
              violations.add(
                  "cycle " + cycle + ": message id " + f[2] + " reused: " + previous + ", " + f[1]);
            }
          }
          case "D" -> {
            deliveries++;
            if (acked.contains(f[1])) {
              violations.add("cycle " + cycle + ": acked message delivered again: " + line);
            }
          }
          case "I" -> ackIntents.add(f[1]);
          case "A" -> acked.add(f[1]);
          case "X" -> dead.add(f[1]);
          case "READY", "DONE" -> {}
          default -> {
            if (line.startsWith("STATS") || line.startsWith("AUDIT")) {
              System.out.println(line);
              break;
            }
            if (line.startsWith("LEFT")) {
              violations.add("after drain: unfinished " + line);
              break;
            }
            if (line.contains("Exception") || line.startsWith("ERR")) {
              violations.add("cycle " + cycle + ": child error: " + line);
            } else if (unknownLines.size() < 20) {
              unknownLines.add(cycle + ": " + line);
            }
          }
        }
      }
      assertThat(violations).as(context).isEmpty();
    }
    Set<String> lost = new HashSet<>(enqueued);
    lost.removeAll(acked);
    lost.removeAll(dead);
    // An ack cut short by the kill may have committed without being acknowledged: such a message
    // is finished and correctly never delivered again. Only messages without any ack attempt are
    // lost for certain.
    Set<String> ambiguous = new HashSet<>(lost);
    ambiguous.retainAll(ackIntents);
    lost.removeAll(ackIntents);
    List<String> inspected = new ArrayList<>();
    if (!lost.isEmpty()) {
      List<String> args = new ArrayList<>(List.of("inspect", type, dir.toString()));
      Map<String, String> idOf = new HashMap<>();
      idOwner.forEach((id, p) -> idOf.put(p, id));
      lost.stream().sorted().limit(5).forEach(p -> args.add(idOf.get(p)));
      try (ChildJvm child = ChildJvm.start(QueueCrashChild.class, args.toArray(new String[0]))) {
        child.awaitLine(l -> l.equals("DONE"), Duration.ofMinutes(5));
        inspected.addAll(child.output());
      }
    }
    List<String> explained = new ArrayList<>();
    lost.stream()
        .sorted()
        .limit(5)
        .forEach(
            p ->
                explained.add(
                    p
                        + " "
                        + history.get(p)
                        + " deliveries of its id: "
                        + byId.get(idOf(idOwner, p))));
    assertThat(lost)
        .as(
            "acknowledged enqueues neither consumed nor dead-lettered; "
                + context
                + "; histories: "
                + explained
                + "; inspected: "
                + inspected
                + "; other child output: "
                + unknownLines)
        .isEmpty();
    assertThat(enqueued).as(context).isNotEmpty();
    assertThat(deliveries).isGreaterThanOrEqualTo(enqueued.size());
    System.out.printf(
        "queue crash loop on %s: %d cycles, %d acknowledged enqueues, %d deliveries, %d acked,"
            + " %d dead-lettered, %d acks cut short by the kill, seed %d%n",
        type,
        cycles,
        enqueued.size(),
        deliveries,
        acked.size(),
        dead.size(),
        ambiguous.size(),
        seed);
  }
}
