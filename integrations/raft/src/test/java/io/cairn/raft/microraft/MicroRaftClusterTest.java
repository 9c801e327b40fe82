package io.cairn.raft.microraft;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.raft.RaftState;
import io.cairn.raft.RaftStorage;
import io.cairn.raft.microraft.TestSerializer.TestEndpoint;
import io.microraft.RaftConfig;
import io.microraft.RaftEndpoint;
import io.microraft.RaftNode;
import io.microraft.model.log.LogEntry;
import io.microraft.model.log.RaftGroupMembersView;
import io.microraft.model.log.SnapshotChunk;
import io.microraft.model.message.RaftMessage;
import io.microraft.model.persistence.RaftEndpointPersistentState;
import io.microraft.model.persistence.RaftTermPersistentState;
import io.microraft.persistence.RaftStore;
import io.microraft.persistence.RestoredRaftState;
import io.microraft.statemachine.StateMachine;
import io.microraft.transport.Transport;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A three-node MicroRaft group in this JVM, each node on its own Cairn backend (SQLite, RocksDB,
 * SQLite: the memory backend cannot restart from storage), an in-process transport that can cut a
 * node off, and a replicated key-value state machine.
 *
 * <p>It commits {@code raftClusterOps} operations (default 10,000), with snapshots every 1,000
 * commits so prefix compaction and snapshot chunks are exercised; cuts the leader off while it
 * appends an uncommitted tail, lets the others elect a leader and commit more, heals the cut so the
 * old leader truncates its tail and converges; then stops every node, restarts each from its Cairn
 * storage alone, waits for a leader and checks that every committed operation is on every node and
 * no uncommitted one is anywhere.
 *
 * <p>A second scenario crashes a node with writes in flight: the cut-off leader appends entries
 * whose flush never completes, the machine dies, the others commit more; restarted from its storage
 * the node has only what was flushed before, rejoins, catches up and reaches the same commit index,
 * and the lost entries appear nowhere ({@code raftTailOps} operations first, default 300).
 */
class MicroRaftClusterTest {
  private static final int OPS = Integer.getInteger("raftClusterOps", 10_000);
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final String[] TYPES = {"sqlite", "rocksdb", "sqlite"};

  @TempDir Path dir;

  private final Map<RaftEndpoint, Node> nodes = new ConcurrentHashMap<>();
  private final Set<RaftEndpoint> isolated = ConcurrentHashMap.newKeySet();
  private final List<RaftEndpoint> endpoints =
      List.of(new TestEndpoint("n0"), new TestEndpoint("n1"), new TestEndpoint("n2"));
  private final RaftConfig config =
      RaftConfig.newBuilder()
          .setLeaderElectionTimeoutMillis(1500)
          .setLeaderHeartbeatPeriodSecs(1)
          .setLeaderHeartbeatTimeoutSecs(4)
          .setCommitCountToTakeSnapshot(1000)
          .build();

  /** One node: its registry, storage, state machine and MicroRaft node. */
  private final class Node {
    final RaftEndpoint endpoint;
    final String type;
    final PersistenceRegistry registry;
    final CountingStore store;
    final KvStateMachine machine = new KvStateMachine();
    final RestoredRaftState restored;
    final RaftNode raft;

    Node(RaftEndpoint endpoint, String type) {
      this.endpoint = endpoint;
      this.type = type;
      Path nodeDir = dir.resolve((String) endpoint.getId());
      this.registry =
          PersistenceRegistry.builder()
              .baseDirectory(nodeDir)
              .open(
                  ConfigFactory.parseString(
                      "cairn.backends.main = { type = " + type + ", durability = normal }"));
      RaftStorage storage = RaftStorage.open(registry.backend("main"), "kv");
      TestSerializer serializer = new TestSerializer();
      this.store = new CountingStore(new CairnRaftStore(storage, serializer));
      this.restored = CairnRaftStore.restore(storage, serializer);
      RaftNode.RaftNodeBuilder b =
          RaftNode.newBuilder()
              .setGroupId("kv")
              .setConfig(config)
              .setTransport(new LocalTransport(endpoint))
              .setStateMachine(machine)
              .setStore(store);
      this.raft =
          (restored == null
                  ? b.setLocalEndpoint(endpoint).setInitialGroupMembers(endpoints)
                  : b.setRestoredState(restored))
              .build();
    }

