package io.cairn.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.codahale.metrics.MetricRegistry;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.BackendStats;
import io.cairn.persistence.Capability;
import io.cairn.persistence.Codec;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.Durability;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.SnapshotStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StorageEngineException;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.Transaction;
import io.cairn.persistence.VerifyReport;
import io.cairn.persistence.spi.Settings;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The group committer's pipelined sync at {@code durability = full}: batches are committed with
 * {@link StorageBackend#inTransactionDeferred} and their callers (and pollers leased in them) are
 * released only after {@link StorageBackend#syncCommitted}; a failed sync fails them and refuses
 * every later commit until the queue is opened again.
 */
class PipelinedSyncTest {
  @TempDir Path dir;

  /** Delegates everything; counts deferred commits and syncs, and fails syncs on demand. */
  static final class SyncSpy implements StorageBackend {
    final StorageBackend d;
    final AtomicBoolean failSync = new AtomicBoolean();
    final AtomicInteger deferred = new AtomicInteger();
    final AtomicInteger syncs = new AtomicInteger();

    SyncSpy(StorageBackend d) {
      this.d = d;
    }

    @Override
    public String name() {
      return d.name();
    }

    @Override
    public String type() {
      return d.type();
    }

    @Override
    public Durability durability() {
      return d.durability();
    }

    @Override
    public Set<Capability> capabilities() {
      return d.capabilities();
    }

    @Override
    public KeyValueStore keyValue(String namespace) {
      return d.keyValue(namespace);
    }

    @Override
    public LogStore log(String name) {
      return d.log(name);
    }

    @Override
    public SnapshotStore snapshots(String name) {
      return d.snapshots(name);
    }

    @Override
    public <T> T inTransaction(Transaction.Work<T> work) {
      return d.inTransaction(work);
    }

    @Override
    public <T> T inTransactionDeferred(Transaction.Work<T> work) {
      deferred.incrementAndGet();
      return d.inTransactionDeferred(work);
    }

    @Override
    public void syncCommitted() {
      syncs.incrementAndGet();
      if (failSync.get()) {
        throw new StorageEngineException(
            "injected: fsync failed on " + name(), new java.io.IOException("injected EIO"));
      }
      d.syncCommitted();
    }

    @Override
    public SortedSet<StoreId> stores() {
      return d.stores();
    }

    @Override
    public BackendStats stats() {
      return d.stats();
    }

    @Override
    public VerifyReport verify(Progress progress) {
      return d.verify(progress);
    }

    @Override
    public void compact(Progress progress) {
      d.compact(progress);
    }

    @Override
    public void close() {
      d.close();
    }
  }

  private PersistenceRegistry registry(String type) {
    return PersistenceRegistry.builder()
        .baseDirectory(dir)
        .open(
            ConfigFactory.parseString(
                "cairn.backends.b { type = "
                    + type
                    + ", durability = full }\n"
                    + "cairn.queues.q { backend = b, visibility-timeout = 5m }"));
  }

  private static DurableQueue<String> queue(PersistenceRegistry r, StorageBackend backend) {
    List<ConfigProblem> problems = new ArrayList<>();
    QueueSettings s = QueueSettings.read(r.config(), "q", problems);
    Settings.throwIfAny(problems);
    QueueEngine engine = QueueEngine.open(backend, s, Clock.systemUTC(), new MetricRegistry());
    return new DurableQueue<>(engine, Codec.utf8(), true);
  }

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "rocksdb"})
  void callersReturnAfterTheSyncAndAFailedSyncBreaksTheQueueUntilReopened(String type)
      throws Exception {
    try (PersistenceRegistry r = registry(type)) {
      SyncSpy spy = new SyncSpy(r.backend("b"));
      DurableQueue<String> q = queue(r, spy);
      q.enqueue("one");
      Delivery<String> d = q.poll(Duration.ofSeconds(5)).orElseThrow();
      assertThat(d.payload()).isEqualTo("one");
      assertThat(q.ack(d)).isTrue();
      q.enqueue("two");
      assertThat(spy.deferred.get()).as("commits were deferred").isGreaterThanOrEqualTo(4);
      assertThat(spy.syncs.get()).as("each caller waited for a sync").isPositive();

      // A poller waiting when the failing batch leases it a message gets the failure too.
      Delivery<String> two = q.poll(Duration.ofSeconds(5)).orElseThrow();
      CompletableFuture<Optional<Delivery<String>>> waiting =
          CompletableFuture.supplyAsync(() -> q.poll(Duration.ofSeconds(10)));
      Thread.sleep(200); // let the poller register as waiting
      spy.failSync.set(true);
      Throwable enqueueFailure = catchThrowable(() -> q.enqueue("three"));
      assertThat(enqueueFailure)
          .isInstanceOf(StorageEngineException.class)
          .hasMessageContaining("sync")
          .hasMessageContaining("open it again");
      Throwable pollFailure = catchThrowable(() -> waiting.get(10, TimeUnit.SECONDS));
      assertThat(pollFailure).hasCauseInstanceOf(StorageEngineException.class);

      // Broken: even with syncing healthy again, nothing more is committed through this queue.
      spy.failSync.set(false);
      assertThat(catchThrowable(() -> q.enqueue("four")))
          .isInstanceOf(StorageEngineException.class)
          .hasMessageContaining("open it again");
      assertThat(catchThrowable(() -> q.ack(two))).isInstanceOf(StorageEngineException.class);
      q.close();

      // Opened again, recovery reads what is stored (here the injected failure lost nothing):
      // "one" acked; "two" leased until its 5-minute lease runs out; "three", whose outcome its
      // caller never learned, committed (pending, or leased to the waiting poller in the same
      // commit); never "four".
      DurableQueue<String> again = queue(r, r.backend("b"));
      List<String> left = new ArrayList<>();
      for (Delivery<String> x : again.poll(10, Duration.ZERO)) {
        left.add(x.payload());
      }
      assertThat(left).isSubsetOf("three");
      assertThat(again.stats().depth() + again.stats().inFlight()).isEqualTo(2);
      again.close();
    }
  }
}
