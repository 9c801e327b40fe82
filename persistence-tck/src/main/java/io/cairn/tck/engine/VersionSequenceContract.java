package io.cairn.tck.engine;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.Durability;
import io.cairn.persistence.Entry;
import io.cairn.persistence.Importer;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.Progress;
import io.cairn.persistence.ReadOnlyBackendException;
import io.cairn.persistence.StorageBackend;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backend-wide version sequence that {@link EngineBackend} keeps for every engine, run over
 * your {@link StorageEngine}: a backend built on the base extends this class with one method,
 * {@link #openEngine}. The engine needs nothing new (the bound is an ordinary record in the base's
 * reserved store {@code _cairn}, key {@code next-version}); this checks that puts write without
 * reading, that a key's versions strictly increase across puts of every kind, a reopen (also one
 * without a clean close, as after a crash: a second base over the same engine), an import and data
 * written before the sequence existed, that a compare-and-set with a version read before a reopen
 * succeeds or conflicts as it should, and what stale expiry index records (left by blind puts) do
 * to purge and verify.
 */
public abstract class VersionSequenceContract {
  private static final String NS = "ns";

  /** A fresh directory per test for engines that keep files. */
  @TempDir protected Path dir;

  private final ManualClock clock = new ManualClock();

  /** Subclasses are instantiated by JUnit. */
  protected VersionSequenceContract() {}

  /**
   * A new, empty engine over {@code context.dataDir()} (your provider's engine, without {@link
   * EngineBackend#open}); it must honour {@link Durability#NONE}.
   *
   * @param context name, data directory and durability {@code none}
   * @return the engine; the test closes it
   */
  protected abstract StorageEngine openEngine(BackendContext context);

  // ---- the tests ----

  @Test
  void putsOfEveryKindReadNothing() {
    Probe probe = new Probe(openEngine(context()));
    StorageBackend backend = open(probe, false);
    try {
      KeyValueStore kv = backend.keyValue(NS);
      kv.put(b("k"), b("1"), Duration.ofSeconds(1)); // the first put may reserve a block
      probe.gets.set(0);
      probe.ranges.set(0);
      kv.put(b("k"), b("2"));
      kv.put(b("k"), b("3"), Duration.ofHours(1));
      kv.putAll(List.of(new KeyValue(b("k"), b("4")), new KeyValue(b("other"), b("4"))));
      backend.inTransaction(tx -> tx.keyValue(NS).put(b("k"), b("5")));
      assertThat(probe.gets.get()).as("engine point reads by puts").isZero();
      assertThat(probe.ranges.get()).as("engine ranges by puts").isZero();
      assertThat(kv.get(b("k"))).isEqualTo(b("5"));
    } finally {
      backend.close();
      probe.engine.close();
    }
  }

  @Test
  void versionsOfAKeyIncreaseAcrossPutsAReopenAfterACrashAndAnImport() {
    Probe probe = new Probe(openEngine(context()));
    List<Long> seen = new ArrayList<>();
    Map<String, Long> last = new HashMap<>();
    StorageBackend first = open(probe, false);
    KeyValueStore kv = first.keyValue(NS);
    seen.add(kv.put(b("k"), b("1")));
    seen.add(kv.put(b("k"), b("2"), Duration.ofHours(1)));
    kv.putAll(List.of(new KeyValue(b("k"), b("3a")), new KeyValue(b("k"), b("3"))));
    seen.add(kv.getEntry(b("k")).orElseThrow().version());
    seen.add(first.inTransaction(tx -> tx.keyValue(NS).put(b("k"), b("4"))));
    seen.add(kv.compareAndSet(b("k"), seen.get(seen.size() - 1), b("5"), null));
    // more versions than one reserved block, in batches: the bound moves while writing
    for (int batch = 0; batch < 70; batch++) {
      List<KeyValue> page = new ArrayList<>();
      for (int i = 0; i < 1000; i++) {
        page.add(new KeyValue(b("bulk-" + i), b(batch + "/" + i)));
      }
      kv.putAll(page);
    }
    for (int i = 0; i < 1000; i += 97) {
      last.put("bulk-" + i, kv.getEntry(b("bulk-" + i)).orElseThrow().version());
    }
    long beforeCrash = kv.getEntry(b("k")).orElseThrow().version();
    assertThat(seen).as("versions of k").isSortedAccordingTo(Long::compare).doesNotHaveDuplicates();

    // a crash: the first backend is never closed; a second one opens over what the engine holds
    StorageBackend second = open(probe, false);
    try {
      KeyValueStore again = second.keyValue(NS);
      assertThatThrownBy(() -> again.compareAndSet(b("k"), seen.get(0), b("x"), null))
          .as("a compare-and-set with an older version read before the crash")
          .isInstanceOf(VersionConflictException.class);
      long after = again.compareAndSet(b("k"), beforeCrash, b("6"), null);
      assertThat(after)
          .as("compare-and-set with the version read before the crash")
          .isGreaterThan(beforeCrash);
      assertThatThrownBy(() -> again.compareAndSet(b("k"), beforeCrash, b("7"), null))
          .isInstanceOf(VersionConflictException.class);
      for (Map.Entry<String, Long> e : last.entrySet()) {
        assertThat(again.put(b(e.getKey()), b("after")))
            .as("%s after the crash", e.getKey())
            .isGreaterThan(e.getValue());
      }
      assertThat(again.put(b("k"), b("8"))).isGreaterThan(after);

      // an import into another namespace, far above the sequence, then another crash
      try (Importer.Session s = second.extension(Importer.class).orElseThrow().begin()) {
        s.putEntries("imported", List.of(new Entry(b("k"), b("i"), 9_000_000_000L, 0)));
        s.finish();
      }
      StorageBackend third = open(probe, false);
      try {
        assertThat(third.keyValue("imported").put(b("k"), b("after import")))
            .as("a put after an import and a crash")
            .isGreaterThan(9_000_000_000L);
        assertThat(third.verify(Progress.NONE).problems()).isEmpty();
      } finally {
        third.close();
      }
    } finally {
      second.close();
      first.close();
      probe.engine.close();
    }
  }

