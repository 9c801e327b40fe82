package io.cairn.backend.rocksdb;

import static io.cairn.backend.rocksdb.Rocks.b;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.Progress;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.RocksIterator;

/**
 * Issue 10 item 5 on layout 4: {@code verify} checks Cairn's own invariants, not only RocksDB's
 * checksums. Each test damages the records of column families {@code records} and {@code base}
 * directly (as a bug, a bad restore or an operator's tool would: keys of {@link EngineKeys}, values
 * of the base's layout in {@code EngineBackend}) and expects {@code verify} to name what is wrong.
 */
class RocksDbVerifyInvariantsTest {
  @TempDir Path dir;

  private Rocks.WithEngine w;
  private StorageBackend be;

  @BeforeEach
  void populate() {
    open();
    for (int i = 0; i < 10; i++) {
      be.log("events").append(b("e" + i));
      be.keyValue("users").put(b("u" + i), b("v" + i));
    }
    be.snapshots("snaps").save(1, new ByteArrayInputStream(new byte[3 * 4096 + 10]));
    assertThat(be.verify(Progress.NONE).problems()).isEmpty();
  }

  private void open() {
    w = Rocks.withEngine(dir, "snapshot-chunk-size = 4KiB");
    be = w.backend();
  }

  private void reopen() {
    w.close();
    open();
  }

  @AfterEach
  void close() {
    w.close();
  }

  @Test
  void aLogRecordDeletedInTheMiddleIsAGapNamedByVerifyAndRead() throws Exception {
    delete(logKey("events", 4));
    assertThat(problems())
        .anyMatch(p -> p.contains("log 'events'") && p.contains("offsets 4 to 4 are missing"));
    assertThatThrownBy(() -> be.log("events").read(0, 100))
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessageContaining("offset 4 of log 'events' is missing");
  }

  @Test
  void theLastLogRecordDeletedIsReportedAndItsOffsetNeverReused() throws Exception {
    delete(logKey("events", 9));
    reopen();
    assertThat(problems())
        .anyMatch(p -> p.contains("log 'events'") && p.contains("offsets 9 to 9 are missing"));
    assertThat(be.log("events").nextOffset()).isEqualTo(10);
    assertThatThrownBy(() -> be.log("events").read(5, 100))
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessageContaining("offset 9 of log 'events' is missing");
    assertThat(be.log("events").append(b("new"))).isEqualTo(10);
  }

  @Test
  void aSnapshotChunkDeletedIsReportedWithTheSnapshot() throws Exception {
    List<byte[]> chunks = chunkKeys(w.engine(), "snaps", 1);
    assertThat(chunks).hasSize(4);
    delete(chunks.get(1));
    assertThat(problems())
        .anyMatch(p -> p.contains("snapshot set 'snaps'") && p.contains("chunk 1 of snapshot 1 "));
  }

  @Test
  void aLostCatalogEntryOfALogIsReported() throws Exception {
    // the base's catalog entry of a written log: ('_cairn', "log:events")
    delete(
        EngineKeys.key(
            EngineKeys.prefix(new StoreId(StoreKind.KEY_VALUE, "_cairn")),
            "log:events".getBytes(StandardCharsets.UTF_8)));
    reopen();
    assertThat(problems())
        .anyMatch(p -> p.contains("log 'events'") && p.contains("no entry in the base's catalog"));
  }

  /**
   * A record in the other family than the one its store and key name is invisible to reads: verify
   * names it, with the family it was found in (a log's position in 'records', a log record and a
   * key-value entry in 'base').
   */
  @Test
  void aRecordInTheWrongFamilyIsNamedByVerify() throws Exception {
    RocksStorageEngine e = w.engine();
    byte[] position = EngineKeys.prefix(new StoreId(StoreKind.LOG, "events"));
    byte[] record = logKey("events", 3);
    byte[] entry =
        EngineKeys.key(EngineKeys.prefix(new StoreId(StoreKind.KEY_VALUE, "users")), b("u1"));
    for (var move :
        List.of(
            java.util.Map.entry(position, e.records()),
            java.util.Map.entry(record, e.base()),
            java.util.Map.entry(entry, e.base()))) {
      org.rocksdb.ColumnFamilyHandle from = Rocks.familyOf(e, move.getKey());
      byte[] value = e.db.get(from, move.getKey());
      assertThat(value).isNotNull();
      e.db.put(move.getValue(), move.getKey(), value);
      e.db.delete(from, move.getKey());
    }
    assertThat(problems())
        .anyMatch(
            p ->
                p.contains("log:events has a record (key 0x)")
                    && p.contains("in column family 'records', where reads never look"))
        .anyMatch(
            p ->
                p.contains("log:events has a record (key 0x0000000000000003)")
                    && p.contains("in column family 'base'"))
        .anyMatch(p -> p.contains("kv:users has a record") && p.contains("'base'"));
  }

  @Test
  void anUndamagedBackendVerifiesClean() {
    be.log("events").truncateBefore(3);
    be.snapshots("snaps").save(2, new ByteArrayInputStream(new byte[5]));
    be.snapshots("snaps").delete(1);
    be.inTransaction(
        tx -> {
          tx.log("events").append(b("tx"));
          tx.keyValue("users").put(b("t"), b("x"));
          return null;
        });
    assertThat(problems()).isEmpty();
  }

  /** The raw keys of the chunks of {@code version} in snapshot set {@code set}, in index order. */
  static List<byte[]> chunkKeys(RocksStorageEngine engine, String set, long version)
      throws Exception {
    byte[] from =
        EngineKeys.key(
            EngineKeys.prefix(new StoreId(StoreKind.SNAPSHOT, set)),
            ByteBuffer.allocate(9).put((byte) 'C').putLong(version).array());
    List<byte[]> out = new ArrayList<>();
    try (RocksIterator it = engine.db.newIterator(engine.records())) {
      for (it.seek(from); it.isValid() && startsWith(it.key(), from); it.next()) {
        out.add(it.key());
      }
      it.status();
    }
    return out;
  }

  private static boolean startsWith(byte[] key, byte[] prefix) {
    return key.length >= prefix.length
        && java.util.Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
  }

  private static byte[] logKey(String log, long offset) {
    return EngineKeys.key(
        EngineKeys.prefix(new StoreId(StoreKind.LOG, log)),
        ByteBuffer.allocate(8).putLong(offset).array());
  }

  private void delete(byte[] key) throws Exception {
    org.rocksdb.ColumnFamilyHandle cf = Rocks.familyOf(w.engine(), key);
    assertThat(w.engine().db.get(cf, key)).as("the damaged record").isNotNull();
    w.engine().db.delete(cf, key);
  }

  private List<String> problems() {
    List<String> p = be.verify(Progress.NONE).problems();
    System.out.println(p);
    return p;
  }
}
