package io.cairn.tck.engine;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.Durability;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StorageEngineException;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.VersionConflictException;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.EngineBackend;
import io.cairn.persistence.spi.StorageEngine;
import io.cairn.tck.ManualClock;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The expiry index that {@link EngineBackend} keeps for every engine, run over your {@link
 * StorageEngine}: a backend built on the base extends this class with one method, {@link
 * #openEngine}. The engine needs nothing new (the index is ordinary records in stores the base
 * reserves, written in the entries' own batches); this checks that your engine's batches, ranges
 * and store listing carry it.
 *
 * <p>Each test wraps the engine in a probe that counts reads, can pause inside writes, drop the
 * base's own records (to make data as a base older than the index wrote it) or fail a write (a
 * crash in the middle of building the index). It reads the base's documented layout: stores whose
 * names start with {@code _expiry.} hold one record per entry with a TTL, and {@code _cairn} holds
 * the marker {@code expiry-index}.
 */
public abstract class ExpiryIndexContract {
  private static final String NS = "ns";

  /** A fresh directory per test for engines that keep files. */
  @TempDir protected Path dir;

  private final ManualClock clock = new ManualClock();

  /** Subclasses are instantiated by JUnit. */
  protected ExpiryIndexContract() {}

  /**
   * A new, empty engine over {@code context.dataDir()} (your provider's engine, without {@link
   * EngineBackend#open}); it must honour {@link Durability#NONE}.
   *
   * @param context name, data directory and durability {@code none}
   * @return the engine; the test's backend closes it
   */
  protected abstract StorageEngine openEngine(BackendContext context);

  // ---- the tests ----

  @Test
  void purgeDeletesExactlyTheExpiredAndReadsOnlyThem() {
    Probe probe = new Probe(openEngine(context()));
    StorageBackend backend = open(probe);
    try {
      KeyValueStore kv = backend.keyValue(NS);
      List<KeyValue> live = new ArrayList<>();
      for (int i = 0; i < 3000; i++) {
        live.add(new KeyValue(key("live", i), value(i)));
      }
      kv.putAll(live);
      for (int i = 0; i < 500; i++) {
        kv.put(key("later", i), value(i), Duration.ofHours(1));
      }
      int expired = 37;
      for (int i = 0; i < expired; i++) {
        kv.put(key("soon", i), value(i), Duration.ofSeconds(1));
      }
      assertThat(indexRecords(probe.engine)).isEqualTo(500 + expired);
      clock.advance(Duration.ofSeconds(2));

      probe.reset();
      assertThat(kv.purgeExpired()).isEqualTo(expired);
      // the index page(s) of the expired, one point read per expired entry; never the 3500 others
      assertThat(probe.reads())
          .as("records read by purgeExpired (ranges + gets) for %d expired of 3537", expired)
          .isLessThanOrEqualTo(3L * expired + 4);

      for (int i = 0; i < expired; i++) {
        assertThat(probe.engine.get(new StoreId(StoreKind.KEY_VALUE, NS), key("soon", i))).isNull();
      }
      assertThat(kv.approximateCount()).isEqualTo(3500);
      assertThat(indexRecords(probe.engine)).isEqualTo(500);
      probe.reset();
      assertThat(kv.purgeExpired()).isZero();
      assertThat(probe.reads()).isLessThanOrEqualTo(1);
      assertThat(backend.verify(Progress.NONE).problems()).isEmpty();
      assertThat(backend.stores()).containsExactly(new StoreId(StoreKind.KEY_VALUE, NS));
    } finally {
      backend.close();
    }
  }