  @Test
  void importedVersionsLeaveRoomForLaterOnes() {
    Probe probe = new Probe(openEngine(context()));
    StorageBackend backend = open(probe, false);
    try {
      long ceiling = Long.MAX_VALUE / 2;
      try (Importer.Session s = backend.extension(Importer.class).orElseThrow().begin()) {
        assertThatThrownBy(
                () -> s.putEntries("high", List.of(new Entry(b("k"), b("v"), ceiling + 1, 0))))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("kv:high", String.valueOf(ceiling + 1), "nothing of this call");
        s.putEntries("high", List.of(new Entry(b("k"), b("v"), ceiling, 0)));
        s.finish();
      }
      KeyValueStore kv = backend.keyValue("high");
      long after = kv.put(b("k"), b("w"));
      assertThat(after).isGreaterThan(ceiling);
      assertThat(kv.put(b("k"), b("x"))).isGreaterThan(after);
    } finally {
      backend.close();
      probe.engine.close();
    }
  }

  @Test
  void dataWrittenBeforeTheSequenceIsScannedOnceForItsHighestVersion() {
    Probe probe = new Probe(openEngine(context()));
    probe.dropBound = true; // as a base before the sequence: no bound is ever stored
    StorageBackend old = open(probe, false);
    Map<String, Long> versions = new HashMap<>();
    try {
      KeyValueStore kv = old.keyValue(NS);
      for (int i = 0; i < 600; i++) {
        kv.put(b("k" + i), b("v"));
      }
      old.keyValue("other").put(b("x"), b("y"));
      for (int i = 0; i < 600; i += 50) {
        versions.put("k" + i, kv.getEntry(b("k" + i)).orElseThrow().version());
      }
      versions.put("x", old.keyValue("other").getEntry(b("x")).orElseThrow().version());
    } finally {
      old.close();
    }
    assertThat(probe.engine.get(META, BOUND)).as("no bound stored").isNull();

    probe.dropBound = false;
    StorageBackend backend = open(probe, false);
    try {
      assertThat(probe.engine.get(META, BOUND)).as("the bound, written at open").isNotNull();
      for (Map.Entry<String, Long> e : versions.entrySet()) {
        String ns = e.getKey().equals("x") ? "other" : NS;
        assertThat(backend.keyValue(ns).put(b(e.getKey()), b("new")))
            .as(e.getKey())
            .isGreaterThan(e.getValue());
      }
    } finally {
      backend.close();
      probe.engine.close();
    }
  }

  @Test
  void staleIndexRecordsOfBlindPutsArePurgedAndVerifyStaysClean() {
    Probe probe = new Probe(openEngine(context()));
    StorageBackend backend = open(probe, false);
    try {
      KeyValueStore kv = backend.keyValue(NS);
      kv.put(b("k"), b("1"), Duration.ofSeconds(1));
      kv.put(b("k"), b("2"), Duration.ofSeconds(5));
      kv.put(b("k"), b("3"), Duration.ofHours(1));
      kv.put(b("gone"), b("1"), Duration.ofSeconds(1));
      kv.put(b("gone"), b("2"), Duration.ofSeconds(5));
      kv.delete(b("gone"));
      kv.put(b("plain"), b("1"), Duration.ofSeconds(1));
      kv.putAll(List.of(new KeyValue(b("plain"), b("2"))));
      assertThat(indexRecords(probe.engine))
          .as("k: 1s and 5s stale + 1h; gone: 1s stale; plain: 1s stale")
          .isEqualTo(5);
      assertThat(backend.verify(Progress.NONE).problems()).as("stale is not damage").isEmpty();

      clock.advance(Duration.ofSeconds(10));
      assertThat(kv.purgeExpired()).as("stale records are no expired entries").isZero();
      assertThat(kv.get(b("k"))).isEqualTo(b("3"));
      assertThat(kv.get(b("plain"))).isEqualTo(b("2"));
      assertThat(indexRecords(probe.engine)).as("only k's own record left").isEqualTo(1);
      assertThat(backend.verify(Progress.NONE).problems()).isEmpty();

      clock.advance(Duration.ofHours(2));
      assertThat(kv.purgeExpired()).isEqualTo(1);
      assertThat(indexRecords(probe.engine)).isZero();
    } finally {
      backend.close();
      probe.engine.close();
    }
  }