    /**
     * The machine dies: writes in flight never reach storage, the node stops answering, the
     * process's storage is closed without a flush.
     */
    void crash() {
      store.crash();
      raft.terminate(); // not awaited: the node's thread may be failing on the crashed store
      registry.close();
    }

    void stop() {
      try {
        raft.terminate().get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new AssertionError("terminating " + endpoint.getId(), e);
      } finally {
        registry.close();
      }
    }
  }

  private final class LocalTransport implements Transport {
    private final RaftEndpoint self;

    LocalTransport(RaftEndpoint self) {
      this.self = self;
    }

    @Override
    public void send(RaftEndpoint target, RaftMessage message) {
      Node n = nodes.get(target);
      if (n != null && !isolated.contains(self) && !isolated.contains(target)) {
        n.raft.handle(message);
      }
    }

    @Override
    public boolean isReachable(RaftEndpoint target) {
      return nodes.containsKey(target) && !isolated.contains(self) && !isolated.contains(target);
    }
  }

  /** A key-value map replicated by "put\tkey\tvalue" operations. */
  static final class KvStateMachine implements StateMachine {
    final Map<String, String> map = new ConcurrentHashMap<>();

    @Override
    public Object runOperation(long commitIndex, Object operation) {
      String op = (String) operation;
      if (op.startsWith("put\t")) {
        String[] p = op.split("\t", 3);
        return map.put(p[1], p[2]);
      }
      return null;
    }

    @Override
    public void takeSnapshot(long commitIndex, Consumer<Object> chunks) {
      StringBuilder chunk = new StringBuilder();
      int n = 0;
      for (Map.Entry<String, String> e : new java.util.TreeMap<>(map).entrySet()) {
        chunk.append(e.getKey()).append('\t').append(e.getValue()).append('\n');
        if (++n % 700 == 0) {
          chunks.accept(chunk.toString());
          chunk.setLength(0);
        }
      }
      if (chunk.length() > 0 || n == 0) {
        chunks.accept(chunk.toString());
      }
    }

    @Override
    public void installSnapshot(long commitIndex, List<Object> chunks) {
      map.clear();
      for (Object c : chunks) {
        for (String line : ((String) c).split("\n")) {
          if (!line.isEmpty()) {
            String[] p = line.split("\t", 2);
            map.put(p[0], p[1]);
          }
        }
      }
    }

    @Override
    public Object getNewTermOperation() {
      return "noop";
    }
  }

  /**
   * Delegates to the Cairn store and counts the calls this test wants to see happen. It can also
   * simulate a machine dying with writes in flight: after {@link #withhold()} entries are still
   * buffered ({@code persistLogEntries} writes nothing in {@link CairnRaftStore}), but every call
   * that would write (flush, the persist-and-flush calls, truncations) blocks as a stuck fsync
   * would, until {@link #crash()} makes it and every later call fail without touching storage. So
   * what storage holds afterwards is exactly what was acknowledged as flushed before.
   */
  static final class CountingStore implements RaftStore {
    final CairnRaftStore delegate;
    final AtomicInteger truncateFrom = new AtomicInteger();
    final AtomicInteger truncateUntil = new AtomicInteger();
    final AtomicInteger snapshotChunks = new AtomicInteger();
    private volatile boolean withholding;
    private volatile boolean crashed;
    final CountDownLatch stuck = new CountDownLatch(1);
    private final CountDownLatch crash = new CountDownLatch(1);
    final AtomicLong firstWithheldIndex = new AtomicLong(Long.MAX_VALUE);

    CountingStore(CairnRaftStore delegate) {
      this.delegate = delegate;
    }

    void withhold() {
      withholding = true;
    }

    void crash() {
      crashed = true;
      crash.countDown();
    }

