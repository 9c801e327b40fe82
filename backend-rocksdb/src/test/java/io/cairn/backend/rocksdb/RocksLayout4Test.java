package io.cairn.backend.rocksdb;

import static io.cairn.backend.rocksdb.Rocks.b;
import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.Durability;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.StorageEngine;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.FlushOptions;
import org.rocksdb.LiveFileMetaData;

/**
 * Layout 4 ({@link RocksStorageEngine}'s class comment): the base's bookkeeping records live in
 * column family {@code base}, so data written in key order flushes to files of {@code records}
 * whose key ranges do not overlap (what lets RocksDB move them down untouched), while the engine's
 * contract (a log's range from the empty key starts with its position) is unchanged.
 */
class RocksLayout4Test {
  @TempDir Path dir;

  private static final StoreId LOG = new StoreId(StoreKind.LOG, "l");

  /**
   * A log appended in batches, flushed after each, compactions off: every file of {@code records}
   * holds only that batch's offsets, so no two overlap (layout 3 put the log's position, rewritten
   * by every append, in each of them: every file overlapped every other).
   */
  @Test
  void aLogWrittenInOrderFlushesToFilesOfRecordsThatDoNotOverlap() throws Exception {
    try (Rocks.WithEngine w =
        Rocks.withEngine(dir, "advanced.cf-options { disable_auto_compactions = true }")) {
      for (int batch = 0; batch < 5; batch++) {
        List<byte[]> payloads = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
          payloads.add(b("record " + batch + "." + i));
        }
        w.backend().log("events").appendAll(payloads);
        try (FlushOptions fo = new FlushOptions().setWaitForFlush(true)) {
          w.engine().db.flush(fo, w.engine().allCfs);
        }
      }
      List<LiveFileMetaData> files = new ArrayList<>();
      for (LiveFileMetaData f : w.engine().db.getLiveFilesMetaData()) {
        if (new String(f.columnFamilyName(), java.nio.charset.StandardCharsets.UTF_8)
            .equals(RocksStorageEngine.CF_RECORDS)) {
          files.add(f);
        }
      }
      assertThat(files).as("one file of records per flush").hasSize(5);
      files.sort(Comparator.comparing(LiveFileMetaData::smallestKey, Arrays::compareUnsigned));
      for (int i = 1; i < files.size(); i++) {
        assertThat(
                Arrays.compareUnsigned(files.get(i - 1).largestKey(), files.get(i).smallestKey()))
            .as("file %d ends before file %d starts", i - 1, i)
            .isNegative();
      }
      assertThat(w.backend().log("events").read(0, 2_000)).hasSize(1_000);
    }
  }

  /**
   * {@code range} of a log from the empty key returns the position (in {@code base}) first, then
   * the records (in {@code records}); from any other key only records; the limit counts both; a
   * snapshot's range the same.
   */
  @Test
  void aLogsRangeFromTheEmptyKeyStartsWithItsPosition() {
    BackendContext ctx =
        BackendContext.builder("eng", RocksDbBackendProvider.TYPE)
            .dataDir(dir)
            .durability(Durability.NORMAL)
            .config(ConfigFactory.empty())
            .build();
    try (RocksStorageEngine e = RocksStorageEngine.open(ctx, RocksDbBackendProvider.config(ctx))) {
      e.write(
          List.of(
              new StorageEngine.Write(LOG, offset(0), b("r0")),
              new StorageEngine.Write(LOG, offset(1), b("r1")),
              new StorageEngine.Write(LOG, new byte[0], b("pos"))),
          Durability.NORMAL);
      assertThat(e.get(LOG, new byte[0])).isEqualTo(b("pos"));
      assertThat(values(e.range(LOG, new byte[0], null, 10))).containsExactly("pos", "r0", "r1");
      assertThat(keys(e.range(LOG, new byte[0], null, 10)).get(0)).isEmpty();
      assertThat(values(e.range(LOG, new byte[0], null, 1))).containsExactly("pos");
      assertThat(values(e.range(LOG, new byte[0], offset(1), 10))).containsExactly("pos", "r0");
      assertThat(values(e.range(LOG, offset(1), null, 10))).containsExactly("r1");
      assertThat(e.range(LOG, new byte[0], new byte[0], 10)).isEmpty();
      try (StorageEngine.Snapshot s = e.snapshot()) {
        e.write(List.of(new StorageEngine.Write(LOG, new byte[0], b("pos2"))), Durability.NORMAL);
        assertThat(values(s.range(LOG, new byte[0], null, 10))).containsExactly("pos", "r0", "r1");
      }
      assertThat(values(e.range(LOG, new byte[0], null, 10))).containsExactly("pos2", "r0", "r1");
      assertThat(e.stores()).containsExactly(LOG);
      e.write(
          List.of(
              new StorageEngine.Write(LOG, offset(0), null),
              new StorageEngine.Write(LOG, offset(1), null)),
          Durability.NORMAL);
      assertThat(e.stores()).as("a log with only its position is listed").containsExactly(LOG);
    }
  }

  private static byte[] offset(long o) {
    return ByteBuffer.allocate(8).putLong(o).array();
  }

  private static List<String> values(List<StorageEngine.Record> records) {
    return records.stream().map(r -> Rocks.s(r.value())).toList();
  }

  private static List<byte[]> keys(List<StorageEngine.Record> records) {
    return records.stream().map(StorageEngine.Record::key).toList();
  }
}
