package io.cairn.backend.rocksdb;

import static io.cairn.backend.rocksdb.Rocks.b;
import static io.cairn.backend.rocksdb.Rocks.s;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.MetricRegistry;
import io.cairn.persistence.BackendClosedException;
import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Durability;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.SnapshotStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.VersionConflictException;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Focused behaviour of the RocksDB stores, transactions and restart. */
class RocksDbStoresTest {
  @TempDir Path dir;

  @Test
  void keyValueVersionsCasDeleteAndUnsignedScanOrder() {
    try (StorageBackend be = Rocks.open(dir)) {
      KeyValueStore kv = be.keyValue("users");
      assertThat(kv.get(b("a"))).isNull();
      long v1 = kv.put(b("a"), b("1"));
      assertThat(v1).isPositive();
      long v2 = kv.put(b("a"), b("2"));
      assertThat(v2).isGreaterThan(v1);
      assertThat(kv.getEntry(b("a")).orElseThrow().version()).isEqualTo(v2);
      long v3 = kv.compareAndSet(b("a"), v2, b("3"), null);
      assertThat(v3).isGreaterThan(v2);
      assertThatThrownBy(() -> kv.compareAndSet(b("a"), v2, b("x"), null))
          .isInstanceOf(VersionConflictException.class)
          .hasMessageContaining("key-value namespace 'users'");
      assertThat(s(kv.get(b("a")))).isEqualTo("3");
      assertThat(kv.compareAndSet(b("new"), 0, b("n"), null)).isGreaterThan(v3);
      assertThatThrownBy(() -> kv.compareAndDelete(b("a"), v1))
          .isInstanceOf(VersionConflictException.class);
      kv.compareAndDelete(b("a"), v3);
      assertThat(kv.get(b("a"))).isNull();
      assertThat(kv.delete(b("a"))).isFalse();
      // Versions come from one backend-wide sequence: a re-created key is still above the old one.
      assertThat(kv.put(b("a"), b("again"))).isGreaterThan(v3);

      kv.putAll(
          List.of(
              new KeyValue(new byte[] {(byte) 0xF0}, b("hi")),
              new KeyValue(new byte[] {0x01}, b("lo")),
              new KeyValue(new byte[] {0x01}, b("lo2"))));
      assertThat(s(kv.get(new byte[] {0x01}))).isEqualTo("lo2");
      List<byte[]> keys = new ArrayList<>();
      try (CloseableIterator<Entry> it = kv.scan(null, null)) {
        it.forEachRemaining(e -> keys.add(e.key()));
      }
      assertThat(keys)
          .containsExactly(new byte[] {0x01}, b("a"), b("new"), new byte[] {(byte) 0xF0});
      // Namespaces are separate.
      assertThat(be.keyValue("other").get(b("a"))).isNull();
      assertThat(kv.approximateCount()).isEqualTo(4);
      assertThat(be.stores())
          .contains(new StoreId(StoreKind.KEY_VALUE, "users"))
          .doesNotContain(new StoreId(StoreKind.KEY_VALUE, "other"));
    }
  }

  @Test
  void scanBoundsAndPrefix() {
    try (StorageBackend be = Rocks.open(dir)) {
      KeyValueStore kv = be.keyValue("k");
      for (int i = 0; i < 300; i++) {
        kv.put(b(String.format("k%03d", i)), b("v" + i));
      }
      kv.put(b("z"), b("z"));
      List<String> got = new ArrayList<>();
      try (CloseableIterator<Entry> it = kv.scan(b("k100"), b("k200"))) {
        it.forEachRemaining(e -> got.add(s(e.key())));
      }
      assertThat(got).hasSize(100).startsWith("k100").endsWith("k199");
      int[] n = {0};
      try (CloseableIterator<Entry> it = kv.scanPrefix(b("k"))) {
        it.forEachRemaining(e -> n[0]++);
      }
      assertThat(n[0]).isEqualTo(300);
      try (CloseableIterator<Entry> it = kv.scan(b("b"), b("a"))) {
        assertThat(it.hasNext()).isFalse();
      }
    }
  }

