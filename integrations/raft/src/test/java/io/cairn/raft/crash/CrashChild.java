package io.cairn.raft.crash;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.raft.RaftEntry;
import io.cairn.raft.RaftSnapshotChunk;
import io.cairn.raft.RaftState;
import io.cairn.raft.RaftStorage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The child JVM of {@link RaftStorageCrashTest}: drives one node's {@link RaftStorage} with random
 * operations until it is killed. Before each operation it prints {@code DO <op>}, after the call
 * returned {@code ACK}; the parent therefore knows every acknowledged operation and the one that
 * may have been in flight.
 *
 * <p>Arguments: backend type, base directory, seed.
 */
public final class CrashChild {
  private CrashChild() {}

  public static void main(String[] args) {
    String type = args[0];
    Path base = Path.of(args[1]);
    Random r = new Random(Long.parseLong(args[2]));
    PersistenceRegistry registry = open(type, base);
    RaftStorage st = RaftStorage.open(registry.backend("main"), "crash");
    RaftState s = st.restore();
    long term = s.term();
    boolean voted = s.votedFor().isPresent();
    long compacted = s.compactedUntil();
    long last = s.lastIndex();
    long snapshot = s.snapshot().map(RaftState.Snapshot::index).orElse(0L);
    System.out.println("READY");
    while (true) {
      int k = r.nextInt(100);
      if (k < 10) {
        boolean newTerm = voted || r.nextBoolean();
        long t = newTerm ? term + 1 : term;
        String vote = r.nextBoolean() ? "n" + r.nextInt(3) : null;
        System.out.println("DO TERM " + t + " " + (vote == null ? "-" : vote));
        st.persistTerm(t, vote == null ? null : vote.getBytes(StandardCharsets.UTF_8));
        term = t;
        voted = vote != null;
      } else if (k < 60) {
        int n = 1 + r.nextInt(20);
        long t = Math.max(term, 1);
        List<RaftEntry> batch = new ArrayList<>();
        for (long i = last + 1; i <= last + n; i++) {
          batch.add(new RaftEntry(i, t, payload(i, t)));
        }
        System.out.println("DO APPEND " + (last + 1) + " " + n + " " + t);
        st.append(batch);
        last += n;
      } else if (k < 75) {
        long i = compacted + 1 + r.nextInt((int) Math.min(30, last - compacted + 1));
        System.out.println("DO TRUNCFROM " + i);
        st.truncateFrom(i);
        last = Math.min(last, i - 1);
      } else if (k < 85) {
        long i = Math.max(compacted, last - 40) + r.nextInt(45);
        System.out.println("DO TRUNCUNTIL " + i);
        st.truncateUntil(i);
        if (i > compacted) {
          compacted = i;
          last = Math.max(last, i);
        }
      } else {
        long i = Math.max(snapshot + 1, last - r.nextInt(10) + (r.nextInt(6) == 0 ? 20 : 0));
        long t = Math.max(term, 1);
        st.deleteSnapshotChunks(i);
        System.out.println("DO SNAP " + i + " " + t);
        st.persistSnapshotChunk(new RaftSnapshotChunk(i, t, 1, 2, payload(i, 1)));
        st.persistSnapshotChunk(new RaftSnapshotChunk(i, t, 0, 2, payload(i, 0)));
        snapshot = i;
        if (i > last) {
          compacted = i;
          last = i;
        }
      }
      System.out.println("ACK");
    }
  }

  static byte[] payload(long index, long term) {
    return ("e" + index + "t" + term).getBytes(StandardCharsets.UTF_8);
  }

  static PersistenceRegistry open(String type, Path base) {
    return PersistenceRegistry.builder()
        .baseDirectory(base)
        .open(
            ConfigFactory.parseString(
                "cairn.backends.main = { type = " + type + ", durability = normal }"));
  }
}
