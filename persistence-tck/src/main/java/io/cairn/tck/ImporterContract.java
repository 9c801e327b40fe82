package io.cairn.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.Capability;
import io.cairn.persistence.Entry;
import io.cairn.persistence.Importer;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.SnapshotInfo;
import io.cairn.persistence.StorageBackend;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Contract of {@link Importer} for backends that offer it through {@code extension(Importer.class)}
 * (skipped, naming the missing extension, for the others): exact versions, expiry instants,
 * offsets, append times and snapshot versions and creation times; only into empty stores;
 * contiguous offsets; kept across reopen on durable backends; store-API writes afterwards continue
 * above the imported versions and offsets.
 */
public abstract class ImporterContract extends ContractSupport {

  private Importer importer() {
    var found = backend().extension(Importer.class);
    Assumptions.assumeTrue(
        found.isPresent(), "backend type offers no Importer extension: import contract skipped");
    return found.get();
  }

  @Test
  public void entriesKeepTheirVersionsAndExpiryAndLaterWritesGoAbove() {
    long now = clock().millis();
    try (Importer.Session s = importer().begin()) {
      s.putEntries(
          "imp-kv",
          List.of(
              new Entry(bytes("a"), bytes("alpha"), 41, 0),
              new Entry(bytes("b"), bytes("beta"), 7_000_000, now + 60_000),
              new Entry(bytes("gone"), bytes("expired"), 3, now - 1)));
      s.putEntries("imp-kv", List.of(new Entry(raw(0xFF), raw(0), 1, 0)));
      s.finish();
    }
    var kv = backend().keyValue("imp-kv");
    Entry a = kv.getEntry(bytes("a")).orElseThrow();
    assertThat(a.value()).isEqualTo(bytes("alpha"));
    assertThat(a.version()).isEqualTo(41);
    assertThat(a.expiresAtMillis()).isZero();
    Entry b = kv.getEntry(bytes("b")).orElseThrow();
    assertThat(b.version()).isEqualTo(7_000_000);
    assertThat(b.expiresAtMillis()).isEqualTo(now + 60_000);
    assertThat(kv.get(bytes("gone"))).as("imported already expired").isNull();
    assertThat(kv.get(raw(0xFF))).isEqualTo(raw(0));
    assertThat(kv.put(bytes("a"), bytes("alpha 2"))).isGreaterThan(41);
    assertThat(kv.put(bytes("b"), bytes("beta 2"), Duration.ofMinutes(1))).isGreaterThan(7_000_000);
    clock().advance(Duration.ofMinutes(2));
    assertThat(kv.get(bytes("b"))).isNull();
  }

  @Test
  public void logRecordsKeepTheirOffsetsAndAppendTimesFromAGivenFirstOffset() {
    try (Importer.Session s = importer().begin()) {
      s.appendRecords(
          "imp-log",
          List.of(
              new LogRecord(5, bytes("r5"), LogRecord.NOT_RECORDED),
              new LogRecord(6, bytes("r6"), 1_000)));
      s.appendRecords("imp-log", List.of(new LogRecord(7, bytes("r7"), 2_000)));
      assertThatThrownBy(
              () -> s.appendRecords("imp-log", List.of(new LogRecord(9, bytes("gap"), 3_000))))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("log:imp-log")
          .hasMessageContaining("contiguous");
      s.finish();
    }
    var log = backend().log("imp-log");
    assertThat(log.firstOffset()).isEqualTo(5);
    assertThat(log.nextOffset()).isEqualTo(8);
    List<LogRecord> all = log.read(0, 10);
    assertThat(all).extracting(LogRecord::offset).containsExactly(5L, 6L, 7L);
    assertThat(all)
        .extracting(LogRecord::appendedAtMillis)
        .containsExactly(LogRecord.NOT_RECORDED, 1_000L, 2_000L);
    assertThat(all.get(2).payload()).isEqualTo(bytes("r7"));
    assertThat(log.append(bytes("after"))).isEqualTo(8);
    assertThat(log.read(8, 1).get(0).appendedAtMillis()).isEqualTo(clock().millis());
  }

