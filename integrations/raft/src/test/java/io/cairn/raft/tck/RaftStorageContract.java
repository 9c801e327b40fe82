package io.cairn.raft.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.Capability;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.spi.Checksums;
import io.cairn.raft.RaftEntry;
import io.cairn.raft.RaftInspection;
import io.cairn.raft.RaftSnapshotChunk;
import io.cairn.raft.RaftState;
import io.cairn.raft.RaftStorage;
import io.cairn.tck.ContractSupport;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * Contract of {@link RaftStorage} on the backend under test: term and vote rules, append and both
 * truncations, snapshots visible only when complete, exact restore after restart, damage named, and
 * a seeded model-based run of interleaved operations with restarts.
 *
 * <p>Model-based test knobs (system properties): {@code raftModelSeeds} (default 5), {@code
 * raftModelSeed} (replay one seed), {@code raftModelOps} (default 300 per seed).
 */
public abstract class RaftStorageContract extends ContractSupport {
  public static final String SEEDS_PROPERTY = "raftModelSeeds";
  public static final String ONE_SEED_PROPERTY = "raftModelSeed";
  public static final String OPS_PROPERTY = "raftModelOps";

  /**
   * The storage of group {@code g} on the backend under test, as a restarted node would open it.
   */
  protected RaftStorage storage() {
    return RaftStorage.open(registry(), BACKEND, "g");
  }

  protected static List<RaftEntry> entries(long from, long to, long term) {
    return LongStream.rangeClosed(from, to).mapToObj(i -> entry(i, term)).toList();
  }

  protected static RaftEntry entry(long index, long term) {
    return new RaftEntry(index, term, bytes("e" + index + "t" + term));
  }

  @Test
  public void emptyStorageRestoresEmptyState() {
    RaftState s = storage().restore();
    assertThat(s.term()).isZero();
    assertThat(s.votedFor()).isEmpty();
    assertThat(s.localEndpoint()).isEmpty();
    assertThat(s.membership()).isEmpty();
    assertThat(s.snapshot()).isEmpty();
    assertThat(s.entries()).isEmpty();
    assertThat(s.lastIndex()).isZero();
  }

