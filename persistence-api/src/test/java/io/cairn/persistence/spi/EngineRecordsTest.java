package io.cairn.persistence.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.Durability;
import io.cairn.persistence.Entry;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/**
 * {@link EngineRecords} builds exactly the records the base writes (compared byte for byte with
 * what the base's own stores wrote into an engine), and the base reads records built by it as its
 * own: the contract a migrating engine relies on.
 */
class EngineRecordsTest {
  private static final long NOW = 1_700_000_000_000L;
  private final Clock clock = Clock.fixed(Instant.ofEpochMilli(NOW), ZoneOffset.UTC);
  private final EngineRecords records = new EngineRecords("rec", false);

  @Test
  void entriesLogRecordsPositionsManifestsAndChunksAreTheBasesOwnBytes() throws Exception {
    TreeMapEngine engine = new TreeMapEngine();
    byte[] data = new byte[3000];
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) (i * 7);
    }
    try (StorageBackend b = open(engine)) {
      b.keyValue("ns").put(b("k"), b("v1"));
      b.keyValue("ns").put(b("k"), b("v2"), Duration.ofSeconds(5)); // version 2, expiring
      b.log("lg").append(b("p0"));
      b.log("lg").append(b("p1"));
      b.log("lg").truncateBefore(1);
      b.snapshots("ss").save(7, new ByteArrayInputStream(data));
    }
    StoreId ss = new StoreId(StoreKind.SNAPSHOT, "ss");
    byte[] manifestKey = ByteBuffer.allocate(9).put((byte) 'M').putLong(7).array();
    long generation = ByteBuffer.wrap(engine.get(ss, manifestKey), 2, 8).getLong();
    CRC32C crc = new CRC32C();
    crc.update(data);
    List<StorageEngine.Write> expected =
        List.of(
            records.entry("ns", b("k"), 2, NOW + 5000, b("v2")),
            records.logRecord("lg", 1, NOW, b("p1")),
            records.logPosition("lg", 1, 2),
            records.snapshotManifest("ss", 7, generation, data.length, crc.getValue(), NOW, 3),
            records.snapshotChunk("ss", 7, generation, 0, java.util.Arrays.copyOf(data, 1024)),
            records.snapshotChunk(
                "ss", 7, generation, 2, java.util.Arrays.copyOfRange(data, 2048, 3000)));
    for (StorageEngine.Write w : expected) {
      assertThat(engine.get(w.store(), w.key())).as(w.toString()).isEqualTo(w.value());
    }
    byte[] bound = engine.get(ExpiryIndex.META, VersionSequence.KEY);
    assertThat(bound).as("the base wrote its version bound").isNotNull();
    StorageEngine.Write same = records.versionBound(ByteBuffer.wrap(bound, 2, 8).getLong());
    assertThat(same.store()).isEqualTo(ExpiryIndex.META);
    assertThat(same.key()).isEqualTo(VersionSequence.KEY);
    assertThat(same.value()).isEqualTo(bound);
  }

  @Test
  void theBaseReadsMigratedRecordsAsItsOwnAndRefusesDamagedOnes() throws Exception {
    TreeMapEngine engine = new TreeMapEngine();
    engine.write(
        List.of(
            records.entry("ns", b("a"), 41, 0, b("va")),
            records.entry("ns", b("old"), 3, NOW - 1, b("gone")),
            records.damaged(records.entry("ns", b("bad"), 5, 0, b("vb"))),
            records.logRecord("lg", 4, LogRecord.NOT_RECORDED, b("r4")),
            records.logRecord("lg", 5, NOW - 10, b("r5")),
            records.logPosition("lg", 4, 6),
            records.snapshotManifest("ss", 3, 99, 2, crcOf(b("xy")), NOW - 100, 1),
            records.snapshotChunk("ss", 3, 99, 0, b("xy")),
            records.versionBound(1000)),
        Durability.NONE);
    try (StorageBackend b = open(engine)) {
      Entry a = b.keyValue("ns").getEntry(b("a")).orElseThrow();
      assertThat(a.version()).isEqualTo(41);
      assertThat(a.value()).isEqualTo(b("va"));
      assertThat(b.keyValue("ns").put(b("fresh"), b("f")))
          .as("versions go on above the migrated bound, not above the highest stored (41)")
          .isGreaterThanOrEqualTo(1000);
      assertThat(b.keyValue("ns").get(b("old"))).isNull(); // expired
      assertThatThrownBy(() -> b.keyValue("ns").get(b("bad")))
          .isInstanceOf(StoreCorruptedException.class);
      assertThat(b.log("lg").firstOffset()).isEqualTo(4);
      assertThat(b.log("lg").nextOffset()).isEqualTo(6);
      List<LogRecord> read = b.log("lg").read(0, 10);
      assertThat(read).extracting(LogRecord::offset).containsExactly(4L, 5L);
      assertThat(read.get(0).appendedAtMillis()).isEqualTo(LogRecord.NOT_RECORDED);
      assertThat(read.get(1).appendedAtMillis()).isEqualTo(NOW - 10);
      assertThat(b.log("lg").append(b("r6"))).isEqualTo(6);
      try (InputStream in = b.snapshots("ss").load(3)) {
        assertThat(in.readAllBytes()).isEqualTo(b("xy"));
      }
      assertThat(b.keyValue("ns").purgeExpired()).isEqualTo(1); // the index was built at open
      assertThat(b.verify(Progress.NONE).problems()).singleElement().asString().contains("ns");
    }
  }

  @Test
  void aGapBelowThePositionIsNamed() {
    TreeMapEngine engine = new TreeMapEngine();
    engine.write(
        List.of(records.logRecord("lg", 0, NOW, b("r0")), records.logPosition("lg", 0, 3)),
        Durability.NONE);
    try (StorageBackend b = open(engine)) {
      assertThat(b.verify(Progress.NONE).problems())
          .singleElement()
          .asString()
          .contains("offsets 1 to 2 are missing");
    }
  }

  /**
   * Every (store, key) the base puts in more than one batch while the user writes each of their
   * keys, offsets and snapshots once is a bookkeeping record (a log's position, the version bound,
   * catalog entries); every record of a user store that is not a log's position is data.
   */
  @Test
  void bookkeepingIsWhatTheBaseRewritesAndNothingTheUserWrote() throws Exception {
    java.util.Map<String, Integer> batchesPerKey = new java.util.HashMap<>();
    java.util.Set<String> bookkeeping = new java.util.HashSet<>();
    java.util.Set<String> data = new java.util.HashSet<>();
    TreeMapEngine engine =
        new TreeMapEngine() {
          @Override
          public synchronized void write(List<Write> batch, Durability durability) {
            java.util.Set<String> inBatch = new java.util.HashSet<>();
            for (Write w : batch) {
              String k = w.store() + "/" + java.util.HexFormat.of().formatHex(w.key());
              (EngineRecords.isBookkeeping(w.store(), w.key()) ? bookkeeping : data).add(k);
              if (!w.isDelete() && inBatch.add(k)) {
                batchesPerKey.merge(k, 1, Integer::sum);
              }
            }
            super.write(batch, durability);
          }
        };
    try (StorageBackend b = open(engine)) {
      for (int i = 0; i < 10; i++) {
        b.keyValue("ns").put(b("k" + i), b("v"), Duration.ofHours(1));
        b.log("lg").append(b("p" + i));
      }
      b.snapshots("ss").save(1, new ByteArrayInputStream(new byte[3000]));
    }
    String position = new StoreId(StoreKind.LOG, "lg") + "/";
    assertThat(batchesPerKey)
        .as("the log's position, rewritten by every append")
        .containsKey(position);
    assertThat(batchesPerKey.get(position)).isEqualTo(10);
    for (var e : batchesPerKey.entrySet()) {
      if (e.getValue() > 1) {
        assertThat(bookkeeping)
            .as("rewritten in " + e.getValue() + " batches")
            .contains(e.getKey());
      }
    }
    assertThat(bookkeeping).anyMatch(k -> k.startsWith("kv:_expiry.ns/"));
    assertThat(bookkeeping).anyMatch(k -> k.startsWith("kv:_cairn/"));
    assertThat(data)
        .hasSize(10 + 10 + 1 + 3) // entries, log records, manifest, chunks
        .allMatch(k -> !k.startsWith("kv:_") && !k.equals(position));
    assertThat(EngineRecords.isBookkeeping(new StoreId(StoreKind.KEY_VALUE, "ns"), new byte[0]))
        .as("only a log's empty key is its position")
        .isFalse();
    assertThat(EngineRecords.isBookkeeping(new StoreId(StoreKind.LOG, "_x"), b("12345678")))
        .isTrue();
    assertThat(EngineRecords.isBookkeeping(new StoreId(StoreKind.SNAPSHOT, ""), b("M"))).isFalse();
  }

  @Test
  void argumentsOutsideTheLayoutAreRefused() {
    assertThatThrownBy(() -> records.entry("ns", b("k"), 0, 0, b("v")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> records.logPosition("lg", 5, 4))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> records.logRecord("lg", -1, NOW, b("v")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new EngineRecords("x", true).damaged(records.logPosition("l", 0, 0)))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> records.versionBound(0)).isInstanceOf(IllegalArgumentException.class);
  }

  private StorageBackend open(TreeMapEngine engine) {
    return EngineBackend.open(
        BackendContext.builder("rec", "rec").durability(Durability.NONE).clock(clock).build(),
        "rec",
        engine,
        EngineBackend.Options.builder(Durability.NONE).snapshotChunkBytes(1024).build());
  }

  private static long crcOf(byte[] b) {
    CRC32C c = new CRC32C();
    c.update(b);
    return c.getValue();
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