  @Test
  public void snapshotsKeepTheirVersionAndCreationTime() throws Exception {
    byte[] data = new byte[300_000];
    random().nextBytes(data);
    SnapshotInfo info;
    try (Importer.Session s = importer().begin()) {
      info = s.saveSnapshot("imp-snap", 12, 123_456, new ByteArrayInputStream(data));
      s.saveSnapshot("imp-snap", 13, 123_999, new ByteArrayInputStream(bytes("small")));
      s.finish();
    }
    assertThat(info.version()).isEqualTo(12);
    assertThat(info.createdAtMillis()).isEqualTo(123_456);
    assertThat(info.sizeBytes()).isEqualTo(data.length);
    var set = backend().snapshots("imp-snap");
    assertThat(set.list())
        .extracting(SnapshotInfo::version, SnapshotInfo::createdAtMillis)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(12L, 123_456L),
            org.assertj.core.groups.Tuple.tuple(13L, 123_999L));
    try (InputStream in = set.load(12)) {
      assertThat(in.readAllBytes()).isEqualTo(data);
    }
  }

  @Test
  public void nonEmptyStoresAreRefusedByNameAndLeftAlone() {
    backend().keyValue("imp-full").put(bytes("k"), bytes("v"));
    backend().log("imp-full-log").append(bytes("r"));
    backend().snapshots("imp-full-snap").save(1, new ByteArrayInputStream(bytes("s")));
    try (Importer.Session s = importer().begin()) {
      assertThatThrownBy(
              () -> s.putEntries("imp-full", List.of(new Entry(bytes("x"), bytes("y"), 1, 0))))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("imp-full")
          .hasMessageContaining("not empty");
      assertThatThrownBy(
              () -> s.appendRecords("imp-full-log", List.of(new LogRecord(1, bytes("x"), 1))))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("imp-full-log");
      assertThatThrownBy(
              () -> s.saveSnapshot("imp-full-snap", 2, 1, new ByteArrayInputStream(bytes("x"))))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("imp-full-snap");
    }
    assertThat(backend().keyValue("imp-full").get(bytes("x"))).isNull();
    assertThat(backend().log("imp-full-log").nextOffset()).isEqualTo(1);
    assertThat(backend().snapshots("imp-full-snap").list()).hasSize(1);
  }

  @Test
  public void aLogStartedAtAnOffsetKeepsItAndContinuesThere() {
    try (Importer.Session s = importer().begin()) {
      s.startLog("imp-started", 40);
      s.startLog("imp-drained", 7);
      s.appendRecords("imp-started", List.of(new LogRecord(40, bytes("r40"), 1_000)));
      assertThatThrownBy(() -> s.startLog("imp-started", 50))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("first call");
      s.finish();
    }
    var started = backend().log("imp-started");
    assertThat(started.firstOffset()).isEqualTo(40);
    assertThat(started.nextOffset()).isEqualTo(41);
    assertThat(started.read(0, 10)).extracting(LogRecord::offset).containsExactly(40L);
    var drained = backend().log("imp-drained");
    assertThat(drained.firstOffset()).isEqualTo(7);
    assertThat(drained.nextOffset()).isEqualTo(7);
    assertThat(drained.append(bytes("next"))).isEqualTo(7);
    try (Importer.Session s = importer().begin()) {
      assertThatThrownBy(() -> s.startLog("imp-drained", 9))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("imp-drained");
    }
  }

  @Test
  public void badCallsAreRefusedNamingStoreAndItemAndWriteNothing() {
    try (Importer.Session s = importer().begin()) {
      assertThatThrownBy(
              () ->
                  s.putEntries(
                      "imp-bad",
                      List.of(
                          new Entry(bytes("k"), bytes("1"), 1, 0),
                          new Entry(bytes("k"), bytes("2"), 2, 0))))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("kv:imp-bad")
          .hasMessageContaining("entry 1 repeats a key");
      assertThatThrownBy(
              () -> s.putEntries("imp-bad", List.of(new Entry(bytes("k"), bytes("1"), 0, 0))))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("entry 0 has version 0");
      assertThatThrownBy(
              () ->
                  s.appendRecords(
                      "imp-bad-log",
                      List.of(new LogRecord(3, bytes("a"), 1), new LogRecord(5, bytes("b"), 1))))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("log:imp-bad-log")
          .hasMessageContaining("record 1 has offset 5");
      assertThatThrownBy(
              () -> s.saveSnapshot("imp-bad-snap", 1, -1, new ByteArrayInputStream(bytes("x"))))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("snapshot:imp-bad-snap");
    }
    assertThat(backend().keyValue("imp-bad").get(bytes("k"))).isNull();
    assertThat(backend().log("imp-bad-log").read(0, 10)).isEmpty();
    assertThat(backend().snapshots("imp-bad-snap").list()).isEmpty();
  }

  @Test
  public void importedDataSurvivesReopen() {
    assumeCapability(Capability.DURABLE);
    try (Importer.Session s = importer().begin()) {
      s.putEntries("imp-kv", List.of(new Entry(bytes("a"), bytes("alpha"), 99, 0)));
      s.appendRecords("imp-log", List.of(new LogRecord(3, bytes("r3"), 5_000)));
      s.finish();
    }
    StorageBackend again = reopen();
    assertThat(again.keyValue("imp-kv").getEntry(bytes("a")).orElseThrow().version()).isEqualTo(99);
    assertThat(again.log("imp-log").read(0, 5))
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.offset()).isEqualTo(3);
              assertThat(r.appendedAtMillis()).isEqualTo(5_000);
            });
    assertThat(again.log("imp-log").append(bytes("next"))).isEqualTo(4);
  }
}
