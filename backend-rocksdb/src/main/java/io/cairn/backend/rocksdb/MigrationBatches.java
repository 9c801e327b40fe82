package io.cairn.backend.rocksdb;

import java.util.function.IntConsumer;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * The batches a layout migration writes ({@link Layout2Migration}, {@link Layout3Migration}): its
 * records are gathered into one native {@code WriteBatch} until it holds {@code maxRecords} records
 * or {@code maxBytes} bytes of keys and values, then written, so a migration of any size holds a
 * bounded amount of memory. Each write is atomic and unsynced: the migration's commit point (a
 * synced write after a flush) is what makes the whole copy durable. Used by one thread, the one
 * opening the engine; {@link #close} releases the native batch.
 */
final class MigrationBatches implements AutoCloseable {
  private final RocksStorageEngine e;
  private final int maxRecords;
  private final int maxBytes;
  private final IntConsumer afterWrite;
  private WriteBatch batch = new WriteBatch();
  private int records;
  private long bytes;
  private int written;

  /**
   * @param afterWrite called after each batch is written, with the number written so far (progress
   *     logs, test hooks)
   */
  MigrationBatches(RocksStorageEngine e, int maxRecords, int maxBytes, IntConsumer afterWrite) {
    this.e = e;
    this.maxRecords = maxRecords;
    this.maxBytes = maxBytes;
    this.afterWrite = afterWrite;
  }

  /** The batch being filled: add one record's writes to it, then call {@link #added}. */
  WriteBatch batch() {
    return batch;
  }

  /** Counts one record of {@code recordBytes} added to {@link #batch()}; writes it when full. */
  void added(long recordBytes) throws RocksDBException {
    bytes += recordBytes;
    if (++records >= maxRecords || bytes >= maxBytes) {
      write();
    }
  }

  /** Writes what {@link #batch()} holds, if anything, and starts an empty one. */
  void write() throws RocksDBException {
    if (records == 0) {
      return;
    }
    e.db.write(e.writeOptions(), batch);
    batch.close();
    batch = new WriteBatch();
    records = 0;
    bytes = 0;
    afterWrite.accept(++written);
  }

  /** The batches written so far. */
  int written() {
    return written;
  }

  @Override
  public void close() {
    batch.close();
  }
}