  @Test
  void concurrentCompareAndSetNeverLosesAnIncrement() throws Exception {
    try (StorageBackend be = Rocks.open(dir)) {
      KeyValueStore kv = be.keyValue("counter");
      int threads = 8;
      int perThread = 150;
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        futures.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < perThread; i++) {
                    while (true) {
                      var e = kv.getEntry(b("c"));
                      long version = e.map(Entry::version).orElse(0L);
                      long value = e.map(x -> Long.parseLong(s(x.value()))).orElse(0L);
                      try {
                        kv.compareAndSet(b("c"), version, b(Long.toString(value + 1)), null);
                        break;
                      } catch (VersionConflictException retry) {
                        // re-read and retry
                      }
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> f : futures) {
        f.get();
      }
      pool.shutdown();
      Entry e = kv.getEntry(b("c")).orElseThrow();
      assertThat(s(e.value())).isEqualTo(Integer.toString(threads * perThread));
      assertThat(e.version()).isPositive();
    }
  }

  @Test
  void ttlIsInvisibleAtOnceAndSweptThroughTheExpiryIndex() {
    Rocks.ManualClock clock = new Rocks.ManualClock(1_000_000);
    try (StorageBackend be =
        Rocks.open(dir, Durability.NORMAL, "sweeper-interval = 0s", new MetricRegistry(), clock)) {
      KeyValueStore kv = be.keyValue("ttl");
      long v1 = kv.put(b("a"), b("1"), Duration.ofSeconds(10));
      long v2 = kv.put(b("a"), b("2"), Duration.ofSeconds(10));
      assertThat(v2).isGreaterThan(v1);
      kv.put(b("keep"), b("k"));
      kv.put(b("b"), b("1"), Duration.ofSeconds(5));
      kv.put(b("b"), b("forever")); // a write without TTL clears the TTL
      assertThat(kv.getEntry(b("a")).orElseThrow().expiresAtMillis()).isEqualTo(1_010_000);
      clock.advance(Duration.ofSeconds(10));
      assertThat(kv.get(b("a"))).isNull();
      assertThat(s(kv.get(b("b")))).isEqualTo("forever");
      try (CloseableIterator<Entry> it = kv.scan(null, null)) {
        List<String> keys = new ArrayList<>();
        it.forEachRemaining(e -> keys.add(s(e.key())));
        assertThat(keys).containsExactly("b", "keep");
      }
      assertThatThrownBy(() -> kv.compareAndSet(b("a"), v2, b("x"), null))
          .isInstanceOf(VersionConflictException.class);
      assertThat(kv.approximateCount()).isEqualTo(2);
      assertThat(kv.purgeExpired()).isEqualTo(1);
      assertThat(kv.purgeExpired()).isZero();
      assertThat(kv.getEntry(b("a"))).isEmpty();
      assertThat(kv.put(b("a"), b("fresh"))).isGreaterThan(v2);
    }
  }

  @Test
  void backgroundSweeperRemovesExpiredEntries() throws Exception {
    Rocks.ManualClock clock = new Rocks.ManualClock(5_000);
    // sweeper-batch: deprecated since layout 3, still accepted (warned about, no effect)
    try (Rocks.WithEngine w =
        Rocks.withEngine(
            dir,
            Durability.NORMAL,
            "sweeper-interval = 50ms, sweeper-batch = 7",
            new MetricRegistry(),
            clock,
            null)) {
      StorageBackend be = w.backend();
      KeyValueStore kv = be.keyValue("sweep");
      for (int i = 0; i < 50; i++) {
        kv.put(b("k" + i), b("v"), Duration.ofSeconds(1));
      }
      clock.advance(Duration.ofSeconds(2));
      RocksStorageEngine raw = w.engine();
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (System.nanoTime() < deadline && raw.sumProperty("rocksdb.estimate-num-keys") > 5) {
        if (!be.stores().contains(new StoreId(StoreKind.KEY_VALUE, "sweep"))) {
          break;
        }
        Thread.sleep(20);
      }
      assertThat(be.stores()).doesNotContain(new StoreId(StoreKind.KEY_VALUE, "sweep"));
      assertThat(kv.purgeExpired()).isZero();
    }
  }

