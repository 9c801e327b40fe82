package io.cairn.tck;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.Capability;
import io.cairn.persistence.Durability;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.SnapshotInfo;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreId;
import io.cairn.tck.crash.ChildJvm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.SortedSet;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Contract across close and reopen, for backends that declare {@link Capability#DURABLE} (skipped,
 * not failed, for the others): every acknowledged key-value write, delete and TTL is there with its
 * version, log offsets continue without reuse (also after truncating everything), snapshots are
 * intact, committed transactions survive and aborted ones left nothing. For durability {@code
 * normal} and {@code full} also across a process killed with SIGKILL ({@link
 * #acknowledgedWritesSurviveAKilledProcess()}, which runs a child JVM): a backend that writes only
 * on close fails.
 */
public abstract class RestartContract extends ContractSupport {

  @BeforeEach
  final void requireDurable() {
    assumeCapability(Capability.DURABLE);
  }

  @Test
  public void keyValueWritesDeletesAndTtlsSurviveReopen() {
    var kv = backend().keyValue("tck-restart");
    long va = kv.put(bytes("a"), bytes("alpha"));
    long va2 = kv.put(bytes("a"), bytes("alpha 2"));
    kv.put(bytes("b"), bytes("deleted"));
    kv.delete(bytes("b"));
    kv.put(bytes("c"), bytes("long ttl"), Duration.ofHours(1));
    kv.put(bytes("d"), bytes("short ttl"), Duration.ofSeconds(30));
    kv.putAll(
        List.of(new KeyValue(bytes("e"), bytes("batch")), new KeyValue(raw(0xFF), raw(0x80))));
    long vc = kv.getEntry(bytes("c")).orElseThrow().expiresAtMillis();
    assertThat(va2).isGreaterThan(va);

    StorageBackend reopened = reopen();
    var again = reopened.keyValue("tck-restart");
    Entry a = again.getEntry(bytes("a")).orElseThrow();
    assertThat(a.value()).isEqualTo(bytes("alpha 2"));
    assertThat(a.version()).isEqualTo(va2);
    assertThat(again.get(bytes("b"))).isNull();
    assertThat(again.getEntry(bytes("c")).orElseThrow().expiresAtMillis()).isEqualTo(vc);
    assertThat(again.get(bytes("d"))).isEqualTo(bytes("short ttl"));
    assertThat(again.get(bytes("e"))).isEqualTo(bytes("batch"));
    assertThat(again.get(raw(0xFF))).isEqualTo(raw(0x80));

    clock().advance(Duration.ofSeconds(31));
    assertThat(again.get(bytes("d"))).as("TTL still applies after reopen").isNull();
    assertThat(again.get(bytes("c"))).isEqualTo(bytes("long ttl"));
    assertThat(again.put(bytes("a"), bytes("alpha 3"))).as("versions continue").isGreaterThan(va2);
    Assertions.assertThatThrownBy(() -> again.compareAndSet(bytes("a"), va2, bytes("x"), null))
        .as("a CAS on the version from before the restart is stale now")
        .isInstanceOf(io.cairn.persistence.VersionConflictException.class);
  }

  @Test
  public void logAppendTimesSurviveReopen() {
    var log = backend().log("tck-restart-times");
    log.append(bytes("r0"));
    clock().advance(Duration.ofMinutes(3));
    log.append(bytes("r1"));
    List<LogRecord> before = log.read(0, 10);

    List<LogRecord> after = reopen().log("tck-restart-times").read(0, 10);
    assertThat(after).hasSize(2);
    for (int i = 0; i < 2; i++) {
      assertThat(after.get(i).appendedAtMillis())
          .as("append time of offset " + i + " after reopen")
          .isEqualTo(before.get(i).appendedAtMillis())
          .isNotEqualTo(LogRecord.NOT_RECORDED);
    }
    assertThat(after.get(1).appendedAtMillis() - after.get(0).appendedAtMillis())
        .isEqualTo(Duration.ofMinutes(3).toMillis());
  }

  @Test
  public void logOffsetsContinueAfterReopenAndAreNeverReused() {
    var log = backend().log("tck-restart");
    for (int i = 0; i < 10; i++) {
      log.append(bytes("r" + i));
    }
    log.truncateBefore(4);

    var again = reopen().log("tck-restart");
    assertThat(again.firstOffset()).isEqualTo(4);
    assertThat(again.nextOffset()).isEqualTo(10);
    List<LogRecord> records = again.read(0, 100);
    assertThat(records).extracting(LogRecord::offset).containsExactly(4L, 5L, 6L, 7L, 8L, 9L);
    assertThat(records.get(0).payload()).isEqualTo(bytes("r4"));
    assertThat(again.append(bytes("r10"))).isEqualTo(10);

    again.truncateBefore(Long.MAX_VALUE);
    assertThat(again.firstOffset()).isEqualTo(11);

    var third = reopen().log("tck-restart");
    assertThat(third.firstOffset()).as("an emptied log remembers where it was").isEqualTo(11);
    assertThat(third.nextOffset()).isEqualTo(11);
    assertThat(third.append(bytes("r11"))).isEqualTo(11);
    assertThat(third.read(0, 10)).extracting(LogRecord::offset).containsExactly(11L);
  }

  @Test
  public void snapshotsSurviveReopenIntact() {
    long seed = random().nextLong();
    long size = 3L * 1024 * 1024 + 17;
    var snaps = backend().snapshots("tck-restart");
    SnapshotInfo big = snaps.save(100, Fixtures.generatedStream(seed, size));
    SnapshotInfo small = snaps.save(200, bytes("small"));
    snaps.save(50, bytes("deleted"));
    snaps.delete(50);

    var again = reopen().snapshots("tck-restart");
    assertThat(again.list()).containsExactly(big, small);
    assertThat(again.latest()).contains(small);
    Fixtures.assertStreamEquals(again.load(100), seed, size);
    assertThat(Fixtures.readAll(again.load(200))).isEqualTo(bytes("small"));
  }

  @Test
  public void committedTransactionsSurviveAndAbortedOnesLeaveNothing() {
    backend()
        .inTransaction(
            tx -> {
              tx.keyValue("tck-restart").put(bytes("tx"), bytes("committed"));
              tx.log("tck-restart").append(bytes("committed"));
              return null;
            });
    try {
      backend()
          .inTransaction(
              tx -> {
                tx.keyValue("tck-restart").put(bytes("tx2"), bytes("aborted"));
                tx.log("tck-restart").append(bytes("aborted"));
                throw new IllegalStateException("abort");
              });
    } catch (IllegalStateException expected) {
      // the abort is the point of the test
    }
    StorageBackend again = reopen();
    assertThat(again.keyValue("tck-restart").get(bytes("tx"))).isEqualTo(bytes("committed"));
    assertThat(again.keyValue("tck-restart").get(bytes("tx2"))).isNull();
    assertThat(again.log("tck-restart").nextOffset()).isEqualTo(1);
    assertThat(again.log("tck-restart").append(bytes("next"))).isEqualTo(1);
  }

  /**
   * The writes of {@link KilledWriter} in a child JVM that is then killed with SIGKILL (no close,
   * no shutdown hook): every acknowledged write must be there on reopen. A backend that only writes
   * on close fails here. Only for durability {@code normal} and {@code full}, which promise to
   * survive a process crash; skipped (not failed) for {@code none}, which does not.
   */
  @Test
  public void acknowledgedWritesSurviveAKilledProcess() {
    Assumptions.assumeTrue(
        backend().durability() != Durability.NONE,
        "durability none promises nothing across a process crash; test skipped by durability");
    Path config = writeConfigFile("killed-writer.conf", "");
    closeRegistry(); // the child must be able to lock the directory
    try (ChildJvm child = ChildJvm.start(KilledWriter.class, config.toString())) {
      child.awaitLine(KilledWriter.ACKED::equals, Duration.ofMinutes(2));
      child.killHard();
    }
    StorageBackend b = reopen();
    String store = KilledWriter.STORE;
    var kv = b.keyValue(store);
    assertThat(kv.get(bytes("k0"))).as("k0 after the kill").isEqualTo(bytes("v0 again"));
    assertThat(kv.get(bytes("k1"))).as("deleted k1 after the kill").isNull();
    assertThat(kv.get(bytes("k2"))).as("k2 after the kill").isEqualTo(bytes("v2 cas"));
    for (int i = 3; i < KilledWriter.KEYS; i++) {
      assertThat(kv.get(bytes("k" + i))).as("k%d after the kill", i).isEqualTo(bytes("v" + i));
    }
    assertThat(kv.get(bytes("ttl"))).isEqualTo(bytes("an hour"));
    assertThat(kv.get(bytes("batch-a"))).isEqualTo(bytes("a"));
    assertThat(kv.get(bytes("batch-b"))).isEqualTo(bytes("b"));
    assertThat(kv.get(bytes("tx"))).isEqualTo(bytes("committed"));
    var log = b.log(store);
    assertThat(log.firstOffset()).as("truncation survives the kill").isEqualTo(3);
    assertThat(log.nextOffset()).isEqualTo(KilledWriter.RECORDS + 6);
    List<LogRecord> records = log.read(0, 1000);
    assertThat(records).hasSize(KilledWriter.RECORDS + 3);
    assertThat(records.get(0).payload()).isEqualTo(bytes("r3"));
    assertThat(records.get(records.size() - 1).payload()).isEqualTo(bytes("tx record"));
    var snaps = b.snapshots(store);
    assertThat(snaps.list()).extracting(SnapshotInfo::version).containsExactly(1L);
    Fixtures.assertStreamEquals(
        snaps.load(1), KilledWriter.SNAPSHOT_SEED, KilledWriter.SNAPSHOT_BYTES);
  }

  @Test
  public void storesAreListedAfterReopen() {
    backend().keyValue("tck-r-kv").put(bytes("k"), bytes("v"));
    backend().log("tck-r-log").append(bytes("x"));
    backend().snapshots("tck-r-snap").save(1, bytes("s"));
    SortedSet<StoreId> before = backend().stores();
    Assertions.assertThat(reopen().stores()).containsAll(before);
  }
}