  @Test
  void overwriteWithLaterOrNoTtlIsNeverPurged() {
    Probe probe = new Probe(openEngine(context()));
    StorageBackend backend = open(probe);
    try {
      KeyValueStore kv = backend.keyValue(NS);
      Duration soon = Duration.ofSeconds(1);
      kv.put(b("later"), b("1"), soon);
      kv.put(b("later"), b("2"), Duration.ofHours(1));
      kv.put(b("none"), b("1"), soon);
      kv.put(b("none"), b("2"));
      long v = kv.put(b("cas"), b("1"), soon);
      kv.compareAndSet(b("cas"), v, b("2"), null);
      kv.put(b("all"), b("1"), soon);
      kv.putAll(List.of(new KeyValue(b("all"), b("2"))));
      kv.put(b("tx"), b("1"), soon);
      backend.inTransaction(tx -> tx.keyValue(NS).put(b("tx"), b("2")));
      kv.put(b("gone"), b("1"), soon);
      kv.delete(b("gone"));
      long g = kv.put(b("cad"), b("1"), soon);
      kv.compareAndDelete(b("cad"), g);
      kv.put(b("txdel"), b("1"), soon);
      backend.inTransaction(tx -> tx.keyValue(NS).delete(b("txdel")));
      assertThat(liveIndexRecords(probe.engine)).as("only 'later' keeps a TTL").isEqualTo(1);
      // puts write blindly: the +1s records of later, none, all and tx stay behind (stale); the
      // writes that read the entry (compare-and-set, deletes) removed theirs
      assertThat(indexRecords(probe.engine)).as("stale records of blind puts").isEqualTo(5);
      assertThat(backend.verify(Progress.NONE).problems()).as("stale is not damage").isEmpty();

      clock.advance(Duration.ofSeconds(2));
      assertThat(kv.purgeExpired()).isZero();
      for (String k : List.of("later", "none", "cas", "all", "tx")) {
        assertThat(kv.get(b(k))).as(k).contains(b("2"));
      }
      assertThat(indexRecords(probe.engine)).as("the stale records purged").isEqualTo(1);
      assertThat(backend.verify(Progress.NONE).problems()).isEmpty();

      // an expired entry overwritten without a TTL: its old record is stale until the next purge
      kv.put(b("stale"), b("1"), soon);
      clock.advance(Duration.ofSeconds(2));
      kv.put(b("stale"), b("2"));
      assertThat(liveIndexRecords(probe.engine)).isEqualTo(1);
      assertThat(kv.purgeExpired()).isZero();
      assertThat(kv.get(b("stale"))).contains(b("2"));
      assertThat(indexRecords(probe.engine)).isEqualTo(1);

      clock.advance(Duration.ofHours(2));
      assertThat(kv.purgeExpired()).isEqualTo(1);
      assertThat(kv.get(b("later"))).isNull();
      assertThat(indexRecords(probe.engine)).isZero();
      assertThat(backend.verify(Progress.NONE).problems()).isEmpty();
    } finally {
      backend.close();
    }
  }

