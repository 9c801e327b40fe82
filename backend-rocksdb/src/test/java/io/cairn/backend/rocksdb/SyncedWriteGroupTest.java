package io.cairn.backend.rocksdb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.Durability;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.StorageEngine.Write;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.RocksDBException;

/**
 * {@link SyncedWriteGroup}: writes queued during a group's write share the next one, a write
 * returns only after the group holding it was written, a failed group fails its members and only
 * them, and a failure of any kind never leaves a member waiting; then the engine at {@code full}
 * through it.
 */
class SyncedWriteGroupTest {
  @TempDir Path dir;

  private static final StoreId KV = new StoreId(StoreKind.KEY_VALUE, "k");

  private final ExecutorService pool = Executors.newCachedThreadPool();

  @AfterEach
  void stopPool() {
    pool.shutdownNow();
  }

  /** Records every group it is given; the first group blocks until {@link #release} opens. */
  private static final class RecordingWriter implements SyncedWriteGroup.GroupWriter {
    final List<List<List<Write>>> groups = new CopyOnWriteArrayList<>();
    final Set<List<Write>> written = ConcurrentHashMap.newKeySet();
    final List<Thread> threads = new CopyOnWriteArrayList<>();
    final CountDownLatch firstEntered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    volatile int failGroup = -1; // this group's index throws
    volatile RuntimeException failWith;

    @Override
    public void write(List<List<Write>> group) throws RocksDBException {
      int index = groups.size();
      groups.add(List.copyOf(group)); // the group's list is reused by the next group
      threads.add(Thread.currentThread());
      if (index == 0) {
        firstEntered.countDown();
        try {
          release.await(); // the first group's fsync takes as long as the test wants
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      if (index == failGroup) {
        if (failWith != null) {
          throw failWith;
        }
        throw new RocksDBException("IO error: injected fsync failure");
      }
      written.addAll(group);
    }
  }

  @Test
  void aLoneWriterWritesItsOwnGroupOnItsOwnThread() throws Exception {
    RecordingWriter w = new RecordingWriter();
    w.release.countDown();
    SyncedWriteGroup g = new SyncedWriteGroup(w);
    List<Write> batch = batch("a");
    g.write(batch);
    assertThat(w.groups).containsExactly(List.of(batch));
    assertThat(w.threads).containsExactly(Thread.currentThread());
    assertThat(g.groups()).isEqualTo(1);
    assertThat(g.writes()).isEqualTo(1);
  }

  @Test
  void writesQueuedDuringAGroupShareTheNextAndReturnOnlyOnceWritten() throws Exception {
    RecordingWriter w = new RecordingWriter();
    SyncedWriteGroup g = new SyncedWriteGroup(w);
    List<Write> first = batch("first");
    Future<?> leader = pool.submit(() -> write(g, first));
    assertThat(w.firstEntered.await(30, TimeUnit.SECONDS)).isTrue();

    List<List<Write>> queued = new ArrayList<>();
    List<Future<?>> followers = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      List<Write> b = batch("q" + i);
      queued.add(b);
      followers.add(
          pool.submit(
              () -> {
                write(g, b);
                // returned: its group must have been written already
                assertThat(w.written).contains(b);
                return null;
              }));
    }
    waitUntil(() -> g.queued() == 5);
    Thread.sleep(50); // none returns while the group ahead of it is still being written
    for (Future<?> f : followers) {
      assertThat(f.isDone()).isFalse();
    }

    w.release.countDown();
    leader.get(30, TimeUnit.SECONDS);
    for (Future<?> f : followers) {
      f.get(30, TimeUnit.SECONDS);
    }
    assertThat(w.groups).hasSize(2);
    assertThat(w.groups.get(0)).containsExactly(first);
    assertThat(w.groups.get(1)).containsExactlyInAnyOrderElementsOf(queued);
    assertThat(g.groups()).isEqualTo(2);
    assertThat(g.writes()).isEqualTo(6);
  }

  @Test
  void aGroupTakesNoMoreBytesThanItsBoundUnlessOneWriteIsLarger() throws Exception {
    RecordingWriter w = new RecordingWriter();
    SyncedWriteGroup g = new SyncedWriteGroup(w);
    Future<?> leader = pool.submit(() -> write(g, batch("first")));
    assertThat(w.firstEntered.await(30, TimeUnit.SECONDS)).isTrue();
    int third = (int) (SyncedWriteGroup.MAX_GROUP_BYTES / 3);
    List<Future<?>> queued = new ArrayList<>();
    for (int i = 0; i < 3; i++) { // three of a third each (plus keys): two fit, the third does not
      List<Write> b = List.of(new Write(KV, b("big" + i), new byte[third]));
      queued.add(pool.submit(() -> write(g, b)));
      int n = i + 1;
      waitUntil(() -> g.queued() == n); // queue order = submission order
    }
    List<Write> huge =
        List.of(new Write(KV, b("huge"), new byte[(int) (2 * SyncedWriteGroup.MAX_GROUP_BYTES)]));
    queued.add(pool.submit(() -> write(g, huge)));
    waitUntil(() -> g.queued() == 4);
    w.release.countDown();
    leader.get(30, TimeUnit.SECONDS);
    for (Future<?> f : queued) {
      f.get(30, TimeUnit.SECONDS);
    }
    assertThat(w.groups).extracting(List::size).containsExactly(1, 2, 1, 1);
    assertThat(w.groups.get(3)).containsExactly(huge);
  }