  @Test
  void anEntryWithATtlAndNoIndexRecordIsStillReported() {
    Probe probe = new Probe(openEngine(context()));
    StorageBackend backend = open(probe, false);
    try {
      KeyValueStore kv = backend.keyValue(NS);
      kv.put(b("k"), b("1"), Duration.ofSeconds(1));
      kv.put(b("k"), b("2"), Duration.ofHours(1)); // the 1s record stays, stale
      long hour = kv.getEntry(b("k")).orElseThrow().expiresAtMillis();
      probe.engine.write(
          List.of(new StorageEngine.Write(INDEX, indexKey(hour, b("k")), null)), Durability.NONE);
      assertThat(backend.verify(Progress.NONE).problems())
          .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
          .contains("'ns'", "0x6b", "no expiry index record");
      kv.put(b("k"), b("3"), Duration.ofHours(1)); // a put indexes it again
      assertThat(backend.verify(Progress.NONE).problems()).isEmpty();
    } finally {
      backend.close();
      probe.engine.close();
    }
  }

  @Test
  void aReadOnlyBaseWritesNoBoundAndHandsOutNoVersion() {
    Probe probe = new Probe(openEngine(context()));
    probe.dropBound = true;
    StorageBackend old = open(probe, false);
    try {
      old.keyValue(NS).put(b("k"), b("1"));
    } finally {
      old.close();
    }
    probe.dropBound = false;
    probe.writes.set(0);
    StorageBackend readOnly = open(probe, true);
    try {
      KeyValueStore kv = readOnly.keyValue(NS);
      assertThat(kv.get(b("k"))).isEqualTo(b("1"));
      assertThatThrownBy(() -> kv.put(b("k"), b("2")))
          .isInstanceOf(ReadOnlyBackendException.class)
          .hasMessageContaining("read-only");
      assertThatThrownBy(() -> kv.putAll(List.of(new KeyValue(b("n"), b("2")))))
          .isInstanceOf(ReadOnlyBackendException.class);
      assertThat(probe.writes.get()).as("engine writes by a read-only base").isZero();
      assertThat(probe.engine.get(META, BOUND)).isNull();
      assertThat(kv.get(b("k"))).isEqualTo(b("1"));
    } finally {
      readOnly.close();
      probe.engine.close();
    }
  }

  // ---- helpers ----

  private static final StoreId META = new StoreId(StoreKind.KEY_VALUE, "_cairn");
  private static final byte[] BOUND = "next-version".getBytes(UTF_8);
  private static final StoreId INDEX = new StoreId(StoreKind.KEY_VALUE, "_expiry." + NS);

  private BackendContext context() {
    return BackendContext.builder("versions", "version-test")
        .dataDir(dir)
        .durability(Durability.NONE)
        .clock(clock)
        .build();
  }

  /** A base over {@code probe}; closing it leaves the engine open (the test closes it). */
  private StorageBackend open(Probe probe, boolean readOnly) {
    return EngineBackend.open(
        context(),
        "version-test",
        probe,
        EngineBackend.Options.builder(Durability.NONE).readOnly(readOnly).build());
  }

  private static byte[] indexKey(long expiresAt, byte[] key) {
    return ByteBuffer.allocate(8 + key.length).putLong(expiresAt).put(key).array();
  }

  private static long indexRecords(StorageEngine engine) {
    return engine.range(INDEX, new byte[0], null, 100_000).size();
  }

  private static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  /**
   * The engine as the base sees it: counts reads and writes, can drop the bound (as a base before
   * the sequence wrote), and stays open when a base over it closes, so that several bases open it
   * one after the other (or, never closed, as after a crash).
   */
  private static final class Probe extends ForwardingEngine {
    final AtomicLong gets = new AtomicLong();
    final AtomicLong ranges = new AtomicLong();
    final AtomicLong writes = new AtomicLong();
    volatile boolean dropBound;

    Probe(StorageEngine engine) {
      super(engine);
    }

    @Override
    public byte[] get(StoreId store, byte[] key) {
      gets.incrementAndGet();
      return engine.get(store, key);
    }

    @Override
    public List<Record> range(StoreId store, byte[] from, byte[] to, int limit) {
      ranges.incrementAndGet();
      return engine.range(store, from, to, limit);
    }

    @Override
    public void write(List<Write> batch, Durability durability) {
      writes.incrementAndGet();
      List<Write> kept = new ArrayList<>(batch.size());
      for (Write w : batch) {
        if (!(dropBound && w.store().equals(META) && java.util.Arrays.equals(w.key(), BOUND))) {
          kept.add(w);
        }
      }
      if (!kept.isEmpty()) {
        engine.write(kept, durability);
      }
    }

    @Override
    public void close() {
      // the test closes the engine itself, after every base over it
    }
  }
}
