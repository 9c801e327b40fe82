package io.cairn.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.VersionConflictException;
import io.cairn.persistence.spi.Bytes;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Contract under concurrency: no lost updates under compare-and-set, unique gap-free offsets from
 * concurrent appends, readers that never see gaps or disorder while writers run, and serialised
 * transactions. Thread and operation counts are modest so the suite stays quick; raise them with
 * {@link #threads()} and {@link #operationsPerThread()}.
 */
public abstract class ConcurrencyContract extends ContractSupport {
  private static final long TIMEOUT_SECONDS = 120;
  private ExecutorService pool;

  /** Worker threads per test. */
  protected int threads() {
    return 8;
  }

  /** Operations each worker performs. */
  protected int operationsPerThread() {
    return 200;
  }

  @BeforeEach
  final void startPool() {
    pool = Executors.newFixedThreadPool(threads() + 2);
  }

  @AfterEach
  final void stopPool() throws InterruptedException {
    pool.shutdownNow();
    assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).as("workers stopped").isTrue();
  }

  @Test
  public void compareAndSetIncrementsLoseNoUpdates() throws Exception {
    KeyValueStore kv = backend().keyValue("tck-counter");
    byte[] key = bytes("counter");
    AtomicInteger conflicts = new AtomicInteger();
    runAll(
        threads(),
        t -> {
          for (int i = 0; i < operationsPerThread(); i++) {
            while (true) {
              Optional<Entry> cur = kv.getEntry(key);
              long version = cur.map(Entry::version).orElse(0L);
              long value = cur.map(e -> ByteBuffer.wrap(e.value()).getLong()).orElse(0L);
              try {
                kv.compareAndSet(key, version, longBytes(value + 1), null);
                break;
              } catch (VersionConflictException e) {
                assertThat(e.actualVersion()).isNotEqualTo(version);
                conflicts.incrementAndGet();
              }
            }
          }
        });
    long total = (long) threads() * operationsPerThread();
    assertThat(ByteBuffer.wrap(kv.get(key)).getLong())
        .as("increments (with %d CAS conflicts retried)", conflicts.get())
        .isEqualTo(total);
  }

  @Test
  public void concurrentAppendsGetUniqueGapFreeOffsets() throws Exception {
    LogStore log = backend().log("tck-concurrent");
    ConcurrentHashMap<Long, String> written = new ConcurrentHashMap<>();
    runAll(
        threads(),
        t -> {
          for (int i = 0; i < operationsPerThread(); i++) {
            String payload = t + ":" + i;
            long offset = log.append(bytes(payload));
            String previous = written.putIfAbsent(offset, payload);
            assertThat(previous).as("offset %d handed out twice", offset).isNull();
          }
        });
    long total = (long) threads() * operationsPerThread();
    assertThat(log.nextOffset()).isEqualTo(total);
    Set<Long> offsets = new HashSet<>(written.keySet());
    for (long o = 0; o < total; o++) {
      assertThat(offsets).as("offset %d missing", o).contains(o);
    }
    long next = 0;
    while (next < total) {
      for (LogRecord r : log.read(next, 500)) {
        assertThat(r.offset()).isEqualTo(next);
        assertThat(new String(r.payload(), java.nio.charset.StandardCharsets.UTF_8))
            .isEqualTo(written.get(next));
        next++;
      }
    }
  }

  @Test
  public void concurrentAppendAllBatchesStayContiguous() throws Exception {
    LogStore log = backend().log("tck-batches");
    int batch = 5;
    int batches = Math.max(1, operationsPerThread() / batch);
    runAll(
        threads(),
        t -> {
          for (int i = 0; i < batches; i++) {
            List<byte[]> payloads = new ArrayList<>();
            for (int j = 0; j < batch; j++) {
              payloads.add(bytes(t + ":" + i + ":" + j));
            }
            log.appendAll(payloads);
          }
        });
    long total = (long) threads() * batches * batch;
    assertThat(log.nextOffset()).isEqualTo(total);
    List<LogRecord> all = readAll(log);
    assertThat(all).hasSize((int) total);
    for (int start = 0; start < total; start += batch) {
      String first = new String(all.get(start).payload(), java.nio.charset.StandardCharsets.UTF_8);
      String prefix = first.substring(0, first.lastIndexOf(':') + 1);
      assertThat(first).as("batch starting at offset %d", start).endsWith(":0");
      for (int j = 0; j < batch; j++) {
        assertThat(
                new String(all.get(start + j).payload(), java.nio.charset.StandardCharsets.UTF_8))
            .as("record %d of the batch at offset %d", j, start)
            .isEqualTo(prefix + j);
      }
    }
  }

  @Test
  public void readersSeeNoGapsOrDisorderWhileWritersRun() throws Exception {
    KeyValueStore kv = backend().keyValue("tck-readers");
    LogStore log = backend().log("tck-readers");
    AtomicLong acknowledgedKeys = new AtomicLong();
    AtomicBoolean writing = new AtomicBoolean(true);
    int writes = threads() * operationsPerThread() / 2;
    AtomicInteger scans = new AtomicInteger();

    List<Callable<Void>> tasks = new ArrayList<>();
    tasks.add(
        () -> {
          try {
            for (int i = 0; i < writes; i++) {
              kv.put(key(i), longBytes(i));
              acknowledgedKeys.set(i + 1);
              log.append(longBytes(i));
            }
          } finally {
            writing.set(false);
          }
          return null;
        });
    for (int r = 0; r < Math.max(2, threads() / 2); r++) {
      tasks.add(
          () -> {
            do {
              long mustSee = acknowledgedKeys.get();
              byte[] previous = null;
              long seen = 0;
              try (CloseableIterator<Entry> it = kv.scan(null, null)) {
                while (it.hasNext()) {
                  Entry e = it.next();
                  if (previous != null) {
                    assertThat(Bytes.UNSIGNED.compare(previous, e.key()))
                        .as("scan order")
                        .isNegative();
                  }
                  assertThat(e.key()).isEqualTo(key(ByteBuffer.wrap(e.value()).getLong()));
                  previous = e.key();
                  seen++;
                }
              }
              assertThat(seen)
                  .as("a scan must return every key acknowledged before it started")
                  .isGreaterThanOrEqualTo(mustSee);

              long next = log.nextOffset();
              if (next > 0) {
                List<LogRecord> records = log.read(0, (int) next);
                assertThat(records).as("records below nextOffset %d", next).hasSize((int) next);
                for (int i = 0; i < records.size(); i++) {
                  assertThat(records.get(i).offset()).isEqualTo(i);
                  assertThat(records.get(i).payload()).isEqualTo(longBytes(i));
                }
              }
              scans.incrementAndGet();
            } while (writing.get());
            return null;
          });
    }
    invokeAll(tasks);
    assertThat(scans.get()).isPositive();
    assertThat(kv.approximateCount()).isEqualTo(writes);
  }

  /** System property: transactions written by {@link #aTransactionsWritesBecomeVisibleTogether}. */
  public static final String VISIBILITY_TRANSACTIONS_PROPERTY = "tckVisibilityTransactions";

  /**
   * A writer commits transactions {@code i} that each put key {@code tx-i} and append log record
   * {@code i}; readers that see {@code tx-i} must find record {@code i}, and readers that see the
   * log's {@code nextOffset} pass {@code i} must find {@code tx-i}: a transaction's writes become
   * visible together (see {@link io.cairn.persistence.StorageBackend}).
   */
  @Test
  public void aTransactionsWritesBecomeVisibleTogether() throws Exception {
    int transactions = Integer.getInteger(VISIBILITY_TRANSACTIONS_PROPERTY, 1000);
    KeyValueStore kv = backend().keyValue("tck-visible");
    LogStore log = backend().log("tck-visible");
    AtomicBoolean writing = new AtomicBoolean(true);
    AtomicLong checks = new AtomicLong();
    List<Callable<Void>> tasks = new ArrayList<>();
    tasks.add(
        () -> {
          try {
            for (int i = 0; i < transactions; i++) {
              int n = i;
              backend()
                  .inTransaction(
                      tx -> {
                        tx.keyValue("tck-visible").put(bytes("tx-" + n), longBytes(n));
                        return tx.log("tck-visible").append(longBytes(n));
                      });
            }
          } finally {
            writing.set(false);
          }
          return null;
        });
    int readers = Math.max(1, threads() / 4); // per direction: more readers, more interleavings
    for (int reader = 0; reader < readers; reader++) {
      // key first, then the log record
      tasks.add(
          () -> {
            int i = 0;
            while (i < transactions) {
              boolean more = writing.get();
              if (kv.get(bytes("tx-" + i)) != null) {
                List<LogRecord> r = log.read(i, 1);
                assertThat(r)
                    .as("key tx-%d is visible, so log record %d must be too", i, i)
                    .hasSize(1);
                assertThat(r.get(0).payload()).isEqualTo(longBytes(i));
                checks.incrementAndGet();
                i++;
              } else if (!more) {
                throw new AssertionError("tx-" + i + " missing after every transaction committed");
              }
            }
            return null;
          });
      // the log first, then the key
      tasks.add(
          () -> {
            long checked = 0;
            while (checked < transactions) {
              boolean more = writing.get();
              long next = log.nextOffset();
              for (; checked < next; checked++) {
                assertThat(kv.get(bytes("tx-" + checked)))
                    .as("log nextOffset is %d, so key tx-%d must be visible", next, checked)
                    .isEqualTo(longBytes(checked));
                checks.incrementAndGet();
              }
              if (!more && checked < transactions) {
                throw new AssertionError(
                    "log nextOffset " + next + " after every transaction committed");
              }
            }
            return null;
          });
    }
    invokeAll(tasks);
    assertThat(checks.get()).isEqualTo(2L * readers * transactions);
  }

  /**
   * What a scan promises while others write (see {@link KeyValueStore#scan}): keys in strictly
   * increasing order, each at most once; every entry that stays unchanged during the scan is
   * returned with its value; a changing entry shows only values it really had.
   */
  @Test
  public void scansSeeEachKeyOnceInOrderAndEveryStableEntry() throws Exception {
    KeyValueStore kv = backend().keyValue("tck-scan");
    int stable = 600;
    List<io.cairn.persistence.KeyValue> initial = new ArrayList<>();
    for (int i = 0; i < stable; i++) {
      initial.add(
          new io.cairn.persistence.KeyValue(bytes(String.format("s-%04d", i)), bytes("stable")));
    }
    kv.putAll(initial);
    AtomicBoolean writing = new AtomicBoolean(true);
    AtomicInteger scans = new AtomicInteger();
    long seed = seed();
    List<Callable<Void>> tasks = new ArrayList<>();
    tasks.add(
        () -> {
          try {
            java.util.Random random = new java.util.Random(seed);
            for (int round = 0; round < operationsPerThread() * 2 || scans.get() < 3; round++) {
              int i = random.nextInt(stable);
              byte[] changing = bytes(String.format("s-%04d-changing", i));
              switch (round % 3) {
                case 0 -> kv.put(changing, bytes("v" + round));
                case 1 -> kv.delete(changing);
                default ->
                    kv.putAll(
                        List.of(
                            new io.cairn.persistence.KeyValue(changing, bytes("v" + round)),
                            new io.cairn.persistence.KeyValue(
                                bytes(String.format("s-%04d-changing", (i + 1) % stable)),
                                bytes("v" + round))));
              }
            }
          } finally {
            writing.set(false);
          }
          return null;
        });
    for (int r = 0; r < 2; r++) {
      tasks.add(
          () -> {
            do {
              byte[] previous = null;
              int stableSeen = 0;
              try (CloseableIterator<Entry> it = kv.scan(null, null)) {
                while (it.hasNext()) {
                  Entry e = it.next();
                  if (previous != null) {
                    assertThat(Bytes.UNSIGNED.compare(previous, e.key()))
                        .as("scan returns keys strictly increasing, each once")
                        .isNegative();
                  }
                  previous = e.key();
                  String key = new String(e.key(), java.nio.charset.StandardCharsets.UTF_8);
                  String value = new String(e.value(), java.nio.charset.StandardCharsets.UTF_8);
                  if (key.endsWith("-changing")) {
                    assertThat(value).as("a changing entry's value").startsWith("v");
                  } else {
                    assertThat(value).as("stable entry %s", key).isEqualTo("stable");
                    stableSeen++;
                  }
                }
              }
              assertThat(stableSeen).as("every unchanged entry is returned").isEqualTo(stable);
              scans.incrementAndGet();
            } while (writing.get());
            return null;
          });
    }
    invokeAll(tasks);
    assertThat(scans.get()).isGreaterThanOrEqualTo(3);
  }

  /**
   * {@code close()} while operations run: each of them completes or throws {@link
   * io.cairn.persistence.BackendClosedException}, nothing else; an acknowledged write is there
   * after reopening (durable backends).
   */
  @Test
  public void closeDuringOperationsCompletesOrFailsThemWithBackendClosed() throws Exception {
    var b = backend();
    KeyValueStore kv = b.keyValue("tck-closing");
    LogStore log = b.log("tck-closing");
    Set<Long> acknowledgedKeys = ConcurrentHashMap.newKeySet();
    Set<Long> acknowledgedOffsets = ConcurrentHashMap.newKeySet();
    AtomicInteger closedFailures = new AtomicInteger();
    CountDownLatch running = new CountDownLatch(threads());
    List<Callable<Void>> tasks = new ArrayList<>();
    for (int t = 0; t < threads(); t++) {
      int thread = t;
      tasks.add(
          () -> {
            running.countDown();
            for (long i = 0; ; i++) {
              long id = thread * 1_000_000L + i;
              try {
                switch ((int) (i % 4)) {
                  case 0 -> {
                    kv.put(longBytes(id), longBytes(id));
                    acknowledgedKeys.add(id);
                  }
                  case 1 -> acknowledgedOffsets.add(log.append(longBytes(id)));
                  case 2 -> kv.get(longBytes(id - 2));
                  default -> {
                    try (CloseableIterator<Entry> it = kv.scan(null, null)) {
                      for (int n = 0; n < 20 && it.hasNext(); n++) {
                        it.next();
                      }
                    }
                  }
                }
              } catch (io.cairn.persistence.BackendClosedException expected) {
                closedFailures.incrementAndGet();
                return null;
              }
            }
          });
    }
    List<Future<Void>> futures = new ArrayList<>();
    for (Callable<Void> c : tasks) {
      futures.add(pool.submit(c));
    }
    assertThat(running.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
    while (acknowledgedKeys.size() < threads() * 5L) {
      Thread.sleep(5);
      for (Future<Void> f : futures) {
        if (f.isDone()) {
          f.get(); // a worker failed before the close: report why
        }
      }
    }
    b.close();
    await(futures); // anything but BackendClosedException fails here
    assertThat(closedFailures.get())
        .as("every worker stopped on BackendClosedException")
        .isEqualTo(threads());
    assertThatThrownBy(() -> kv.put(longBytes(-1), longBytes(-1)))
        .isInstanceOf(io.cairn.persistence.BackendClosedException.class);
    if (!capabilities().contains(io.cairn.persistence.Capability.DURABLE)) {
      return;
    }
    var again = reopen();
    KeyValueStore kv2 = again.keyValue("tck-closing");
    for (long id : acknowledgedKeys) {
      assertThat(kv2.get(longBytes(id)))
          .as("acknowledged put %d after close", id)
          .isEqualTo(longBytes(id));
    }
    LogStore log2 = again.log("tck-closing");
    for (long offset : acknowledgedOffsets) {
      assertThat(log2.read(offset, 1))
          .as("acknowledged append at %d after close", offset)
          .hasSize(1);
    }
  }

  @Test
  public void transactionsAreSerialisedAndLoseNoUpdates() throws Exception {
    int perThread = Math.max(10, operationsPerThread() / 4);
    int workers = Math.max(2, threads() / 2);
    runAll(
        workers,
        t -> {
          for (int i = 0; i < perThread; i++) {
            backend()
                .inTransaction(
                    tx -> {
                      var a = tx.keyValue("tck-tx-a");
                      var b = tx.keyValue("tck-tx-b");
                      long va =
                          a.getEntry(bytes("n"))
                              .map(e -> ByteBuffer.wrap(e.value()).getLong())
                              .orElse(0L);
                      a.put(bytes("n"), longBytes(va + 1));
                      b.put(bytes("n"), longBytes(va + 1));
                      tx.log("tck-tx-log").append(longBytes(va));
                      return null;
                    });
          }
        });
    long total = (long) workers * perThread;
    assertThat(ByteBuffer.wrap(backend().keyValue("tck-tx-a").get(bytes("n"))).getLong())
        .isEqualTo(total);
    assertThat(ByteBuffer.wrap(backend().keyValue("tck-tx-b").get(bytes("n"))).getLong())
        .isEqualTo(total);
    List<LogRecord> log = readAll(backend().log("tck-tx-log"));
    assertThat(log).hasSize((int) total);
    for (int i = 0; i < log.size(); i++) {
      assertThat(ByteBuffer.wrap(log.get(i).payload()).getLong())
          .as("the transaction at offset %d read the value the one before wrote", i)
          .isEqualTo(i);
    }
  }

  @Test
  public void concurrentPutsToDistinctKeysAllLand() throws Exception {
    KeyValueStore kv = backend().keyValue("tck-distinct");
    runAll(
        threads(),
        t -> {
          for (int i = 0; i < operationsPerThread(); i++) {
            assertThat(kv.put(bytes(t + "/" + i), longBytes(i))).isPositive();
          }
        });
    assertThat(kv.approximateCount()).isEqualTo((long) threads() * operationsPerThread());
    for (int t = 0; t < threads(); t++) {
      try (CloseableIterator<Entry> it = kv.scanPrefix(bytes(t + "/"))) {
        int n = 0;
        while (it.hasNext()) {
          it.next();
          n++;
        }
        assertThat(n).isEqualTo(operationsPerThread());
      }
    }
  }

  // ---- helpers ----

  /** Work of one worker thread; {@code t} is its index. */
  @FunctionalInterface
  protected interface Worker {
    void run(int t) throws Exception;
  }

  /** Starts {@code n} workers together and waits for all; rethrows the first failure. */
  protected void runAll(int n, Worker worker) throws Exception {
    CountDownLatch start = new CountDownLatch(1);
    List<Callable<Void>> tasks = new ArrayList<>();
    for (int t = 0; t < n; t++) {
      int index = t;
      tasks.add(
          () -> {
            start.await();
            worker.run(index);
            return null;
          });
    }
    List<Future<Void>> futures = new ArrayList<>();
    for (Callable<Void> c : tasks) {
      futures.add(pool.submit(c));
    }
    start.countDown();
    await(futures);
  }

  private void invokeAll(List<Callable<Void>> tasks) throws Exception {
    List<Future<Void>> futures = new ArrayList<>();
    for (Callable<Void> c : tasks) {
      futures.add(pool.submit(c));
    }
    await(futures);
  }

  private static void await(List<Future<Void>> futures) throws Exception {
    try {
      for (Future<Void> f : futures) {
        f.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      }
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof Exception ex) {
        throw ex;
      }
      if (cause instanceof Error err) {
        throw err;
      }
      throw e;
    }
  }

  private static List<LogRecord> readAll(LogStore log) {
    List<LogRecord> out = new ArrayList<>();
    long next = log.firstOffset();
    while (true) {
      List<LogRecord> page = log.read(next, 500);
      if (page.isEmpty()) {
        return out;
      }
      out.addAll(page);
      next = page.get(page.size() - 1).offset() + 1;
    }
  }

  private static byte[] key(long i) {
    return longBytes(i * 7919 % 1_000_003);
  }

  /** Big-endian bytes of {@code v}. */
  protected static byte[] longBytes(long v) {
    return ByteBuffer.allocate(8).putLong(v).array();
  }
}