  /**
   * Writers on their own keys (put with and without TTL, compare-and-set, delete, putAll,
   * transactions) race purgers and a moving clock, with a pause inside every write to widen the
   * windows; each writer knows its keys' last write, so a purge that deleted a live entry, or an
   * index that lost a record, is seen.
   */
  @Test
  void concurrentPutsAndPurgesKeepEntryAndIndexConsistent() throws Exception {
    Probe probe = new Probe(openEngine(context()));
    probe.pauseNanos = 20_000;
    StorageBackend backend = open(probe);
    int writers = 4;
    int keysEach = 8;
    int ops = 500;
    ExecutorService pool = Executors.newFixedThreadPool(writers + 3);
    AtomicBoolean running = new AtomicBoolean(true);
    try {
      KeyValueStore kv = backend.keyValue(NS);
      AtomicLong purged = new AtomicLong();
      List<Future<?>> background = new ArrayList<>();
      for (int p = 0; p < 2; p++) {
        background.add(
            pool.submit(
                () -> {
                  while (running.get()) {
                    purged.addAndGet(kv.purgeExpired());
                    LockSupport.parkNanos(100_000);
                  }
                  return null;
                }));
      }
      background.add(
          pool.submit(
              () -> {
                while (running.get()) {
                  clock.advanceMillis(1);
                  LockSupport.parkNanos(50_000);
                }
                return null;
              }));
      java.util.Queue<String> lost = new java.util.concurrent.ConcurrentLinkedQueue<>();
      List<Future<long[][]>> work = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        int writer = w;
        work.add(pool.submit(() -> writeOwnKeys(backend, kv, writer, keysEach, ops, lost)));
      }
      List<long[][]> finals = new ArrayList<>();
      for (Future<long[][]> f : work) {
        finals.add(f.get(120, TimeUnit.SECONDS));
      }
      running.set(false);
      for (Future<?> f : background) {
        f.get(120, TimeUnit.SECONDS);
      }
      assertThat(lost).as("entries without TTL deleted or changed behind their writer").isEmpty();
      assertThat(purged.get()).as("the purgers removed expired entries meanwhile").isPositive();
      assertThat(backend.verify(Progress.NONE).problems()).isEmpty();
      long now = clock.millis();
      long withTtl = 0;
      for (int w = 0; w < writers; w++) {
        for (int i = 0; i < keysEach; i++) {
          long[] last = finals.get(w)[i]; // {version, expiresAt, deleted}
          var entry = kv.getEntry(key("w" + w, i));
          if (last[2] == 1 || (last[1] != 0 && last[1] <= now)) {
            assertThat(entry).as("w%d key %d", w, i).isEmpty();
          } else {
            assertThat(entry).as("w%d key %d: its last write was live", w, i).isPresent();
            assertThat(entry.get().version()).isEqualTo(last[0]);
            assertThat(entry.get().expiresAtMillis()).isEqualTo(last[1]);
          }
          if (last[2] == 0 && last[1] != 0 && probe.engine.get(store(), key("w" + w, i)) != null) {
            withTtl++;
          }
        }
      }
      assertThat(liveIndexRecords(probe.engine)).isEqualTo(withTtl);
      clock.advance(Duration.ofDays(1));
      kv.purgeExpired();
      assertThat(indexRecords(probe.engine)).isZero();
      assertThat(backend.verify(Progress.NONE).problems()).isEmpty();
    } finally {
      running.set(false);
      pool.shutdownNow();
      assertThat(pool.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
      backend.close();
    }
  }

  /**
   * The last write of each of the writer's keys: {version, expiresAt, deleted}. Before each write
   * it checks that a key whose last write had no TTL still holds it (a purge that deleted it is
   * seen at once, not only if it was the key's last write); adds what it finds to {@code lost}.
   */
  private long[][] writeOwnKeys(
      StorageBackend backend,
      KeyValueStore kv,
      int writer,
      int keys,
      int ops,
      java.util.Collection<String> lost) {
    long[][] last = new long[keys][];
    java.util.Arrays.fill(last, new long[] {0, 0, 1}); // never written: absent
    ThreadLocalRandom random = ThreadLocalRandom.current();
    for (int n = 0; n < ops; n++) {
      int i = random.nextInt(keys);
      byte[] k = key("w" + writer, i);
      if (last[i][2] == 0 && last[i][1] == 0) {
        long version = last[i][0];
        var now = kv.getEntry(k);
        if (now.map(e -> e.version() != version).orElse(true)) {
          lost.add(
              "w"
                  + writer
                  + " key "
                  + i
                  + ": wrote version "
                  + version
                  + " without TTL, now "
                  + now);
        }
      }
      Duration ttl = random.nextBoolean() ? null : Duration.ofMillis(1 + random.nextInt(20));
      switch (random.nextInt(6)) {
        case 0, 1 -> {
          long v = kv.put(k, value(n), ttl);
          last[i] = new long[] {v, kv.getEntry(k).map(e -> e.expiresAtMillis()).orElse(-1L), 0};
        }
        case 2 -> {
          var cur = kv.getEntry(k);
          try {
            long v = kv.compareAndSet(k, cur.map(e -> e.version()).orElse(0L), value(n), ttl);
            last[i] = new long[] {v, kv.getEntry(k).map(e -> e.expiresAtMillis()).orElse(-1L), 0};
          } catch (VersionConflictException expiredMeanwhile) {
            // the entry expired between the read and the write: nothing was written
          }
        }
        case 3 -> {
          kv.delete(k);
          last[i] = new long[] {0, 0, 1};
        }
        case 4 -> {
          kv.putAll(List.of(new KeyValue(k, value(n))));
          var now = kv.getEntry(k);
          if (now.isEmpty()) {
            lost.add("w" + writer + " key " + i + ": putAll without TTL, then absent");
          }
          last[i] = new long[] {now.map(e -> e.version()).orElse(0L), 0, now.isEmpty() ? 1 : 0};
        }
        default -> {
          long v = backend.inTransaction(tx -> tx.keyValue(NS).put(k, value(-1), ttl));
          last[i] = new long[] {v, kv.getEntry(k).map(e -> e.expiresAtMillis()).orElse(-1L), 0};
        }
      }
      if (last[i][1] == -1) { // expired before it could be read back: expired
        last[i] = new long[] {0, 1, 0};
      }
    }
    return last;
  }