  @Test
  public void termAndVoteNeverGoBackwards() {
    RaftStorage st = storage();
    st.persistLocalEndpoint(bytes("node-1"));
    st.persistMembership(bytes("node-1,node-2,node-3"));
    st.persistTerm(3, null);
    st.persistTerm(3, bytes("node-2"));
    st.persistTerm(3, bytes("node-2")); // repeating the same vote is allowed
    assertThatThrownBy(() -> st.persistTerm(3, bytes("node-3")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'g'")
        .hasMessageContaining("term 3");
    assertThatThrownBy(() -> st.persistTerm(3, null)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> st.persistTerm(2, bytes("node-1")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("term 2 is lower than the stored term 3");
    RaftState s = storage().restore();
    assertThat(s.term()).isEqualTo(3);
    assertThat(s.votedFor()).hasValueSatisfying(v -> assertThat(v).isEqualTo(bytes("node-2")));
    assertThat(s.localEndpoint()).hasValueSatisfying(v -> assertThat(v).isEqualTo(bytes("node-1")));
    assertThat(s.membership())
        .hasValueSatisfying(v -> assertThat(v).isEqualTo(bytes("node-1,node-2,node-3")));
    st.persistTerm(4, null);
    assertThat(storage().restore().votedFor()).isEmpty();
  }

  @Test
  public void appendMustContinueTheLogAndChangesNothingOtherwise() {
    RaftStorage st = storage();
    st.append(entries(1, 5, 1));
    assertThatThrownBy(() -> st.append(entries(7, 8, 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("expected index 6 but got 7");
    assertThatThrownBy(() -> st.append(entries(5, 6, 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("truncateFrom(5)");
    assertThatThrownBy(() -> st.append(List.of(entry(6, 1), entry(8, 1))))
        .isInstanceOf(IllegalArgumentException.class);
    st.append(List.of());
    assertThat(storage().restore().entries()).isEqualTo(entries(1, 5, 1));
  }

  @Test
  public void truncateFromLetsANewLeaderOverwriteTheTail() {
    RaftStorage st = storage();
    st.append(entries(1, 10, 1));
    st.truncateFrom(7);
    assertThat(storage().restore().entries()).isEqualTo(entries(1, 6, 1));
    st.append(entries(7, 8, 2));
    st.truncateFrom(100); // beyond the end: nothing
    List<RaftEntry> expected = new ArrayList<>(entries(1, 6, 1));
    expected.addAll(entries(7, 8, 2));
    RaftState s = storage().restore();
    assertThat(s.entries()).isEqualTo(expected);
    assertThat(s.lastIndex()).isEqualTo(8);
  }

  @Test
  public void truncateUntilCompactsThePrefix() {
    RaftStorage st = storage();
    st.append(entries(1, 10, 1));
    st.truncateUntil(4);
    RaftState s = storage().restore();
    assertThat(s.compactedUntil()).isEqualTo(4);
    assertThat(s.entries()).isEqualTo(entries(5, 10, 1));
    st.truncateUntil(2); // lower than before: nothing
    assertThat(storage().restore().compactedUntil()).isEqualTo(4);
    assertThatThrownBy(() -> st.truncateFrom(4))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("compacted");
    // beyond the end: the log becomes empty and continues after the index
    st.truncateUntil(20);
    s = storage().restore();
    assertThat(s.entries()).isEmpty();
    assertThat(s.lastIndex()).isEqualTo(20);
    st.append(entries(21, 22, 3));
    assertThat(storage().restore().entries()).isEqualTo(entries(21, 22, 3));
  }

  @Test
  public void truncationsLargerThanOneDeleteBatch() {
    RaftStorage st = storage();
    for (long from = 1; from <= 3000; from += 500) {
      st.append(entries(from, from + 499, 1));
    }
    st.truncateFrom(501);
    st.truncateUntil(250);
    st.append(entries(501, 2600, 2));
    st.truncateUntil(2400);
    RaftState s = storage().restore();
    assertThat(s.entries()).isEqualTo(entries(2401, 2600, 2));
    assertThat(backend().keyValue("raft.g.log").approximateCount()).isEqualTo(200);
  }

  @Test
  public void snapshotIsVisibleOnlyWhenAllChunksAreStored() {
    RaftStorage st = storage();
    st.append(entries(1, 12, 1));
    st.persistSnapshotChunk(new RaftSnapshotChunk(10, 1, 2, 3, bytes("c2")));
    st.persistSnapshotChunk(new RaftSnapshotChunk(10, 1, 0, 3, bytes("c0")));
    assertThat(storage().restore().snapshot()).isEmpty();
    assertThatThrownBy(
            () -> st.persistSnapshotChunk(new RaftSnapshotChunk(10, 2, 1, 3, bytes("bad"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("deleteSnapshotChunks");
    assertThat(storage().restore().snapshot()).isEmpty();
    st.persistSnapshotChunk(new RaftSnapshotChunk(10, 1, 1, 3, bytes("c1")));
    RaftState s = storage().restore();
    assertThat(s.snapshot())
        .contains(new RaftState.Snapshot(10, 1, List.of(bytes("c0"), bytes("c1"), bytes("c2"))));
    assertThat(s.entries()).as("completing a snapshot does not compact by itself").hasSize(12);

    // an abandoned partial snapshot is deleted; the complete one is never deleted that way
    st.persistSnapshotChunk(new RaftSnapshotChunk(11, 1, 0, 2, bytes("p0")));
    st.deleteSnapshotChunks(11);
    st.deleteSnapshotChunks(10);
    st.persistSnapshotChunk(new RaftSnapshotChunk(11, 1, 1, 2, bytes("q1")));
    assertThat(storage().restore().snapshot().orElseThrow().index()).isEqualTo(10);
    st.persistSnapshotChunk(new RaftSnapshotChunk(11, 1, 0, 2, bytes("q0")));
    assertThat(storage().restore().snapshot())
        .contains(new RaftState.Snapshot(11, 1, List.of(bytes("q0"), bytes("q1"))));
    assertThat(backend().keyValue("raft.g.chunks").approximateCount())
        .as("chunks of the superseded snapshot are deleted")
        .isEqualTo(2);
    // an older snapshot's chunk is ignored
    st.persistSnapshotChunk(new RaftSnapshotChunk(5, 1, 0, 1, bytes("old")));
    assertThat(storage().restore().snapshot().orElseThrow().index()).isEqualTo(11);
  }

  @Test
  public void snapshotAheadOfTheLogReplacesIt() {
    RaftStorage st = storage();
    st.append(entries(1, 5, 1));
    st.persistSnapshotChunk(new RaftSnapshotChunk(100, 4, 0, 1, bytes("s")));
    RaftState s = storage().restore();
    assertThat(s.entries()).isEmpty();
    assertThat(s.compactedUntil()).isEqualTo(100);
    assertThat(s.snapshot().orElseThrow().index()).isEqualTo(100);
    st.append(entries(101, 102, 4));
    assertThat(storage().restore().entries()).isEqualTo(entries(101, 102, 4));
  }

  @Test
  public void restartRestoresExactlyThePersistedState() {
    assumeCapability(Capability.DURABLE);
    RaftStorage st = storage();
    st.persistLocalEndpoint(bytes("n1"));
    st.persistMembership(bytes("n1,n2"));
    st.persistTerm(7, bytes("n2"));
    st.append(entries(1, 50, 7));
    st.truncateFrom(41);
    st.append(entries(41, 45, 8));
    st.persistSnapshotChunk(new RaftSnapshotChunk(30, 7, 0, 2, bytes("a")));
    st.persistSnapshotChunk(new RaftSnapshotChunk(30, 7, 1, 2, bytes("b")));
    st.truncateUntil(30);
    st.persistSnapshotChunk(new RaftSnapshotChunk(40, 7, 0, 2, bytes("partial")));
    RaftState before = st.restore();

    reopen();
    RaftState after = storage().restore();
    assertSameState(after, before);
    assertThat(after.entries().get(0).index()).isEqualTo(31);
    assertThat(after.lastIndex()).isEqualTo(45);
    assertThat(after.snapshot().orElseThrow().index()).isEqualTo(30);
  }

  @Test
  public void aHoleInTheLogIsNamed() {
    RaftStorage st = storage();
    st.append(entries(1, 5, 1));
    backend().keyValue("raft.g.log").delete(ByteBuffer.allocate(8).putLong(3).array());
    assertThatThrownBy(() -> storage().restore())
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessageContaining("raft.g.log")
        .hasMessageContaining("log entry 3");
  }

  // --- read-only inspection ----------------------------------------------------------------------

  private static byte[] logKey(long index) {
    return ByteBuffer.allocate(8).putLong(index).array();
  }

  @Test
  public void inspectSummarisesTheStoredStateWithoutPayloads() {
    RaftStorage st = storage();
    st.persistLocalEndpoint(bytes("n1"));
    st.persistMembership(bytes("n1,n2,n3"));
    st.persistTerm(4, bytes("n2"));
    st.append(entries(1, 20, 4));
    st.truncateUntil(10);
    st.persistSnapshotChunk(new RaftSnapshotChunk(10, 4, 0, 2, bytes("abc")));
    st.persistSnapshotChunk(new RaftSnapshotChunk(10, 4, 1, 2, bytes("defg")));
    st.persistSnapshotChunk(new RaftSnapshotChunk(15, 4, 1, 3, bytes("xy")));

    RaftInspection i = RaftStorage.inspect(backend(), "g", 3);
    assertThat(i.group()).isEqualTo("g");
    assertThat(i.backend()).isEqualTo(BACKEND);
    assertThat(i.localEndpoint()).hasValueSatisfying(v -> assertThat(v).isEqualTo(bytes("n1")));
    assertThat(i.membership()).hasValueSatisfying(v -> assertThat(v).isEqualTo(bytes("n1,n2,n3")));
    assertThat(i.term()).isEqualTo(4);
    assertThat(i.votedFor()).hasValueSatisfying(v -> assertThat(v).isEqualTo(bytes("n2")));
    assertThat(i.firstIndex()).isEqualTo(11);
    assertThat(i.lastIndex()).isEqualTo(20);
    assertThat(i.entryCount()).isEqualTo(10);
    long payload = entries(11, 20, 4).stream().mapToLong(e -> e.payload().length).sum();
    assertThat(i.payloadBytes()).isEqualTo(payload);
    RaftEntry e20 = entry(20, 4);
    assertThat(i.lastEntries())
        .extracting(RaftInspection.EntrySummary::index)
        .containsExactly(18L, 19L, 20L);
    assertThat(i.lastEntries().get(2))
        .isEqualTo(
            new RaftInspection.EntrySummary(
                20, 4, e20.payload().length, Checksums.crc32c(e20.payload())));
    assertThat(i.snapshots())
        .containsExactly(
            new RaftInspection.SnapshotSummary(10, 4, 2, 2, 7, true),
            new RaftInspection.SnapshotSummary(15, 4, 3, 1, 2, false));
    assertThat(i.staleEntries()).isZero();
    assertThat(i.problems()).isEmpty();
    assertThat(RaftStorage.storedGroups(backend())).containsExactly("g");
  }

  @Test
  public void inspectChangesNothingAndCountsWhatANormalOpenCleansUp() {
    RaftStorage st = storage();
    st.append(entries(1, 5, 1));
    // What a crash during a truncation can leave: a key beyond the live bounds (invisible).
    backend().inTransaction(tx -> tx.keyValue("raft.g.log").put(logKey(9), bytes("stale")));
    var storesBefore = backend().stores();

    RaftInspection i = RaftStorage.inspect(backend(), "g", 10);
    assertThat(i.staleEntries()).isEqualTo(1);
    assertThat(i.lastIndex()).isEqualTo(5);
    assertThat(i.problems()).isEmpty();
    assertThat(backend().keyValue("raft.g.log").get(logKey(9)))
        .as("inspect must not clean up")
        .isNotNull();
    assertThat(backend().stores()).isEqualTo(storesBefore);

    storage(); // a normal open deletes it
    assertThat(backend().keyValue("raft.g.log").get(logKey(9))).isNull();
    assertThat(RaftStorage.inspect(backend(), "g", 10).staleEntries()).isZero();
  }

  @Test
  public void inspectReportsDamageInsteadOfThrowing() {
    RaftStorage st = storage();
    st.persistTerm(2, null);
    st.append(entries(1, 8, 2));
    backend()
        .inTransaction(
            tx -> {
              tx.keyValue("raft.g.log").delete(logKey(3));
              tx.keyValue("raft.g.log").delete(logKey(4));
              tx.keyValue("raft.g.log").delete(logKey(8));
              return null;
            });
    RaftInspection i = RaftStorage.inspect(backend(), "g", 2);
    assertThat(i.term()).isEqualTo(2);
    assertThat(i.lastIndex()).isEqualTo(8);
    assertThat(i.entryCount()).isEqualTo(5);
    assertThat(i.problems())
        .hasSize(2)
        .anySatisfy(p -> assertThat(p).contains("raft.g.log").contains("log entries 3..4"))
        .anySatisfy(p -> assertThat(p).contains("log entry 8"));
  }

  @Test
  public void inspectingAGroupThatIsNotStoredNamesTheStoredOnesAndCreatesNothing() {
    storage().append(entries(1, 1, 1));
    var storesBefore = backend().stores();
    assertThatThrownBy(() -> RaftStorage.inspect(backend(), "other", 5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no Raft group 'other'")
        .hasMessageContaining("[g]");
    assertThat(backend().stores()).isEqualTo(storesBefore);
  }

  @Test
  public void badGroupNamesAreRejected() {
    assertThatThrownBy(() -> RaftStorage.open(backend(), "a/b"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RaftStorage.open(backend(), "x".repeat(101)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("100");
  }

  @Test
  public void metricsTimePersistsAndReportSizes() {
    RaftStorage st = storage();
    st.append(entries(1, 10, 1));
    st.truncateUntil(3);
    st.persistSnapshotChunk(new RaftSnapshotChunk(3, 1, 0, 2, bytes("abc")));
    st.persistSnapshotChunk(new RaftSnapshotChunk(3, 1, 1, 2, bytes("defg")));
    var metrics = registry().metrics();
    assertThat(metrics.timer("cairn.raft-groups.g.persist").getCount()).isEqualTo(4);
    assertThat(metrics.getGauges().get("cairn.raft-groups.g.log-entries").getValue()).isEqualTo(7L);
    assertThat(metrics.getGauges().get("cairn.raft-groups.g.snapshot-bytes").getValue())
        .isEqualTo(7L);
  }

  // --- model-based ------------------------------------------------------------------------------

  @Test
  public void interleavedOperationsMatchTheModel() {
    Long one = Long.getLong(ONE_SEED_PROPERTY);
    int seeds = Integer.getInteger(SEEDS_PROPERTY, 5);
    int ops = Integer.getInteger(OPS_PROPERTY, 300);
    long base = seed();
    for (int n = 0; n < (one != null ? 1 : seeds); n++) {
      long s = one != null ? one : base + n;
      runModel(s, ops);
    }
  }

  /** The reference: what restore must return. */
  private static final class Model {
    long term;
    byte[] vote;
    byte[] endpoint;
    byte[] membership;
    long compactedUntil;
    final TreeMap<Long, RaftEntry> log = new TreeMap<>();
    RaftState.Snapshot snapshot;
    long partialIndex = -1;
    long partialTerm;
    byte[][] partialChunks;

    long last() {
      return log.isEmpty() ? compactedUntil : log.lastKey();
    }
  }

  private void runModel(long seed, int ops) {
    Random r = new Random(seed);
    String group = "m" + Long.toHexString(seed & 0xffffffL);
    RaftStorage st = RaftStorage.open(registry(), BACKEND, group);
    Model m = new Model();
    Deque<String> history = new ArrayDeque<>();
    boolean durable = capabilities().contains(Capability.DURABLE);
    for (int step = 0; step < ops; step++) {
      String op = step(r, st, m, group);
      if (op.equals("restart")) {
        if (durable) {
          reopen();
        }
        st = RaftStorage.open(registry(), BACKEND, group);
      }
      history.addLast(step + ": " + op);
      if (history.size() > 15) {
        history.removeFirst();
      }
      RaftState actual;
      try {
        actual = st.restore();
        assertState(actual, m);
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError(
            "Raft model mismatch, seed "
                + seed
                + " step "
                + step
                + " (replay: -D"
                + ONE_SEED_PROPERTY
                + "="
                + seed
                + " -D"
                + OPS_PROPERTY
                + "="
                + (step + 1)
                + "; the failure is at the first step that diverges, so the sequence is already"
                + " the shortest failing prefix). Last operations:\n  "
                + String.join("\n  ", history),
            e);
      }
    }
  }

  /** Applies one random operation to storage and model; returns its description. */
  private static String step(Random r, RaftStorage st, Model m, String group) {
    int k = r.nextInt(100);
    if (k < 35) {
      int n = 1 + r.nextInt(8);
      long term = Math.max(m.term, 1);
      List<RaftEntry> batch = entries(m.last() + 1, m.last() + n, term);
      st.append(batch);
      batch.forEach(e -> m.log.put(e.index(), e));
      return "append " + batch.get(0).index() + ".." + (m.last());
    } else if (k < 50) {
      long i = m.compactedUntil + 1 + r.nextInt((int) (m.last() - m.compactedUntil) + 3);
      st.truncateFrom(i);
      m.log.tailMap(i, true).clear();
      return "truncateFrom " + i;
    } else if (k < 58) {
      long i = Math.max(0, m.last() - 3) + r.nextInt(6);
      st.truncateUntil(i);
      applyTruncateUntil(m, i);
      return "truncateUntil " + i;
    } else if (k < 68) {
      long term = m.term + (r.nextBoolean() ? 0 : 1 + r.nextInt(2));
      byte[] vote = r.nextInt(3) == 0 ? null : bytes("n" + r.nextInt(3));
      boolean allowed =
          term > m.term || m.vote == null || (vote != null && Arrays.equals(vote, m.vote));
      try {
        st.persistTerm(term, vote);
        assertThat(allowed)
            .as("persistTerm(%s) accepted though it should be rejected", term)
            .isTrue();
        if (term > m.term || m.vote == null) {
          m.vote = vote;
        }
        m.term = term;
      } catch (IllegalArgumentException e) {
        assertThat(allowed).as("persistTerm(%s) rejected: %s", term, e.getMessage()).isFalse();
      }
      return "persistTerm " + term + " " + (vote == null ? "-" : new String(vote));
    } else if (k < 85) {
      // a snapshot chunk: continue the partial snapshot or start a new one
      if (m.partialIndex < 0 || r.nextInt(4) == 0) {
        long floor = m.snapshot == null ? 0 : m.snapshot.index();
        long index = Math.max(floor + 1, m.last() - r.nextInt(4) + (r.nextInt(5) == 0 ? 5 : 0));
        if (m.partialIndex >= 0) {
          st.deleteSnapshotChunks(m.partialIndex);
        }
        m.partialIndex = index;
        m.partialTerm = Math.max(m.term, 1);
        m.partialChunks = new byte[1 + r.nextInt(3)][];
      }
      int missing = 0;
      for (byte[] c : m.partialChunks) {
        missing += c == null ? 1 : 0;
      }
      int pick = r.nextInt(missing);
      int chunkIndex = -1;
      for (int i = 0; i < m.partialChunks.length; i++) {
        if (m.partialChunks[i] == null && pick-- == 0) {
          chunkIndex = i;
          break;
        }
      }
      byte[] data = new byte[r.nextInt(200)];
      r.nextBytes(data);
      long index = m.partialIndex;
      st.persistSnapshotChunk(
          new RaftSnapshotChunk(index, m.partialTerm, chunkIndex, m.partialChunks.length, data));
      m.partialChunks[chunkIndex] = data;
      if (Arrays.stream(m.partialChunks).allMatch(c -> c != null)) {
        m.snapshot = new RaftState.Snapshot(index, m.partialTerm, List.of(m.partialChunks));
        if (index > m.last()) {
          applyTruncateUntil(m, index);
        }
        m.partialIndex = -1;
      }
      return "snapshotChunk " + index + " #" + chunkIndex;
    } else if (k < 90) {
      if (m.partialIndex >= 0) {
        st.deleteSnapshotChunks(m.partialIndex);
        m.partialIndex = -1;
        return "deleteSnapshotChunks";
      }
      return "noop";
    } else if (k < 96) {
      byte[] v = bytes("v" + r.nextInt(1000));
      if (r.nextBoolean()) {
        st.persistLocalEndpoint(v);
        m.endpoint = v;
      } else {
        st.persistMembership(v);
        m.membership = v;
      }
      return "endpoint/membership";
    } else {
      return "restart";
    }
  }

  private static void applyTruncateUntil(Model m, long i) {
    if (i <= m.compactedUntil) {
      return;
    }
    long last = m.last();
    m.log.headMap(i, true).clear();
    m.compactedUntil = i;
    if (i > last) {
      m.log.clear();
    }
  }

  private static void assertState(RaftState actual, Model m) {
    assertThat(actual.term()).as("term").isEqualTo(m.term);
    assertThat(actual.votedFor().orElse(null)).as("vote").isEqualTo(m.vote);
    assertThat(actual.localEndpoint().orElse(null)).as("endpoint").isEqualTo(m.endpoint);
    assertThat(actual.membership().orElse(null)).as("membership").isEqualTo(m.membership);
    assertThat(actual.compactedUntil()).as("compactedUntil").isEqualTo(m.compactedUntil);
    assertThat(actual.entries()).as("entries").isEqualTo(new ArrayList<>(m.log.values()));
    assertThat(actual.lastIndex()).as("last index").isEqualTo(m.last());
    assertThat(actual.snapshot()).as("snapshot").isEqualTo(Optional.ofNullable(m.snapshot));
  }

  protected static void assertSameState(RaftState actual, RaftState expected) {
    assertThat(actual.term()).isEqualTo(expected.term());
    assertThat(actual.votedFor().orElse(null)).isEqualTo(expected.votedFor().orElse(null));
    assertThat(actual.localEndpoint().orElse(null))
        .isEqualTo(expected.localEndpoint().orElse(null));
    assertThat(actual.membership().orElse(null)).isEqualTo(expected.membership().orElse(null));
    assertThat(actual.compactedUntil()).isEqualTo(expected.compactedUntil());
    assertThat(actual.entries()).isEqualTo(expected.entries());
    assertThat(actual.snapshot()).isEqualTo(expected.snapshot());
  }
}