    /** Blocks a writing call while withholding, fails every call after the crash. */
    private void gate(String call) throws IOException {
      if (crashed) {
        throw new IOException("node crashed (test): " + call);
      }
      if (withholding) {
        stuck.countDown();
        try {
          crash.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        throw new IOException("node crashed during " + call + " (test)");
      }
    }

    @Override
    public void persistAndFlushLocalEndpoint(RaftEndpointPersistentState s) throws IOException {
      gate("persistAndFlushLocalEndpoint");
      delegate.persistAndFlushLocalEndpoint(s);
    }

    @Override
    public void persistAndFlushInitialGroupMembers(RaftGroupMembersView v) throws IOException {
      gate("persistAndFlushInitialGroupMembers");
      delegate.persistAndFlushInitialGroupMembers(v);
    }

    @Override
    public void persistAndFlushTerm(RaftTermPersistentState s) throws IOException {
      gate("persistAndFlushTerm");
      delegate.persistAndFlushTerm(s);
    }

    @Override
    public void persistLogEntries(List<LogEntry> entries) throws IOException {
      if (crashed) {
        throw new IOException("node crashed (test): persistLogEntries");
      }
      if (withholding && !entries.isEmpty()) {
        firstWithheldIndex.accumulateAndGet(entries.get(0).getIndex(), Math::min);
      }
      delegate.persistLogEntries(entries); // buffered in memory until flush
    }

    @Override
    public void persistSnapshotChunk(SnapshotChunk chunk) throws IOException {
      gate("persistSnapshotChunk");
      snapshotChunks.incrementAndGet();
      delegate.persistSnapshotChunk(chunk);
    }

    @Override
    public void truncateLogEntriesFrom(long index) throws IOException {
      gate("truncateLogEntriesFrom");
      truncateFrom.incrementAndGet();
      delegate.truncateLogEntriesFrom(index);
    }

    @Override
    public void truncateLogEntriesUntil(long index) throws IOException {
      gate("truncateLogEntriesUntil");
      truncateUntil.incrementAndGet();
      delegate.truncateLogEntriesUntil(index);
    }

    @Override
    public void deleteSnapshotChunks(long index, int count) throws IOException {
      gate("deleteSnapshotChunks");
      delegate.deleteSnapshotChunks(index, count);
    }

    @Override
    public void flush() throws IOException {
      gate("flush");
      delegate.flush();
    }
  }

  @AfterEach
  void stopAll() {
    for (Node n : List.copyOf(nodes.values())) {
      try {
        n.stop();
      } catch (RuntimeException | AssertionError e) {
        // already reported by the test
      }
    }
    nodes.clear();
  }

  private void startAll() {
    for (int i = 0; i < endpoints.size(); i++) {
      Node n = new Node(endpoints.get(i), TYPES[i]);
      nodes.put(n.endpoint, n);
    }
    for (Node n : nodes.values()) {
      n.raft.start();
    }
  }

  private static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("Timed out after " + WAIT + " waiting for " + what);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  /** The node that is leader in its own view and not cut off, once one exists. */
  private Node awaitLeader() {
    Node[] leader = new Node[1];
    await(
        "a leader",
        () -> {
          for (Node n : nodes.values()) {
            RaftEndpoint l = n.raft.getTerm().getLeaderEndpoint();
            if (!isolated.contains(n.endpoint) && n.endpoint.equals(l)) {
              leader[0] = n;
              return true;
            }
          }
          return false;
        });
    return leader[0];
  }

  /** Replicates every operation until it is committed; returns the committed key-values. */
  private Map<String, String> commit(String prefix, int count) {
    Map<String, String> committed = new LinkedHashMap<>();
    List<Integer> todo = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      todo.add(i);
    }
    long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
    while (!todo.isEmpty()) {
      assertThat(System.nanoTime()).as("commit deadline").isLessThan(deadline);
      Node leader = awaitLeader();
      List<Integer> failed = new ArrayList<>();
      for (int from = 0; from < todo.size(); from += 250) {
        List<Integer> window = todo.subList(from, Math.min(todo.size(), from + 250));
        List<CompletableFuture<?>> futures = new ArrayList<>();
        for (int i : window) {
          futures.add(leader.raft.replicate("put\t" + prefix + i + "\tv" + i));
        }
        for (int j = 0; j < window.size(); j++) {
          int i = window.get(j);
          try {
            futures.get(j).get(30, TimeUnit.SECONDS);
            committed.put(prefix + i, "v" + i);
          } catch (Exception e) {
            failed.add(i);
          }
        }
      }
      todo = failed;
    }
    return committed;
  }