  @Test
  void dataWrittenBeforeTheIndexGetsItBuiltAtOpen() {
    StorageEngine engine = openEngine(context());
    int ttl = preIndexData(engine, 600);
    assertThat(indexRecords(engine)).as("the old base wrote no index").isZero();
    assertThat(engine.get(META, MARKER)).isNull();

    Probe probe = new Probe(engine);
    StorageBackend backend = open(probe);
    try {
      assertThat(indexRecords(engine)).isEqualTo(ttl);
      assertThat(engine.get(META, MARKER)).as("the marker, written last").isNotNull();
      assertThat(backend.verify(Progress.NONE).problems()).isEmpty();
      assertThat(backend.stores())
          .containsExactly(
              new StoreId(StoreKind.KEY_VALUE, NS),
              new StoreId(StoreKind.KEY_VALUE, "other"),
              new StoreId(StoreKind.LOG, "log"));
      clock.advance(Duration.ofSeconds(2));
      probe.reset();
      assertThat(backend.keyValue(NS).purgeExpired()).isEqualTo(ttl / 2);
      assertThat(probe.reads()).isLessThanOrEqualTo(3L * ttl / 2 + 4);
      assertThat(backend.keyValue(NS).approximateCount()).isEqualTo(1000 + ttl / 2);
    } finally {
      backend.close();
    }
  }

  @Test
  void aCrashWhileBuildingTheIndexIsRecoveredAtTheNextOpen() {
    StorageEngine engine = openEngine(context());
    int ttl = preIndexData(engine, 600);
    Probe failing = new Probe(engine);
    failing.keepOpen = true;
    failing.failIndexWrite = 2; // the first page of the index is written, the second fails
    assertThatThrownBy(() -> open(failing))
        .isInstanceOf(StorageEngineException.class)
        .hasMessageContaining("simulated crash");
    assertThat(indexRecords(engine)).as("a partial index").isPositive().isLessThan(ttl);
    assertThat(engine.get(META, MARKER)).as("no marker: the build did not finish").isNull();

    StorageBackend backend = open(new Probe(engine));
    try {
      assertThat(indexRecords(engine)).isEqualTo(ttl);
      assertThat(engine.get(META, MARKER)).isNotNull();
      assertThat(backend.verify(Progress.NONE).problems()).isEmpty();
      clock.advance(Duration.ofSeconds(2));
      assertThat(backend.keyValue(NS).purgeExpired()).isEqualTo(ttl / 2);
      assertThat(backend.keyValue(NS).approximateCount()).isEqualTo(1000 + ttl / 2);
    } finally {
      backend.close();
    }
  }