  @Test
  void logOffsetsSurviveTruncationAndRestart() {
    try (StorageBackend be = Rocks.open(dir)) {
      LogStore log = be.log("events");
      assertThat(log.append(b("a"))).isZero();
      assertThat(log.appendAll(List.of(b("b"), b("c"), b("d")))).isEqualTo(1);
      assertThat(log.appendAll(List.of())).isEqualTo(4);
      assertThat(log.read(0, 10)).extracting(LogRecord::offset).containsExactly(0L, 1L, 2L, 3L);
      assertThat(log.read(2, 1)).extracting(r -> s(r.payload())).containsExactly("c");
      assertThat(log.truncateBefore(2)).isEqualTo(2);
      assertThat(log.firstOffset()).isEqualTo(2);
      assertThat(log.read(0, 10)).extracting(LogRecord::offset).containsExactly(2L, 3L);
    }
    try (StorageBackend be = Rocks.open(dir)) {
      LogStore log = be.log("events");
      assertThat(log.firstOffset()).isEqualTo(2);
      assertThat(log.nextOffset()).isEqualTo(4);
      assertThat(log.truncateBefore(100)).isEqualTo(2); // clamped to next
      assertThat(log.firstOffset()).isEqualTo(4);
    }
    try (StorageBackend be = Rocks.open(dir)) {
      LogStore log = be.log("events");
      assertThat(log.firstOffset()).isEqualTo(4);
      assertThat(log.nextOffset()).isEqualTo(4);
      assertThat(log.append(b("e"))).isEqualTo(4);
      assertThat(be.stores()).contains(new StoreId(StoreKind.LOG, "events"));
    }
  }

  @Test
  void snapshotsAreChunkedChecksummedAndReplacedAtomically() throws Exception {
    byte[] big = new byte[100_000];
    new Random(42).nextBytes(big);
    try (StorageBackend be = Rocks.open(dir, "snapshot-chunk-size = 4KiB")) {
      SnapshotStore snaps = be.snapshots("state");
      var info = snaps.save(7, new ByteArrayInputStream(big));
      assertThat(info.sizeBytes()).isEqualTo(big.length);
      snaps.save(3, b("small"));
      snaps.save(9, new byte[0]);
      assertThat(snaps.list()).extracting(x -> x.version()).containsExactly(3L, 7L, 9L);
      assertThat(snaps.latest().orElseThrow().version()).isEqualTo(9);
      try (InputStream in = snaps.load(7)) {
        assertThat(in.readAllBytes()).isEqualTo(big);
      }
      try (InputStream in = snaps.load(9)) {
        assertThat(in.readAllBytes()).isEmpty();
      }
      snaps.save(7, b("replaced"));
      try (InputStream in = snaps.load(7)) {
        assertThat(s(in.readAllBytes())).isEqualTo("replaced");
      }
      assertThat(snaps.retainLatest(1)).isEqualTo(2);
      assertThat(snaps.list()).extracting(x -> x.version()).containsExactly(9L);
      assertThatThrownBy(() -> snaps.load(3)).isInstanceOf(java.util.NoSuchElementException.class);
      assertThat(be.verify(io.cairn.persistence.Progress.NONE).healthy()).isTrue();
    }
    try (StorageBackend be = Rocks.open(dir)) {
      assertThat(be.snapshots("state").list()).extracting(x -> x.version()).containsExactly(9L);
    }
  }

