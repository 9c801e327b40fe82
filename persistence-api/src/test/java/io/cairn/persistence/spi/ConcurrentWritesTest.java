package io.cairn.persistence.spi;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.Durability;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.Transaction;
import io.cairn.persistence.VersionConflictException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link EngineBackend}'s write ordering ({@link WriteOrder}) under contention, for an engine that
 * opts in to concurrent writes and for one that does not. Writers put, compare-and-set and putAll
 * on a few shared keys, append to two logs, and run transactions (some aborted) over the same keys
 * and logs, while readers read the logs. The engine pauses inside every write, so a
 * read-modify-write of the base that is not ordered loses updates or hands out an offset twice; it
 * also checks the base's promise that no two batches in flight write the same key, and counts how
 * many writes were in flight at once (more than one when the engine opts in, never more than one
 * when it does not).
 *
 * <p>Invariants checked at the end: per key, the versions handed out are unique and none above the
 * final version (a key's versions never go back), and no two compare-and-sets succeeded against the
 * same version (no lost update); per log, offsets gap-free, each handed out once and each record
 * readable at its offset with the payload appended there; readers never saw a gap or a record out
 * of place; committed transactions all-or-nothing (their two counters, read and incremented in the
 * values, equal the number committed), aborted ones invisible; {@link StorageBackend#verify} clean.
 * Writes per thread: system property {@code concurrentWritesOps} (default 150).
 */
class ConcurrentWritesTest {
  private static final int THREADS = 8;
  private static final int KEYS = 6;
  private static final int OPS = Integer.getInteger("concurrentWritesOps", 150);
  private static final long TIMEOUT_SECONDS = 120;

  @ParameterizedTest(name = "concurrentWrites={0}")
  @ValueSource(booleans = {false, true})
  void versionsOffsetsAndTransactionsStayExactUnderContention(boolean concurrent) throws Exception {
    PausingEngine engine = new PausingEngine(concurrent);
    StorageBackend backend =
        EngineBackend.open(
            BackendContext.builder("racy", "racy").durability(Durability.NONE).build(),
            "racy",
            engine,
            EngineBackend.Options.builder(Durability.NONE).build());
    Workload w = new Workload(backend);
    ExecutorService pool = Executors.newFixedThreadPool(THREADS + 1);
    try {
      AtomicBoolean writing = new AtomicBoolean(true);
      Future<Integer> reader = pool.submit(() -> w.readLogsWhile(writing));
      List<Future<Void>> writers = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        int thread = t;
        writers.add(pool.submit((Callable<Void>) () -> w.write(thread)));
      }
      for (Future<Void> f : writers) {
        f.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      }
      writing.set(false);
      assertThat(reader.get(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isPositive();
      w.check();
      assertThat(engine.violations).as("the base's promises to the engine").isEmpty();
      if (concurrent) {
        assertThat(engine.maxInFlight.get())
            .as("writes in flight at once (the engine opted in)")
            .isGreaterThan(1);
      } else {
        assertThat(engine.maxInFlight.get())
            .as("writes in flight at once (the engine did not opt in)")
            .isEqualTo(1);
      }
      assertThat(backend.verify(Progress.NONE).problems()).isEmpty();
    } finally {
      pool.shutdownNow();
      assertThat(pool.awaitTermination(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
      backend.close();
    }
  }

  /** The mixed workload and what it was told, to check against what is stored. */
  private static final class Workload {
    final StorageBackend backend;
    final KeyValueStore kv;
    final KeyValueStore kv2;
    final LogStore[] logs;
    final byte[][] keys = new byte[KEYS][];
    // versions each write of a key was told; versions a compare-and-set of the key replaced
    final Map<Integer, Set<Long>> versions = new ConcurrentHashMap<>();
    final Map<Integer, Set<Long>> replacedByCas = new ConcurrentHashMap<>();
    // per log: offset -> payload appended there, as the append was told
    final List<Map<Long, String>> appended =
        List.of(new ConcurrentHashMap<>(), new ConcurrentHashMap<>());
    final AtomicInteger committed = new AtomicInteger();
    final ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();

    Workload(StorageBackend backend) {
      this.backend = backend;
      this.kv = backend.keyValue("kv");
      this.kv2 = backend.keyValue("kv2");
      this.logs = new LogStore[] {backend.log("log0"), backend.log("log1")};
      for (int i = 0; i < KEYS; i++) {
        keys[i] = ("key-" + i).getBytes(StandardCharsets.UTF_8);
        versions.put(i, ConcurrentHashMap.newKeySet());
        replacedByCas.put(i, ConcurrentHashMap.newKeySet());
      }
    }

    Void write(int thread) {
      ThreadLocalRandom rnd = ThreadLocalRandom.current();
      for (int op = 0; op < OPS; op++) {
        int k = rnd.nextInt(KEYS);
        int choice = rnd.nextInt(100);
        if (choice < 30) {
          told(k, kv.put(keys[k], value(thread, op)));
        } else if (choice < 50) {
          long current = kv.getEntry(keys[k]).map(e -> e.version()).orElse(0L);
          try {
            told(k, kv.compareAndSet(keys[k], current, value(thread, op), null));
            if (!replacedByCas.get(k).add(current)) {
              errors.add("two compare-and-sets of key " + k + " replaced version " + current);
            }
          } catch (VersionConflictException lost) {
            // another writer won this version: fine, it was told the version
          }
        } else if (choice < 55) {
          int k2 = (k + 1) % KEYS;
          kv.putAll(
              List.of(
                  new KeyValue(keys[k], value(thread, op)),
                  new KeyValue(keys[k2], value(thread, op))));
        } else if (choice < 85) {
          int log = rnd.nextInt(2);
          if (rnd.nextBoolean()) {
            String p = payload(thread, op, 0);
            appendedAt(log, logs[log].append(bytes(p)), p);
          } else {
            List<String> ps =
                List.of(payload(thread, op, 0), payload(thread, op, 1), payload(thread, op, 2));
            long first = logs[log].appendAll(ps.stream().map(ConcurrentWritesTest::bytes).toList());
            for (int i = 0; i < ps.size(); i++) {
              appendedAt(log, first + i, ps.get(i));
            }
          }
        } else {
          transaction(thread, op, k, choice < 90);
        }
      }
      return null;
    }

    /**
     * Counters a and b (in two namespaces) plus one, a shared key put, a log record; or aborted.
     */
    private void transaction(int thread, int op, int k, boolean abort) {
      String p = payload(thread, op, 9);
      long[] told = new long[2];
      try {
        backend.inTransaction(
            tx -> {
              Transaction.KeyValueWriter a = tx.keyValue("kv");
              Transaction.KeyValueWriter b = tx.keyValue("kv2");
              long ca = a.getEntry(bytes("tx-counter")).map(e -> count(e.value())).orElse(0L);
              long cb = b.getEntry(bytes("tx-counter")).map(e -> count(e.value())).orElse(0L);
              if (ca != cb) {
                errors.add("a transaction read counters " + ca + " and " + cb + " (must be equal)");
              }
              a.put(bytes("tx-counter"), countBytes(ca + 1));
              b.put(bytes("tx-counter"), countBytes(cb + 1));
              told[0] = a.put(keys[k], value(thread, op));
              told[1] = tx.log("log0").append(bytes(p));
              if (abort) {
                throw new Aborted();
              }
              return null;
            });
      } catch (Aborted expected) {
        return; // nothing of it may be visible
      }
      committed.incrementAndGet();
      told(k, told[0]);
      appendedAt(0, told[1], p);
    }

    private void told(int k, long version) {
      if (!versions.get(k).add(version)) {
        errors.add("version " + version + " of key " + k + " was handed out twice (a lost update)");
      }
    }

    private void appendedAt(int log, long offset, String payload) {
      String before = appended.get(log).putIfAbsent(offset, payload);
      if (before != null) {
        errors.add("offset " + offset + " of log " + log + " was handed out twice");
      }
    }

    /**
     * Reads both logs again and again, each time up to 64 records from a random offset below next:
     * gap-free, as many as were below next before the read, every record where it was appended.
     */
    Integer readLogsWhile(AtomicBoolean writing) {
      ThreadLocalRandom rnd = ThreadLocalRandom.current();
      int reads = 0;
      long[] lastNext = new long[2];
      do {
        for (int log = 0; log < 2; log++) {
          long next = logs[log].nextOffset();
          if (next < lastNext[log]) {
            errors.add(
                "next offset of log " + log + " went back from " + lastNext[log] + " to " + next);
          }
          lastNext[log] = next;
          long from = next == 0 ? 0 : rnd.nextLong(next);
          List<LogRecord> records = logs[log].read(from, 64);
          if (records.size() < Math.min(64, next - from)) {
            errors.add(
                "a reader saw "
                    + records.size()
                    + " records of log "
                    + log
                    + " from "
                    + from
                    + " below next "
                    + next);
          }
          for (int i = 0; i < records.size(); i++) {
            LogRecord r = records.get(i);
            String told = appended.get(log).get(r.offset());
            if (r.offset() != from + i) {
              errors.add(
                  "a reader saw offset "
                      + r.offset()
                      + " where "
                      + (from + i)
                      + " belongs, log "
                      + log);
            } else if (told != null && !told.equals(string(r.payload()))) {
              errors.add(
                  "offset "
                      + r.offset()
                      + " of log "
                      + log
                      + " holds another record than appended");
            }
          }
          reads++;
        }
      } while (writing.get());
      return reads;
    }

    void check() {
      assertThat(errors).as("what the threads saw").isEmpty();
      for (int k = 0; k < KEYS; k++) {
        long stored = kv.getEntry(keys[k]).orElseThrow().version();
        Set<Long> seen = versions.get(k);
        assertThat(seen)
            .as("versions handed out for key %d: none above the one stored last", k)
            .isNotEmpty()
            .allMatch(v -> v >= 1 && v <= stored);
      }
      long c = committed.get();
      assertThat(kv.getEntry(bytes("tx-counter")).map(e -> count(e.value())).orElse(0L))
          .as("committed transactions, counter a")
          .isEqualTo(c);
      assertThat(kv2.getEntry(bytes("tx-counter")).map(e -> count(e.value())).orElse(0L))
          .as("committed transactions, counter b")
          .isEqualTo(c);
      for (int log = 0; log < 2; log++) {
        Map<Long, String> told = appended.get(log);
        assertThat(logs[log].firstOffset()).isZero();
        assertThat(logs[log].nextOffset()).as("next offset of log %d", log).isEqualTo(told.size());
        List<LogRecord> records = logs[log].read(0, Integer.MAX_VALUE);
        assertThat(records).hasSize(told.size());
        for (LogRecord r : records) {
          assertThat(string(r.payload()))
              .as("record at offset %d of log %d", r.offset(), log)
              .isEqualTo(told.get(r.offset()));
        }
      }
    }
  }

  private static final class Aborted extends RuntimeException {
    Aborted() {
      super("aborted on purpose", null, false, false);
    }
  }

  private static long count(byte[] value) {
    return java.nio.ByteBuffer.wrap(value).getLong();
  }

  private static byte[] countBytes(long count) {
    return java.nio.ByteBuffer.allocate(8).putLong(count).array();
  }

  private static byte[] value(int thread, int op) {
    return bytes("v" + thread + ":" + op);
  }

  private static String payload(int thread, int op, int i) {
    return thread + ":" + op + ":" + i;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String string(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  /**
   * An engine of skip lists that pauses inside every write (before applying it), so that writes the
   * base does not order overlap; one-record writes run concurrently, larger batches alone (as the
   * memory engine). It records a violation when two batches in flight hold the same key, or when
   * two writes are in flight although it did not opt in.
   */
  private static final class PausingEngine implements StorageEngine {
    final boolean concurrent;
    final Map<StoreId, ConcurrentSkipListMap<byte[], byte[]>> stores = new ConcurrentHashMap<>();
    final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    final Set<String> busy = ConcurrentHashMap.newKeySet();
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger maxInFlight = new AtomicInteger();
    final ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();

    PausingEngine(boolean concurrent) {
      this.concurrent = concurrent;
    }

    @Override
    public boolean concurrentWrites() {
      return concurrent;
    }

    private ConcurrentSkipListMap<byte[], byte[]> map(StoreId id) {
      return stores.computeIfAbsent(id, i -> new ConcurrentSkipListMap<>(Bytes.UNSIGNED));
    }

    @Override
    public byte[] get(StoreId store, byte[] key) {
      lock.readLock().lock();
      try {
        byte[] v = map(store).get(key);
        return v == null ? null : v.clone();
      } finally {
        lock.readLock().unlock();
      }
    }

    @Override
    public List<Record> range(StoreId store, byte[] from, byte[] to, int limit) {
      lock.readLock().lock();
      try {
        List<Record> out = new ArrayList<>();
        for (Map.Entry<byte[], byte[]> e :
            (to == null ? map(store).tailMap(from, true) : map(store).subMap(from, true, to, false))
                .entrySet()) {
          if (out.size() == limit) {
            break;
          }
          out.add(new Record(e.getKey().clone(), e.getValue().clone()));
        }
        return out;
      } finally {
        lock.readLock().unlock();
      }
    }

    @Override
    public void write(List<Write> batch, Durability durability) {
      int now = inFlight.incrementAndGet();
      maxInFlight.accumulateAndGet(now, Math::max);
      if (!concurrent && now > 1) {
        violations.add(now + " writes in flight at once on an engine that did not opt in");
      }
      List<String> held = new ArrayList<>();
      try {
        for (Write w : batch) {
          String k = w.store() + "/" + java.util.Arrays.toString(w.key());
          if (!held.contains(k)) {
            if (!busy.add(k)) {
              violations.add(k + " written by two batches in flight at once");
            } else {
              held.add(k);
            }
          }
        }
        LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(20_000, 100_000));
        var side = batch.size() == 1 ? lock.readLock() : lock.writeLock();
        side.lock();
        try {
          for (Write w : batch) {
            if (w.isDelete()) {
              map(w.store()).remove(w.key());
            } else {
              map(w.store()).put(w.key().clone(), w.value().clone());
            }
          }
        } finally {
          side.unlock();
        }
      } finally {
        busy.removeAll(held);
        inFlight.decrementAndGet();
      }
    }

    @Override
    public SortedSet<StoreId> stores() {
      TreeSet<StoreId> out = new TreeSet<>();
      stores.forEach(
          (id, m) -> {
            if (!m.isEmpty()) {
              out.add(id);
            }
          });
      return out;
    }

    @Override
    public void close() {}
  }
}