  /**
   * An entry with a TTL and no index record is damage (every write of such an entry writes its
   * record); a record without its entry, or under another expiry, is what a blind put leaves behind
   * (stale), not reported; purge deletes the stale ones and never a live entry.
   */
  @Test
  void verifyReportsAnUnindexedEntryNotStaleRecordsAndPurgeRepairsWithoutDeletingLiveEntries() {
    Probe probe = new Probe(openEngine(context()));
    StorageBackend backend = open(probe);
    StorageEngine engine = probe.engine;
    try {
      KeyValueStore kv = backend.keyValue(NS);
      kv.put(b("a"), b("secret-a"), Duration.ofHours(1));
      kv.put(b("b"), b("secret-b"), Duration.ofSeconds(1));
      kv.put(b("c"), b("secret-c"), Duration.ofSeconds(1));
      StorageEngine.Record oldC = indexRecordOf(engine, "c"); // at +1s
      kv.put(b("c"), b("secret-c2"), Duration.ofHours(1)); // moves c's record to +1h
      // damage: a loses its record; stale: b loses its entry, c gets back its old record
      engine.write(
          List.of(
              new StorageEngine.Write(INDEX, indexRecordOf(engine, "a").key(), null),
              new StorageEngine.Write(store(), b("b"), null),
              new StorageEngine.Write(INDEX, oldC.key(), oldC.value())),
          Durability.NONE);

      List<String> problems = backend.verify(Progress.NONE).problems();
      assertThat(problems)
          .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
          .contains("'ns'", "0x61", "no expiry index record")
          .doesNotContain("secret");

      clock.advance(Duration.ofSeconds(2));
      assertThat(kv.purgeExpired()).as("the two records at +1s disagree: repaired").isZero();
      assertThat(kv.get(b("c"))).contains(b("secret-c2"));
      assertThat(kv.get(b("a"))).contains(b("secret-a"));
      assertThat(backend.verify(Progress.NONE).problems())
          .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
          .contains("0x61", "no expiry index record");
      kv.put(b("a"), b("secret-a2"), Duration.ofHours(1)); // an overwrite indexes it again
      assertThat(backend.verify(Progress.NONE).problems()).isEmpty();
      clock.advance(Duration.ofHours(2));
      assertThat(kv.purgeExpired()).isEqualTo(2);
      assertThat(indexRecords(engine)).isZero();
    } finally {
      backend.close();
    }
  }

  // ---- helpers ----

  private static final StoreId META = new StoreId(StoreKind.KEY_VALUE, "_cairn");
  private static final byte[] MARKER = "expiry-index".getBytes(UTF_8);
  private static final StoreId INDEX = new StoreId(StoreKind.KEY_VALUE, "_expiry." + NS);

  private BackendContext context() {
    return BackendContext.builder("expiry", "expiry-test")
        .dataDir(dir)
        .durability(Durability.NONE)
        .clock(clock)
        .build();
  }

  private StorageBackend open(StorageEngine engine) {
    return EngineBackend.open(
        context(), "expiry-test", engine, EngineBackend.Options.builder(Durability.NONE).build());
  }

  /**
   * Writes, as a base older than the index did (its own records dropped), 1000 entries without a
   * TTL and {@code ttl} with one (half expiring in a second, half in an hour) in {@code ns}, and a
   * few in another namespace; returns {@code ttl} plus the other namespace's (none with a TTL).
   */
  private int preIndexData(StorageEngine engine, int ttl) {
    Probe legacy = new Probe(engine);
    legacy.keepOpen = true;
    legacy.dropReserved = true;
    StorageBackend old = open(legacy);
    try {
      KeyValueStore kv = old.keyValue(NS);
      for (int i = 0; i < 1000; i++) {
        kv.put(key("plain", i), value(i));
      }
      for (int i = 0; i < ttl; i++) {
        kv.put(key("ttl", i), value(i), Duration.ofSeconds(i % 2 == 0 ? 1 : 3600));
      }
      old.keyValue("other").put(b("x"), b("y"));
      old.log("log").append(b("z"));
    } finally {
      old.close();
    }
    return ttl;
  }

  private static StoreId store() {
    return new StoreId(StoreKind.KEY_VALUE, NS);
  }

  /** The one index record of user key {@code key} (expiry instant, then the key). */
  private static StorageEngine.Record indexRecordOf(StorageEngine engine, String key) {
    List<StorageEngine.Record> found = new ArrayList<>();
    for (StorageEngine.Record r : engine.range(INDEX, new byte[0], null, 10_000)) {
      if (new String(r.key(), 8, r.key().length - 8, UTF_8).equals(key)) {
        found.add(r);
      }
    }
    assertThat(found).as("index records of %s", key).hasSize(1);
    return found.get(0);
  }