  @Test
  void aCorruptSnapshotChunkIsDetectedOnLoadAndByVerify() throws Exception {
    try (Rocks.WithEngine w = Rocks.withEngine(dir, "snapshot-chunk-size = 4KiB")) {
      StorageBackend be = w.backend();
      byte[] data = new byte[10_000];
      new Random(7).nextBytes(data);
      be.snapshots("s").save(1, data);
      // Overwrite chunk 1 of the only save behind the store's back: a well-framed chunk ('C',
      // flags 0) of zeros, so only the snapshot's CRC-32C can tell.
      byte[] chunk1 = RocksDbVerifyInvariantsTest.chunkKeys(w.engine(), "s", 1).get(1);
      byte[] zeros = new byte[2 + 4096];
      zeros[0] = 'C';
      w.engine().db.put(w.engine().records(), chunk1, zeros);
      assertThatThrownBy(
              () -> {
                try (InputStream in = be.snapshots("s").load(1)) {
                  in.readAllBytes();
                }
              })
          .isInstanceOf(StoreCorruptedException.class)
          .hasMessageContaining("CRC-32C");
      assertThat(be.verify(io.cairn.persistence.Progress.NONE).problems())
          .singleElement()
          .asString()
          .contains("snapshot 1 of snapshot set 's'");
    }
  }

  @Test
  void transactionsCommitAllOrNothingAndReadTheirOwnWrites() {
    try (StorageBackend be = Rocks.open(dir)) {
      long v0 = be.keyValue("acct").put(b("x"), b("0"));
      long off =
          be.inTransaction(
              tx -> {
                var kv = tx.keyValue("acct");
                long v1 = kv.put(b("x"), b("1"));
                assertThat(v1).isGreaterThan(v0);
                assertThat(kv.getEntry(b("x")).orElseThrow().version()).isEqualTo(v1);
                assertThat(s(kv.getEntry(b("x")).orElseThrow().value())).isEqualTo("1");
                assertThat(kv.put(b("x"), b("2"))).isGreaterThan(v1);
                assertThat(kv.delete(b("x"))).isTrue();
                assertThat(kv.getEntry(b("x"))).isEmpty();
                kv.put(b("y"), b("y"));
                var log = tx.log("journal");
                assertThat(log.append(b("e0"))).isZero();
                assertThat(log.appendAll(List.of(b("e1"), b("e2")))).isEqualTo(1);
                assertThat(log.nextOffset()).isEqualTo(3);
                // Outside readers do not see uncommitted writes.
                assertThat(be.keyValue("acct").get(b("y"))).isNull();
                return 3L;
              });
      assertThat(off).isEqualTo(3);
      assertThat(be.keyValue("acct").get(b("x"))).isNull();
      assertThat(s(be.keyValue("acct").get(b("y")))).isEqualTo("y");
      assertThat(be.log("journal").nextOffset()).isEqualTo(3);

      assertThatThrownBy(
              () ->
                  be.inTransaction(
                      tx -> {
                        tx.keyValue("acct").put(b("z"), b("z"));
                        tx.log("journal").append(b("lost"));
                        throw new IllegalStateException("boom");
                      }))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("boom");
      assertThat(be.keyValue("acct").get(b("z"))).isNull();
      assertThat(be.log("journal").nextOffset()).isEqualTo(3);
      assertThat(be.log("journal").append(b("e3"))).isEqualTo(3);

      assertThatThrownBy(() -> be.inTransaction(tx -> be.inTransaction(tx2 -> 1)))
          .isInstanceOf(IllegalStateException.class);
      Object[] leaked = new Object[1];
      be.inTransaction(tx -> leaked[0] = tx.keyValue("acct"));
      assertThatThrownBy(
              () -> ((io.cairn.persistence.Transaction.KeyValueWriter) leaked[0]).getEntry(b("y")))
          .isInstanceOf(IllegalStateException.class);
    }
  }

