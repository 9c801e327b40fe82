package io.cairn.bench.rocksdb;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.CompressionType;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteOptions;

/**
 * Bare rocksdbjni configured like Cairn's defaults (256 MiB LRU block cache with index and filter
 * blocks in it, 10-bit bloom filter, LZ4, the same write-buffer manager share, at most 1000 open
 * table files), so that a ratio against it measures Cairn's own work, not different tuning.
 */
public final class RawRocks implements AutoCloseable {
  static {
    RocksDB.loadLibrary();
  }

  final Path dir;
  final RocksDB db;
  final WriteOptions writeOptions;
  final ReadOptions readOptions;
  private final LRUCache cache;
  private final BloomFilter filter;
  private final Options options;
  private final org.rocksdb.WriteBufferManager wbm;
  private final boolean deleteOnClose;

  public RawRocks(boolean sync) {
    this(tempDir(), sync, true);
  }

  /**
   * A database in {@code dir} (created if absent); {@code deleteOnClose} removes the directory at
   * {@link #close()}, else it is kept for the next open.
   */
  public RawRocks(Path dir, boolean sync, boolean deleteOnClose) {
    this.dir = dir;
    this.deleteOnClose = deleteOnClose;
    try {
      cache = new LRUCache(256L << 20);
      wbm = new org.rocksdb.WriteBufferManager(64L << 20, cache);
      filter = new BloomFilter(10, false);
      BlockBasedTableConfig table = new BlockBasedTableConfig();
      table.setBlockCache(cache);
      table.setCacheIndexAndFilterBlocks(true);
      table.setPinL0FilterAndIndexBlocksInCache(true);
      table.setFilterPolicy(filter);
      options =
          new Options()
              .setCreateIfMissing(true)
              .setWriteBufferManager(wbm)
              .setTableFormatConfig(table)
              .setCompressionType(CompressionType.LZ4_COMPRESSION)
              .setWriteBufferSize(16L << 20)
              .setMaxWriteBufferNumber(3)
              .setMaxBackgroundJobs(2)
              .setMaxOpenFiles(1000);
      db = RocksDB.open(options, dir.toString());
      writeOptions = new WriteOptions().setSync(sync);
      readOptions = new ReadOptions();
    } catch (RocksDBException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Path tempDir() {
    try {
      return Files.createTempDirectory(benchRoot(), "raw-rocksdb");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public byte[] get(byte[] key) {
    try {
      return db.get(readOptions, key);
    } catch (RocksDBException e) {
      throw new IllegalStateException(e);
    }
  }

  public void put(byte[] key, byte[] value) {
    try {
      db.put(writeOptions, key, value);
    } catch (RocksDBException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Loads every key with {@code value} in write batches, without sync (benchmark setup). */
  public void putUnsynced(byte[][] keys, byte[] value) {
    putUnsynced(keys.length, i -> keys[(int) i], i -> value);
  }

  /**
   * Writes entries {@code 0..n-1} ({@code key(i)}, {@code value(i)}) in write batches of 10,000,
   * without sync (building a data set).
   */
  public void putUnsynced(
      long n,
      java.util.function.LongFunction<byte[]> key,
      java.util.function.LongFunction<byte[]> value) {
    try (WriteOptions unsynced = new WriteOptions();
        org.rocksdb.WriteBatch batch = new org.rocksdb.WriteBatch()) {
      for (long i = 0; i < n; i++) {
        batch.put(key.apply(i), value.apply(i));
        if (batch.count() == 10_000) {
          db.write(unsynced, batch);
          batch.clear();
        }
      }
      db.write(unsynced, batch);
    } catch (RocksDBException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The open database, for benchmarks that read it their own way (an iterator). */
  public RocksDB db() {
    return db;
  }

  /** The read options every read of this database uses. */
  public ReadOptions readOptions() {
    return readOptions;
  }

  @Override
  public void close() {
    readOptions.close();
    writeOptions.close();
    db.close();
    options.close();
    filter.close();
    wbm.close();
    cache.close();
    if (deleteOnClose) {
      deleteTree(dir);
    }
  }

  /**
   * Where benchmark databases live: {@code -Dcairn.bench.dir}, else the system temp directory. Put
   * it on the disk you want measured: synced-write numbers are meaningless on tmpfs.
   */
  public static Path benchRoot() throws IOException {
    Path root =
        Path.of(System.getProperty("cairn.bench.dir", System.getProperty("java.io.tmpdir")));
    Files.createDirectories(root);
    return root;
  }

  public static void deleteTree(Path root) {
    io.cairn.bench.BenchFiles.deleteTree(root);
  }
}
