package io.cairn.persistence.spi;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.Durability;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The records below a log's first offset are dropped after each truncation starting where the
 * previous drop ended, not at offset 0: an engine that keeps a tombstone per deleted key until
 * compaction (RocksDB) would otherwise walk every earlier truncation's tombstones again on each
 * one, and a queue truncates its log all the time. After open the first drop starts at 0 (a crash
 * may have left records below the first offset).
 */
class DropTruncatedTest {
  private static final StoreId LOG = new StoreId(StoreKind.LOG, "events");

  /** Records the offset each scan of the log's records starts at. */
  private static final class ScanRecordingEngine extends TreeMapEngine {
    final List<Long> scansFrom = new CopyOnWriteArrayList<>();

    @Override
    public synchronized List<Record> range(StoreId store, byte[] from, byte[] to, int limit) {
      if (store.equals(LOG) && from.length == 8) {
        scansFrom.add(ByteBuffer.wrap(from).getLong());
      }
      return super.range(store, from, to, limit);
    }

    int records(StoreId store) {
      return super.range(store, new byte[0], null, Integer.MAX_VALUE).size();
    }
  }

  private static StorageBackend open(ScanRecordingEngine engine) {
    return EngineBackend.open(
        BackendContext.builder("drops", "drops").durability(Durability.NONE).build(),
        "drops",
        engine,
        EngineBackend.Options.builder(Durability.NONE).build());
  }

  @Test
  void eachDropStartsWhereThePreviousOneEnded() {
    ScanRecordingEngine engine = new ScanRecordingEngine();
    StorageBackend backend = open(engine);
    try {
      LogStore log = backend.log("events");
      for (int i = 0; i < 20; i++) {
        log.append(new byte[] {(byte) i});
      }
      int withPosition = engine.records(LOG); // 20 records and the position

      engine.scansFrom.clear();
      assertThat(log.truncateBefore(5)).isEqualTo(5);
      assertThat(engine.scansFrom).as("the first drop after open").containsExactly(0L);

      engine.scansFrom.clear();
      assertThat(log.truncateBefore(12)).isEqualTo(7);
      assertThat(engine.scansFrom).as("the next drop").containsExactly(5L);
      assertThat(engine.records(LOG)).isEqualTo(withPosition - 12);
      assertThat(log.read(0, 100)).hasSize(8).first().extracting(r -> r.offset()).isEqualTo(12L);

      engine.scansFrom.clear();
      assertThat(log.truncateBefore(12)).isZero();
      assertThat(engine.scansFrom).as("nothing truncated, nothing scanned").isEmpty();
    } finally {
      backend.close();
    }
  }

  @Test
  void aDropAfterReopenStartsAtZeroAndDeletesWhatACrashLeftBelowTheFirstOffset() {
    ScanRecordingEngine engine = new ScanRecordingEngine();
    StorageBackend first = open(engine);
    LogStore log = first.log("events");
    for (int i = 0; i < 10; i++) {
      log.append(new byte[] {(byte) i});
    }
    log.truncateBefore(4);
    first.close();
    // as a crash between the truncation's commit point and its drop: records 0-3 back in place
    for (long offset = 0; offset < 4; offset++) {
      engine.write(
          List.of(
              new StorageEngine.Write(
                  LOG, BaseLogStore.key(offset), engine.get(LOG, BaseLogStore.key(4)))),
          Durability.NONE);
    }

    engine.scansFrom.clear();
    StorageBackend again = open(engine);
    try {
      LogStore reopened = again.log("events");
      assertThat(reopened.truncateBefore(6)).isEqualTo(2);
      assertThat(engine.scansFrom).containsExactly(0L);
      assertThat(engine.records(LOG)).as("offsets 6-9 and the position").isEqualTo(5);
    } finally {
      again.close();
    }
  }
}