  /**
   * Index records of {@code engine} whose entry exists and expires at the record's instant (not
   * stale), read directly through the documented layout: an entry's frame is tag and flags (2
   * bytes), then version and expiry (8 bytes each, big-endian).
   */
  private static long liveIndexRecords(StorageEngine engine) {
    long n = 0;
    for (StorageEngine.Record r : engine.range(INDEX, new byte[0], null, 100_000)) {
      byte[] entry = engine.get(store(), java.util.Arrays.copyOfRange(r.key(), 8, r.key().length));
      if (entry != null
          && ByteBuffer.wrap(entry, 10, 8).getLong() == ByteBuffer.wrap(r.key(), 0, 8).getLong()) {
        n++;
      }
    }
    return n;
  }

  /** Records in every index store of {@code engine}, read directly. */
  private static long indexRecords(StorageEngine engine) {
    long n = 0;
    for (StoreId id : engine.stores()) {
      if (id.name().startsWith("_expiry.")) {
        byte[] from = new byte[0];
        while (true) {
          List<StorageEngine.Record> page = engine.range(id, from, null, 1000);
          n += page.size();
          if (page.size() < 1000) {
            break;
          }
          byte[] last = page.get(page.size() - 1).key();
          from = java.util.Arrays.copyOf(last, last.length + 1);
        }
      }
    }
    return n;
  }

  private static byte[] key(String prefix, int i) {
    return (prefix + "-" + String.format("%06d", i)).getBytes(UTF_8);
  }

  private static byte[] value(int i) {
    return ByteBuffer.allocate(12).putInt(i).putLong(i * 31L).array();
  }

  private static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  /**
   * The engine as the base sees it, with hooks: counts point reads and records returned by ranges,
   * pauses in writes, drops the base's own records (as a base before the index wrote), fails the
   * n-th write that touches an index store, and may leave the engine open on close (to open it
   * again in the same test).
   */
  private static final class Probe extends ForwardingEngine {
    final AtomicLong gets = new AtomicLong();
    final AtomicLong ranged = new AtomicLong();
    final AtomicInteger indexWrites = new AtomicInteger();
    volatile long pauseNanos;
    volatile boolean keepOpen;
    volatile boolean dropReserved;
    volatile int failIndexWrite;

    Probe(StorageEngine engine) {
      super(engine);
    }

    void reset() {
      gets.set(0);
      ranged.set(0);
    }

    /** Records read since {@link #reset}: one per get, one per record a range returned (min 1). */
    long reads() {
      return gets.get() + ranged.get();
    }

    @Override
    public byte[] get(StoreId store, byte[] key) {
      gets.incrementAndGet();
      return engine.get(store, key);
    }

    @Override
    public List<Record> range(StoreId store, byte[] from, byte[] to, int limit) {
      List<Record> out = engine.range(store, from, to, limit);
      ranged.addAndGet(Math.max(1, out.size()));
      return out;
    }

    @Override
    public void write(List<Write> batch, Durability durability) {
      List<Write> kept = new ArrayList<>(batch.size());
      boolean index = false;
      for (Write w : batch) {
        boolean reserved = w.store().name().startsWith("_");
        index |= w.store().name().startsWith("_expiry.");
        if (!(dropReserved && reserved)) {
          kept.add(w);
        }
      }
      if (index && failIndexWrite > 0 && indexWrites.incrementAndGet() == failIndexWrite) {
        throw new StorageEngineException(
            "simulated crash while writing the expiry index",
            new java.io.IOException("the probe failed this write"));
      }
      if (pauseNanos > 0) {
        LockSupport.parkNanos(pauseNanos);
      }
      if (!kept.isEmpty()) {
        engine.write(kept, durability);
      }
    }

    @Override
    public void close() {
      if (!keepOpen) {
        engine.close();
      }
    }
  }
}