  @Test
  void dataSurvivesRestartUnderEveryDurability() {
    for (Durability d : Durability.values()) {
      Path p = dir.resolve(d.configName());
      try (StorageBackend be =
          Rocks.open(p, d, "", new MetricRegistry(), java.time.Clock.systemUTC())) {
        be.keyValue("kv").put(b("k"), b(d.configName()));
        be.log("log").append(b("r"));
      }
      try (StorageBackend be =
          Rocks.open(p, d, "", new MetricRegistry(), java.time.Clock.systemUTC())) {
        assertThat(s(be.keyValue("kv").get(b("k")))).isEqualTo(d.configName());
        long before = be.keyValue("kv").getEntry(b("k")).orElseThrow().version();
        assertThat(before).isPositive();
        // The version sequence resumes above everything on disk after a restart.
        assertThat(be.keyValue("kv").put(b("k"), b(d.configName()))).isGreaterThan(before);
        assertThat(be.log("log").nextOffset()).isEqualTo(1);
        assertThat(be.durability()).isEqualTo(d);
      }
    }
  }

  @Test
  void everyUseAfterCloseIsBackendClosedExceptionIncludingAbandonedIterators() {
    StorageBackend be = Rocks.open(dir);
    KeyValueStore kv = be.keyValue("k");
    for (int i = 0; i < 500; i++) {
      kv.put(b("k" + i), b("v"));
    }
    CloseableIterator<Entry> abandoned = kv.scan(null, null);
    abandoned.next();
    LogStore log = be.log("l");
    SnapshotStore snaps = be.snapshots("s");
    be.close();
    be.close(); // idempotent
    assertThatThrownBy(
            () -> {
              while (abandoned.hasNext()) {
                abandoned.next();
              }
            })
        .isInstanceOf(BackendClosedException.class);
    abandoned.close();
    assertThatThrownBy(() -> kv.get(b("k1"))).isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> kv.put(b("k1"), b("x"))).isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> kv.scan(null, null)).isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> log.append(b("x"))).isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> log.nextOffset()).isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> snaps.list()).isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> be.keyValue("other")).isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> be.inTransaction(tx -> 1)).isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> be.verify(io.cairn.persistence.Progress.NONE))
        .isInstanceOf(BackendClosedException.class);
    assertThat(be.health().isHealthy()).isFalse();
  }

  @Test
  void encryptionHookSealsEveryValuePayloadAndChunkOnDisk() throws Exception {
    // A toy cipher (XOR plus a marker byte) is enough to see that nothing reaches RocksDB unsealed.
    io.cairn.persistence.spi.Encryption xor =
        new io.cairn.persistence.spi.Encryption() {
          @Override
          public byte[] seal(byte[] plaintext, byte[] associatedData) {
            byte[] out = new byte[plaintext.length + 1];
            out[0] = 0x7E;
            for (int i = 0; i < plaintext.length; i++) {
              out[i + 1] = (byte) (plaintext[i] ^ 0x5A);
            }
            return out;
          }

          @Override
          public byte[] open(byte[] sealed, byte[] associatedData) {
            if (sealed.length == 0 || sealed[0] != 0x7E) {
              throw new io.cairn.persistence.PersistenceException("not sealed with this key");
            }
            byte[] out = new byte[sealed.length - 1];
            for (int i = 0; i < out.length; i++) {
              out[i] = (byte) (sealed[i + 1] ^ 0x5A);
            }
            return out;
          }
        };
    try (Rocks.WithEngine w =
        Rocks.withEngine(
            dir, Durability.NORMAL, "", new MetricRegistry(), Clock.systemUTC(), xor)) {
      StorageBackend be = w.backend();
      be.keyValue("k").put(b("key"), b("secret-value"));
      be.log("l").append(b("secret-record"));
      be.snapshots("s").save(1, b("secret-snapshot"));
      assertThat(s(be.keyValue("k").get(b("key")))).isEqualTo("secret-value");
      assertThat(s(be.log("l").read(0, 1).get(0).payload())).isEqualTo("secret-record");
      try (InputStream in = be.snapshots("s").load(1)) {
        assertThat(s(in.readAllBytes())).isEqualTo("secret-snapshot");
      }
      List<byte[]> stored = w.userValues();
      assertThat(stored).hasSize(3);
      for (byte[] v : stored) {
        assertThat(new String(v, java.nio.charset.StandardCharsets.ISO_8859_1))
            .doesNotContain("secret");
      }
    }
  }
}
