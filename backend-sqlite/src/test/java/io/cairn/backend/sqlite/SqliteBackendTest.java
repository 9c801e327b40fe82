package io.cairn.backend.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.BackendLockedException;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.SnapshotStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.VersionConflictException;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteBackendTest {
  @TempDir Path dir;

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void keyValueVersionsSurviveReopen() {
    long v2;
    try (PersistenceRegistry r = TestBackends.open(dir, "durability = normal")) {
      KeyValueStore kv = r.backend("main").keyValue("users");
      long v1 = kv.put(b("a"), b("1"));
      assertThat(v1).isPositive();
      v2 = kv.put(b("a"), b("2"));
      assertThat(v2).isGreaterThan(v1);
      kv.putAll(List.of(new KeyValue(b("b"), b("x")), new KeyValue(b("c"), b("y"))));
      assertThat(kv.delete(b("c"))).isTrue();
      assertThat(kv.delete(b("c"))).isFalse();
    }
    try (PersistenceRegistry r = TestBackends.open(dir, "durability = normal")) {
      KeyValueStore kv = r.backend("main").keyValue("users");
      Entry a = kv.getEntry(b("a")).orElseThrow();
      assertThat(a.value()).isEqualTo(b("2"));
      assertThat(a.version()).isEqualTo(v2);
      assertThat(kv.put(b("a"), b("3"))).isGreaterThan(v2);
      assertThat(kv.get(b("b"))).isEqualTo(b("x"));
      assertThat(kv.get(b("c"))).isNull();
      assertThat(r.backend("main").stores())
          .containsExactly(new StoreId(StoreKind.KEY_VALUE, "users"));
    }
  }

  @Test
  void compareAndSetAndDelete() {
    try (PersistenceRegistry r = TestBackends.open(dir, "")) {
      KeyValueStore kv = r.backend("main").keyValue("ns");
      long v1 = kv.compareAndSet(b("k"), 0, b("v1"), null);
      assertThat(v1).isPositive();
      assertThatThrownBy(() -> kv.compareAndSet(b("k"), 0, b("v2"), null))
          .isInstanceOf(VersionConflictException.class)
          .hasMessageContaining("key 'k' (0x6b) in key-value namespace 'ns'");
      long v2 = kv.compareAndSet(b("k"), v1, b("v2"), null);
      assertThat(v2).isGreaterThan(v1);
      assertThatThrownBy(() -> kv.compareAndDelete(b("k"), v1))
          .isInstanceOf(VersionConflictException.class);
      kv.compareAndDelete(b("k"), v2);
      assertThat(kv.get(b("k"))).isNull();
      assertThat(kv.put(b("k"), b("again"))).isPositive();
    }
  }

  @Test
  void ttlHidesAtOnceAndSweeperPurges() {
    TestBackends.ManualClock clock = new TestBackends.ManualClock();
    try (PersistenceRegistry r = TestBackends.open(dir, "sweeper-interval = 0s", clock)) {
      KeyValueStore kv = r.backend("main").keyValue("cache");
      kv.put(b("t"), b("v"), Duration.ofSeconds(10));
      kv.put(b("p"), b("v"));
      assertThat(kv.get(b("t"))).isEqualTo(b("v"));
      clock.advance(10_001);
      assertThat(kv.get(b("t"))).isNull();
      try (var it = kv.scan(null, null)) {
        assertThat(it.next().key()).isEqualTo(b("p"));
        assertThat(it.hasNext()).isFalse();
      }
      assertThat(kv.compareAndSet(b("t"), 0, b("new"), null)).isPositive();
      kv.put(b("t2"), b("v"), Duration.ofMillis(5));
      clock.advance(6);
      // approximate: the expired t2 may or may not be counted before the purge
      assertThat(kv.approximateCount()).isBetween(2L, 3L);
      assertThat(kv.purgeExpired()).isEqualTo(1);
      assertThat(kv.approximateCount()).isEqualTo(2);
    }
  }

  @Test
  void backgroundSweeperDeletesExpiredRows() throws Exception {
    TestBackends.ManualClock clock = new TestBackends.ManualClock();
    try (PersistenceRegistry r = TestBackends.open(dir, "sweeper-interval = 20ms", clock)) {
      KeyValueStore kv = r.backend("main").keyValue("cache");
      for (int i = 0; i < 50; i++) {
        kv.put(b("k" + i), b("v"), Duration.ofSeconds(1));
      }
      clock.advance(2000);
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (kv.approximateCount() > 0 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(kv.approximateCount()).isZero();
    }
  }

  /**
   * {@code sweeper-batch} lost its meaning with the shared base's sweeper (schema v5): a
   * configuration that still sets it opens, and the warning names the key; without it, no warning.
   */
  @Test
  void aDeprecatedSweeperBatchIsNamedInAWarningAtOpen() {
    String with = Stderr.of(() -> TestBackends.open(dir, "sweeper-batch = 7").close());
    assertThat(with)
        .contains("cairn.backends.main.sweeper-batch is deprecated and ignored")
        .contains("remove the setting");
    String without = Stderr.of(() -> TestBackends.open(dir, "").close());
    assertThat(without).doesNotContain("sweeper-batch");
  }

  @Test
  void scanIsOrderedUnsignedAndPaged() {
    try (PersistenceRegistry r = TestBackends.open(dir, "")) {
      KeyValueStore kv = r.backend("main").keyValue("s");
      List<KeyValue> batch = new ArrayList<>();
      for (int i = 0; i < 1000; i++) {
        batch.add(new KeyValue(new byte[] {(byte) (i >> 8), (byte) i}, b("v" + i)));
      }
      kv.putAll(batch);
      kv.put(new byte[] {(byte) 0xFF}, b("high"));
      List<byte[]> keys = new ArrayList<>();
      try (var it = kv.scan(new byte[] {0, 5}, new byte[] {(byte) 0xFF})) {
        it.forEachRemaining(e -> keys.add(e.key()));
      }
      assertThat(keys).hasSize(995);
      for (int i = 1; i < keys.size(); i++) {
        assertThat(java.util.Arrays.compareUnsigned(keys.get(i - 1), keys.get(i))).isNegative();
      }
      try (var it = kv.scanPrefix(new byte[] {(byte) 0xFF})) {
        assertThat(it.next().value()).isEqualTo(b("high"));
      }
    }
  }

  @Test
  void logOffsetsAreGapFreeAndNeverReused() {
    try (PersistenceRegistry r = TestBackends.open(dir, "")) {
      LogStore log = r.backend("main").log("events");
      assertThat(log.append(b("a"))).isZero();
      assertThat(log.appendAll(List.of(b("b"), b("c"), b("d")))).isEqualTo(1);
      assertThat(log.nextOffset()).isEqualTo(4);
      assertThat(log.truncateBefore(10)).isEqualTo(4);
      assertThat(log.firstOffset()).isEqualTo(4);
    }
    try (PersistenceRegistry r = TestBackends.open(dir, "")) {
      LogStore log = r.backend("main").log("events");
      assertThat(log.nextOffset()).isEqualTo(4);
      assertThat(log.append(b("e"))).isEqualTo(4);
      assertThat(log.read(0, 10))
          .singleElement()
          .satisfies(rec -> assertThat(rec.offset()).isEqualTo(4));
    }
  }

  @Test
  void transactionsCommitTogetherOrNotAtAll() {
    try (PersistenceRegistry r = TestBackends.open(dir, "")) {
      StorageBackend be = r.backend("main");
      long off =
          be.inTransaction(
              tx -> {
                tx.keyValue("a").put(b("k"), b("v"));
                return tx.log("l").append(b("x"));
              });
      assertThat(off).isZero();
      assertThatThrownBy(
              () ->
                  be.inTransaction(
                      tx -> {
                        tx.keyValue("a").put(b("k"), b("w"));
                        tx.log("l").append(b("y"));
                        throw new IllegalStateException("boom");
                      }))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("boom");
      assertThat(be.keyValue("a").get(b("k"))).isEqualTo(b("v"));
      assertThat(be.log("l").nextOffset()).isEqualTo(1);
      assertThat(be.log("l").append(b("z"))).isEqualTo(1);
      assertThatThrownBy(() -> be.inTransaction(tx -> be.keyValue("a").put(b("k"), b("no"))))
          .isInstanceOf(IllegalStateException.class);
    }
  }

  @Test
  void snapshotsStreamInChunksAndDetectCorruption() throws Exception {
    byte[] data = new byte[300_000];
    new Random(7).nextBytes(data);
    try (PersistenceRegistry r = TestBackends.open(dir, "snapshot-chunk-size = 64KiB")) {
      SnapshotStore snaps = r.backend("main").snapshots("state");
      snaps.save(1, data);
      snaps.save(2, b("small"));
      snaps.save(2, b("replaced"));
      assertThat(snaps.list()).extracting(i -> i.version()).containsExactly(1L, 2L);
      try (InputStream in = snaps.load(1)) {
        assertThat(in.readAllBytes()).isEqualTo(data);
      }
      try (InputStream in = snaps.load(2)) {
        assertThat(in.readAllBytes()).isEqualTo(b("replaced"));
      }
      assertThat(snaps.retainLatest(1)).isEqualTo(1);
      assertThat(r.backend("main").verify(Progress.NONE).healthy()).isTrue();
    }
    // damage a chunk behind the backend's back
    try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cairn.db"));
        var st = c.createStatement()) {
      // every chunk record (kind 2, key 'C'...) of the set: frames that no longer check
      st.executeUpdate(
          "UPDATE rec SET value = x'00112233' WHERE kind = 2 AND store = 'state'"
              + " AND substr(key, 1, 1) = x'43'");
    }
    try (PersistenceRegistry r = TestBackends.open(dir, "")) {
      SnapshotStore snaps = r.backend("main").snapshots("state");
      assertThatThrownBy(
              () -> {
                try (InputStream in = snaps.load(2)) {
                  in.readAllBytes();
                }
              })
          .isInstanceOf(io.cairn.persistence.StoreCorruptedException.class);
      assertThat(r.backend("main").verify(Progress.NONE).problems())
          .anySatisfy(p -> assertThat(p).contains("snapshot 2 of snapshot set 'state'"));
    }
  }

  @Test
  void secondOpenInSameJvmIsLockedWithPid() {
    try (PersistenceRegistry r = TestBackends.open(dir, "")) {
      assertThatThrownBy(() -> TestBackends.open(dir, ""))
          .isInstanceOf(BackendLockedException.class)
          .hasMessageContaining(dir.toAbsolutePath().normalize().toString())
          .hasMessageContaining("pid " + ProcessHandle.current().pid());
    }
    try (PersistenceRegistry r = TestBackends.open(dir, "")) {
      assertThat(r.backend("main").keyValue("x").get(b("k"))).isNull();
    }
  }

  @Test
  void filesArePrivate() throws Exception {
    Path sub = dir.resolve("nested/data");
    try (PersistenceRegistry r = TestBackends.open(sub, "durability = full")) {
      r.backend("main").keyValue("x").put(b("k"), b("v"));
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(sub)))
          .isEqualTo("rwx------");
      for (String f : List.of("cairn.db", "cairn.db-wal", "cairn.lock")) {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(sub.resolve(f))))
            .as(f)
            .isEqualTo("rw-------");
      }
    }
  }

  @Test
  void groupCommitSharesCommitsBetweenWriters() throws Exception {
    try (PersistenceRegistry r = TestBackends.open(dir, "durability = full")) {
      KeyValueStore kv = r.backend("main").keyValue("g");
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int id = t;
        threads.add(
            new Thread(
                () -> {
                  for (int i = 0; i < 50; i++) {
                    kv.put(b(id + ":" + i), b("v"));
                  }
                }));
      }
      threads.forEach(Thread::start);
      for (Thread t : threads) {
        t.join();
      }
      assertThat(kv.approximateCount()).isEqualTo(400);
      var h = r.metrics().getHistograms().get("cairn.backends.main.sqlite.commit-batch-size");
      assertThat(h.getSnapshot().getMax()).isGreaterThan(1);
      assertThat(r.metrics().getGauges()).containsKey("cairn.backends.main.sqlite.wal-bytes");
    }
  }

  @Test
  void compactAndCheckpointCopy() throws Exception {
    Path copy = dir.resolve("copy");
    Path data = dir.resolve("data");
    try (PersistenceRegistry r = TestBackends.open(data, "")) {
      StorageBackend be = r.backend("main");
      for (int i = 0; i < 200; i++) {
        be.keyValue("c").put(b("k" + i), new byte[1000]);
      }
      for (int i = 0; i < 200; i++) {
        be.keyValue("c").delete(b("k" + i));
      }
      be.keyValue("c").put(b("keep"), b("v"));
      be.compact(Progress.NONE);
      assertThat(Files.size(data.resolve("cairn.db-wal"))).isZero();
      be.checkpoint(copy, Progress.NONE);
    }
    try (PersistenceRegistry r = TestBackends.open(copy, "")) {
      assertThat(r.backend("main").keyValue("c").get(b("keep"))).isEqualTo(b("v"));
      assertThat(r.backend("main").verify(Progress.NONE).healthy()).isTrue();
    }
  }

  static String readAll(InputStream in) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    in.transferTo(out);
    return out.toString(StandardCharsets.UTF_8);
  }
}