  private void awaitEverywhere(Map<String, String> committed) {
    for (Node n : nodes.values()) {
      await(
          "all " + committed.size() + " committed operations on " + n.endpoint.getId(),
          () -> n.machine.map.entrySet().containsAll(committed.entrySet()));
    }
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void committedOperationsSurviveARestartOfEveryNodeFromCairnStorage() throws Exception {
    startAll();
    Map<String, String> committed = new LinkedHashMap<>(commit("k", OPS));
    awaitEverywhere(committed);

    // Cut the leader off while it appends entries nobody else sees.
    Node oldLeader = awaitLeader();
    isolated.add(oldLeader.endpoint);
    List<CompletableFuture<?>> doomed = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      doomed.add(oldLeader.raft.replicate("put\tlost" + i + "\tx"));
    }
    committed.putAll(commit("after-cut-", 200));
    isolated.clear();
    awaitEverywhere(committed);
    for (CompletableFuture<?> f : doomed) {
      assertThat(f).failsWithin(Duration.ofSeconds(30));
    }
    assertThat(oldLeader.store.truncateFrom.get())
        .as("the cut-off leader truncated its uncommitted tail")
        .isPositive();
    int snapshotsWritten =
        nodes.values().stream().mapToInt(n -> n.store.snapshotChunks.get()).sum();
    int compactions = nodes.values().stream().mapToInt(n -> n.store.truncateUntil.get()).sum();
    assertThat(snapshotsWritten).as("snapshot chunks persisted").isPositive();
    assertThat(compactions).as("prefix compactions").isPositive();

    // Stop everything and restart each node from its Cairn storage alone.
    for (Node n : List.copyOf(nodes.values())) {
      nodes.remove(n.endpoint);
      n.stop();
    }
    startAll();
    for (Node n : nodes.values()) {
      assertThat(n.restored).as("restored state of %s", n.endpoint.getId()).isNotNull();
      assertThat(n.restored.getTermPersistentState().getTerm()).isPositive();
      RaftState raw = n.store.delegate.storage().restore();
      assertThat(raw.snapshot()).as("snapshot on %s (%s)", n.endpoint.getId(), n.type).isPresent();
    }
    awaitLeader();
    committed.putAll(commit("after-restart-", 10));
    awaitEverywhere(committed);
    for (Node n : nodes.values()) {
      for (int i = 0; i < 20; i++) {
        assertThat(n.machine.map)
            .as("uncommitted write on %s", n.endpoint.getId())
            .doesNotContainKey("lost" + i);
      }
    }
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void aNodeThatLostItsUnflushedTailRejoinsAndConverges() throws Exception {
    startAll();
    Map<String, String> committed =
        new LinkedHashMap<>(commit("k", Integer.getInteger("raftTailOps", 300)));
    awaitEverywhere(committed);

    // The leader, cut off, appends entries; its flush of them never completes (a stuck fsync),
    // then the machine dies. Nobody acknowledged those entries.
    Node victim = awaitLeader();
    String id = (String) victim.endpoint.getId();
    victim.store.withhold();
    isolated.add(victim.endpoint);
    for (int i = 0; i < 20; i++) {
      victim.raft.replicate("put\tlost" + i + "\tx");
    }
    assertThat(victim.store.stuck.await(60, TimeUnit.SECONDS))
        .as("a write of %s got stuck", id)
        .isTrue();
    long firstLost = victim.store.firstWithheldIndex.get();
    assertThat(firstLost).as("entries appended in memory on %s", id).isLessThan(Long.MAX_VALUE);
    nodes.remove(victim.endpoint);
    victim.crash();
    isolated.clear();

    // The others carry on without it.
    committed.putAll(commit("while-down-", 100));

    // Restart it from its storage: the in-flight tail is gone, not half there.
    Node restarted = new Node(victim.endpoint, victim.type);
    RaftState onDisk = restarted.store.delegate.storage().restore();
    assertThat(onDisk.lastIndex())
        .as(
            "%s (%s) kept only what was flushed: last index below the first unflushed",
            id, victim.type)
        .isLessThan(firstLost);
    nodes.put(restarted.endpoint, restarted);
    restarted.raft.start();

    committed.putAll(commit("after-rejoin-", 50));
    awaitEverywhere(committed);
    for (Node n : nodes.values()) {
      for (int i = 0; i < 20; i++) {
        assertThat(n.machine.map)
            .as("unacknowledged write on %s", n.endpoint.getId())
            .doesNotContainKey("lost" + i);
      }
    }
    // Converged: every node's log reaches the same commit index.
    long leaderCommit = awaitLeader().raft.getReport().join().getResult().getLog().getCommitIndex();
    await(
        "every node to reach commit index " + leaderCommit,
        () ->
            nodes.values().stream()
                .allMatch(
                    n ->
                        n.raft.getReport().join().getResult().getLog().getCommitIndex()
                            >= leaderCommit));
  }
}
