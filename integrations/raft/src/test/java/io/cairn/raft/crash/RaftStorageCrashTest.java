package io.cairn.raft.crash;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.PersistenceRegistry;
import io.cairn.raft.RaftEntry;
import io.cairn.raft.RaftState;
import io.cairn.raft.RaftStorage;
import io.cairn.tck.crash.ChildJvm;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Crash loop: a child JVM ({@link CrashChild}) drives the Raft storage of one node and is killed
 * with SIGKILL at a random point; the parent then restores the storage and checks it against the
 * operations the child acknowledged. The restored state must equal the state after all acknowledged
 * operations, or after those plus the one in flight: so term and vote never go backwards, no
 * acknowledged entry is lost, truncated entries never reappear and a snapshot is either complete or
 * absent. Durability {@code normal} (a process crash is what {@code normal} promises to survive).
 *
 * <p>{@code -DraftCrashCycles=N} cycles per backend (default 10, so 20 over the two backends);
 * {@code -DraftCrashSeed=S} fixes the seed.
 */
class RaftStorageCrashTest {
  private static final int CYCLES = Integer.getInteger("raftCrashCycles", 10);

  @TempDir Path dir;

  /** The reference the restored state is compared with. */
  private static final class Model {
    long term;
    String vote;
    long compacted;
    long last;
    final TreeMap<Long, Long> termOf = new TreeMap<>();
    long snapshot;
    long snapshotTerm;

    static Model of(RaftState s) {
      Model m = new Model();
      m.term = s.term();
      m.vote = s.votedFor().map(v -> new String(v, StandardCharsets.UTF_8)).orElse(null);
      m.compacted = s.compactedUntil();
      m.last = s.lastIndex();
      for (RaftEntry e : s.entries()) {
        m.termOf.put(e.index(), e.term());
      }
      s.snapshot()
          .ifPresent(
              sn -> {
                m.snapshot = sn.index();
                m.snapshotTerm = sn.term();
              });
      return m;
    }

    Model copy() {
      Model m = new Model();
      m.term = term;
      m.vote = vote;
      m.compacted = compacted;
      m.last = last;
      m.termOf.putAll(termOf);
      m.snapshot = snapshot;
      m.snapshotTerm = snapshotTerm;
      return m;
    }

    void apply(String op) {
      String[] p = op.split(" ");
      switch (p[0]) {
        case "TERM" -> {
          term = Long.parseLong(p[1]);
          vote = p[2].equals("-") ? null : p[2];
        }
        case "APPEND" -> {
          long from = Long.parseLong(p[1]);
          int n = Integer.parseInt(p[2]);
          for (long i = from; i < from + n; i++) {
            termOf.put(i, Long.parseLong(p[3]));
          }
          last = from + n - 1;
        }
        case "TRUNCFROM" -> {
          long i = Long.parseLong(p[1]);
          termOf.tailMap(i, true).clear();
          last = Math.min(last, i - 1);
        }
        case "TRUNCUNTIL" -> {
          long i = Long.parseLong(p[1]);
          if (i > compacted) {
            termOf.headMap(i, true).clear();
            compacted = i;
            last = Math.max(last, i);
          }
        }
        case "SNAP" -> {
          long i = Long.parseLong(p[1]);
          snapshot = i;
          snapshotTerm = Long.parseLong(p[2]);
          if (i > last) {
            termOf.clear();
            compacted = i;
            last = i;
          }
        }
        default -> throw new AssertionError("unknown op " + op);
      }
    }

    String describe() {
      return "term="
          + term
          + " vote="
          + vote
          + " log=("
          + compacted
          + ","
          + last
          + "] terms="
          + termOf
          + " snapshot="
          + snapshot
          + "@"
          + snapshotTerm;
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "rocksdb"})
  void killedMidOperationRestoresAcknowledgedState(String type) throws Exception {
    long seed = Long.getLong("raftCrashSeed", type.hashCode());
    Random r = new Random(seed);
    Model model = new Model();
    int acked = 0;
    for (int cycle = 0; cycle < CYCLES; cycle++) {
      List<String> ops = new ArrayList<>();
      String inFlight = null;
      try (ChildJvm child =
          ChildJvm.start(CrashChild.class, type, dir.toString(), Long.toString(r.nextLong()))) {
        child.awaitLine("READY"::equals, Duration.ofSeconds(60));
        int target = 1 + r.nextInt(150);
        child.awaitLine(
            l -> l.equals("ACK") && child.output().stream().filter("ACK"::equals).count() >= target,
            Duration.ofSeconds(60));
        Thread.sleep(r.nextInt(15));
        child.killHard();
        for (String line : child.output()) {
          if (line.startsWith("DO ")) {
            inFlight = line.substring(3);
          } else if (line.equals("ACK")) {
            ops.add(inFlight);
            inFlight = null;
          }
        }
      }
      Model done = model.copy();
      ops.forEach(done::apply);
      acked += ops.size();
      Model withInFlight = done.copy();
      if (inFlight != null) {
        withInFlight.apply(inFlight);
      }
      RaftState restored;
      try (PersistenceRegistry reg = CrashChild.open(type, dir)) {
        restored = RaftStorage.open(reg.backend("main"), "crash").restore();
      }
      for (RaftEntry e : restored.entries()) {
        assertThat(e.payload()).isEqualTo(CrashChild.payload(e.index(), e.term()));
      }
      Model actual = Model.of(restored);
      String a = actual.describe();
      assertThat(a)
          .as(
              "cycle %d (seed %d, -DraftCrashSeed): restored state after %d acknowledged ops,"
                  + " in flight: %s",
              cycle, seed, ops.size(), inFlight)
          .isIn(done.describe(), withInFlight.describe());
      assertThat(actual.term).as("term never goes backwards").isGreaterThanOrEqualTo(model.term);
      model = actual;
    }
    System.out.println(
        "[raft-crash] " + type + ": " + CYCLES + " kills, " + acked + " acknowledged operations");
  }
}