  @Test
  void aFailedGroupFailsItsMembersAndOnlyThem() throws Exception {
    RecordingWriter w = new RecordingWriter();
    w.failGroup = 1;
    SyncedWriteGroup g = new SyncedWriteGroup(w);
    List<Future<?>> members = threeBehindTheFirstGroup(w, g);
    for (Future<?> f : members) {
      assertThatThrownBy(() -> f.get(30, TimeUnit.SECONDS))
          .hasRootCauseInstanceOf(RocksDBException.class)
          .hasRootCauseMessage("IO error: injected fsync failure");
    }
    g.write(batch("after")); // a later group is not failed by the one before it
    assertThat(w.groups).hasSize(3);
  }

  @Test
  void aRuntimeFailureOfTheWriterStillCompletesEveryMember() throws Exception {
    RecordingWriter w = new RecordingWriter();
    w.failGroup = 1;
    w.failWith = new IllegalStateException("data directory replaced");
    SyncedWriteGroup g = new SyncedWriteGroup(w);
    List<Future<?>> members = threeBehindTheFirstGroup(w, g);
    for (Future<?> f : members) {
      assertThatThrownBy(() -> f.get(30, TimeUnit.SECONDS))
          .hasRootCauseInstanceOf(IllegalStateException.class)
          .hasRootCauseMessage("data directory replaced");
    }
  }

  /**
   * The engine at {@code full}: eight threads' puts all go through the group and every one is read
   * back after a reopen; a write asking for {@code full} at {@code normal} goes through it too.
   */
  @Test
  void theEngineGroupsItsSyncedWritesAndLosesNone() throws Exception {
    Path d = dir.resolve("full");
    int threads = 8;
    int perThread = 200;
    try (RocksStorageEngine e = open(d, Durability.FULL)) {
      long before = e.syncedWrites().writes();
      List<Future<?>> writers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        writers.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < perThread; i++) {
                    e.write(batch(thread + "-" + i), Durability.FULL);
                  }
                  return null;
                }));
      }
      for (Future<?> f : writers) {
        f.get(120, TimeUnit.SECONDS);
      }
      assertThat(e.syncedWrites().writes() - before).isEqualTo(threads * perThread);
      assertThat(e.properties()).containsKeys("synced-write-groups", "synced-writes-per-group");
    }
    try (RocksStorageEngine e = open(d, Durability.FULL)) {
      for (int t = 0; t < threads; t++) {
        for (int i = 0; i < perThread; i++) {
          assertThat(e.get(KV, b(t + "-" + i))).as("key %s-%s", t, i).isEqualTo(b("v"));
        }
      }
    }
    try (RocksStorageEngine e = open(dir.resolve("normal"), Durability.NORMAL)) {
      long before = e.syncedWrites().writes();
      e.write(batch("stronger"), Durability.FULL);
      e.write(batch("plain"), Durability.NORMAL);
      assertThat(e.syncedWrites().writes() - before).isEqualTo(1);
    }
  }

  /**
   * Starts a first write, whose group blocks in {@code w}, queues three writes behind it, then lets
   * the first group finish (its write succeeded); returns the three, which form the second group.
   */
  private List<Future<?>> threeBehindTheFirstGroup(RecordingWriter w, SyncedWriteGroup g)
      throws Exception {
    Future<?> leader = pool.submit(() -> write(g, batch("first")));
    assertThat(w.firstEntered.await(30, TimeUnit.SECONDS)).isTrue();
    List<Future<?>> members = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      List<Write> b = batch("m" + i);
      members.add(pool.submit(() -> write(g, b)));
    }
    waitUntil(() -> g.queued() == 3);
    w.release.countDown();
    leader.get(30, TimeUnit.SECONDS);
    return members;
  }

  private RocksStorageEngine open(Path d, Durability durability) {
    BackendContext ctx =
        BackendContext.builder("grp", RocksDbBackendProvider.TYPE)
            .dataDir(d)
            .durability(durability)
            .config(ConfigFactory.empty())
            .build();
    return RocksStorageEngine.open(ctx, RocksDbBackendProvider.config(ctx));
  }

  private static Void write(SyncedWriteGroup g, List<Write> b) throws RocksDBException {
    g.write(b);
    return null;
  }

  private static void waitUntil(java.util.function.BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not reached in 30 s");
      }
      Thread.sleep(1);
    }
  }

  private static List<Write> batch(String key) {
    return List.of(new Write(KV, b(key), b("v")));
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
