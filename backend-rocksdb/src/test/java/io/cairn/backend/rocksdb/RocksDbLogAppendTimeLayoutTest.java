package io.cairn.backend.rocksdb;

import static io.cairn.backend.rocksdb.Rocks.b;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.MetricRegistry;
import io.cairn.persistence.Durability;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreCorruptedException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.DBOptions;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksIterator;

/**
 * Layout 1 (log values = sealed payload only) is migrated at open to layout 3 (the base's untimed
 * 'L' records): old records read as "not recorded", new ones carry the clock's time, across reopen.
 * The layout-1 database is the layout-2 fixture {@code layout2-logs} with its log values and layout
 * version rewritten exactly as layout 1 stored them (see Layout).
 */
class RocksDbLogAppendTimeLayoutTest {
  @TempDir Path dir;

  private final Rocks.ManualClock clock = new Rocks.ManualClock(1_765_000_000_000L);

  private StorageBackend open() {
    return Rocks.open(dir, Durability.NORMAL, "", new MetricRegistry(), clock);
  }

  @Test
  void layoutOneLogsUpgradeWithoutRewritingAndNewRecordsCarryTheirTime() throws Exception {
    // fixture layout2-logs: events e0..e2, other o0, kv k=v, written by the layout-2 backend
    Rocks.copyFixture("layout2-logs", dir);
    downgradeToLayoutOne();

    clock.advance(Duration.ofMinutes(1));
    long t1 = clock.millis();
    try (StorageBackend backend = open()) {
      List<LogRecord> old = backend.log("events").read(0, 10);
      assertThat(old).extracting(r -> new String(r.payload())).containsExactly("e0", "e1", "e2");
      assertThat(old).allMatch(r -> r.appendedAtMillis() == LogRecord.NOT_RECORDED);
      assertThat(backend.log("events").append(b("e3"))).isEqualTo(3);
      backend.log("fresh").append(b("f0"));
      backend.inTransaction(tx -> tx.log("other").append(b("o1")));
      assertThat(backend.log("events").read(3, 1).get(0).appendedAtMillis()).isEqualTo(t1);
      assertThat(backend.verify(Progress.NONE).problems()).isEmpty();
    }
    clock.advance(Duration.ofMinutes(1));
    try (StorageBackend backend = open()) {
      assertThat(backend.log("events").read(0, 10))
          .extracting(LogRecord::appendedAtMillis)
          .containsExactly(-1L, -1L, -1L, t1);
      assertThat(backend.log("other").read(0, 10))
          .extracting(LogRecord::appendedAtMillis)
          .containsExactly(-1L, t1);
      assertThat(backend.log("fresh").read(0, 10).get(0).appendedAtMillis()).isEqualTo(t1);
      assertThat(backend.keyValue("kv").get(b("k"))).isEqualTo(b("v"));
    }
    assertThat(layoutVersion()).isEqualTo(RocksStorageEngine.LAYOUT_VERSION);
  }

  @Test
  void aTimedRecordTooShortForItsTimeIsCorruptionNotAPayload() throws Exception {
    Rocks.copyFixture("layout2-logs", dir); // the first record of the first log: events e0
    rewrite(
        (db, handles) -> {
          ColumnFamilyHandle log = handles.get(Layout.CF_LOG);
          try (RocksIterator it = db.newIterator(log)) {
            it.seekToFirst();
            db.put(log, it.key(), new byte[] {1, 2, 3});
          }
        });
    // the migration meets the record: the open refuses, layout 2 stays as it was
    assertThatThrownBy(this::open)
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessageContaining("log:events")
        .hasMessageContaining("record 0")
        .hasMessageContaining("append time");
    assertThat(layoutVersion()).isEqualTo(Layout.LAYOUT_VERSION);
  }

  /** Rewrites the database as layout 1 wrote it: log values without the time, version 1. */
  private void downgradeToLayoutOne() throws Exception {
    rewrite(
        (db, handles) -> {
          ColumnFamilyHandle log = handles.get(Layout.CF_LOG);
          List<byte[][]> rewritten = new ArrayList<>();
          try (RocksIterator it = db.newIterator(log)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
              byte[] v = it.value();
              rewritten.add(new byte[][] {it.key(), Arrays.copyOfRange(v, 8, v.length)});
            }
          }
          assertThat(rewritten).hasSize(4);
          for (byte[][] kv : rewritten) {
            db.put(log, kv[0], kv[1]);
          }
          db.put(
              handles.get("default"),
              Layout.LAYOUT_VERSION_KEY,
              Layout.intBytes(Layout.LAYOUT_VERSION_UNTIMED_LOGS));
        });
    assertThat(layoutVersion()).isEqualTo(1);
  }

  private int layoutVersion() throws Exception {
    int[] out = new int[1];
    rewrite(
        (db, handles) ->
            out[0] = Layout.getInt(db.get(handles.get("default"), Layout.LAYOUT_VERSION_KEY), 0));
    return out[0];
  }

  private interface Edit {
    void apply(RocksDB db, java.util.Map<String, ColumnFamilyHandle> handles) throws Exception;
  }

  private void rewrite(Edit edit) throws Exception {
    NativeLibrary.load();
    List<byte[]> names;
    try (Options o = new Options()) {
      names = RocksDB.listColumnFamilies(o, dir.toString());
    }
    List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
    for (byte[] n : names) {
      descriptors.add(new ColumnFamilyDescriptor(n));
    }
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    try (DBOptions options = new DBOptions();
        RocksDB db = RocksDB.open(options, dir.toString(), descriptors, handles)) {
      java.util.Map<String, ColumnFamilyHandle> byName = new java.util.HashMap<>();
      for (int i = 0; i < names.size(); i++) {
        byName.put(
            new String(names.get(i), java.nio.charset.StandardCharsets.US_ASCII), handles.get(i));
      }
      edit.apply(db, byName);
      for (ColumnFamilyHandle h : handles) {
        h.close();
      }
    }
  }
}
