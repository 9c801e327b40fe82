package io.cairn.backend.rocksdb;

import static io.cairn.backend.rocksdb.Rocks.b;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.Progress;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreCorruptedException;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10 item 5: {@code verify} checks Cairn's own invariants, not only RocksDB's checksums. Each
 * test damages the engine's data directly (as a bug, a bad restore or an operator's tool would) and
 * expects {@code verify} to name what is wrong.
 */
class RocksDbVerifyInvariantsTest {
  @TempDir Path dir;

  private StorageBackend be;
  private RocksDbBackend rb;

  @BeforeEach
  void populate() {
    be = Rocks.open(dir, "snapshot-chunk-size = 4KiB");
    rb = (RocksDbBackend) be;
    for (int i = 0; i < 10; i++) {
      be.log("events").append(b("e" + i));
      be.keyValue("users").put(b("u" + i), b("v" + i));
    }
    be.snapshots("snaps").save(1, new ByteArrayInputStream(new byte[3 * 4096 + 10]));
    assertThat(be.verify(Progress.NONE).problems()).isEmpty();
  }

  @org.junit.jupiter.api.AfterEach
  void close() {
    be.close();
  }

  @Test
  void aLogRecordDeletedInTheMiddleIsAGapNamedByVerifyAndRead() throws Exception {
    int sid = rb.logStore("events").sid;
    rb.db.delete(rb.logCf, Layout.logKey(sid, 4));
    assertThat(problems()).anyMatch(p -> p.contains("log:events") && p.contains("records 4 "));
    assertThatThrownBy(() -> be.log("events").read(0, 100))
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessageContaining("record 4 is missing");
  }

  @Test
  void theLastLogRecordDeletedIsReportedAndItsOffsetNeverReused() throws Exception {
    int sid = rb.logStore("events").sid;
    rb.db.delete(rb.logCf, Layout.logKey(sid, 9));
    be.close();
    be = Rocks.open(dir, "snapshot-chunk-size = 4KiB");
    rb = (RocksDbBackend) be;
    assertThat(problems()).anyMatch(p -> p.contains("log:events") && p.contains("records 9 "));
    assertThat(be.log("events").nextOffset()).isEqualTo(10);
    assertThatThrownBy(() -> be.log("events").read(5, 100))
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessageContaining("record 9 is missing");
    assertThat(be.log("events").append(b("new"))).isEqualTo(10);
  }

  @Test
  void aSnapshotChunkDeletedIsReportedWithTheChunk() throws Exception {
    long saveId = saveIdOf(1);
    rb.db.delete(rb.chunkCf, Layout.chunkKey(saveId, 1));
    assertThat(problems())
        .anyMatch(p -> p.contains("snapshot:snaps version 1") && p.contains("chunks [1]"));
  }

  @Test
  void anExtraChunkBeyondTheIndexIsReported() throws Exception {
    long saveId = saveIdOf(1);
    rb.db.put(rb.chunkCf, Layout.chunkKey(saveId, 7), new byte[10]);
    assertThat(problems())
        .anyMatch(p -> p.contains("snapshot:snaps version 1") && p.contains("beyond the last"));
  }

  @Test
  void aLostCatalogEntryIsReportedForEachColumnFamilyHoldingItsData() throws Exception {
    rb.db.delete(rb.metaCf, Layout.catalogKey("kv", "users"));
    rb.db.delete(rb.metaCf, Layout.catalogKey("log", "events"));
    be.close();
    be = Rocks.open(dir, "snapshot-chunk-size = 4KiB");
    rb = (RocksDbBackend) be;
    List<String> problems = problems();
    assertThat(problems)
        .anyMatch(p -> p.contains("'kv'") && p.contains("no catalog entry"))
        .anyMatch(p -> p.contains("'log'") && p.contains("no catalog entry"));
  }

  @Test
  void aCatalogEntryPointingAtAnotherKindsDataIsReported() throws Exception {
    int logSid = rb.logStore("events").sid;
    rb.db.put(rb.metaCf, Layout.catalogKey("kv", "users"), Layout.intBytes(logSid));
    be.close();
    be = Rocks.open(dir, "snapshot-chunk-size = 4KiB");
    rb = (RocksDbBackend) be;
    assertThat(problems()).anyMatch(p -> p.contains("both claim store id " + logSid));
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

  private long saveIdOf(long version) throws Exception {
    int sid = ((RocksSnapshotStore) be.snapshots("snaps")).sid;
    byte[] meta = rb.db.get(rb.snapCf, Layout.snapshotKey(sid, version));
    return Layout.getLong(meta, 0);
  }

  private List<String> problems() {
    List<String> p = be.verify(Progress.NONE).problems();
    System.out.println(p);
    return p;
  }
}
