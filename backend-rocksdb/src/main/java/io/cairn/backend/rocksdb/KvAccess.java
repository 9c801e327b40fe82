package io.cairn.backend.rocksdb;

import java.util.ArrayList;
import java.util.List;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteBatchWithIndex;

/**
 * Where one logical operation reads from and writes to: straight to the database with its writes
 * committed as one batch ({@link Direct}), or inside a transaction's {@link WriteBatchWithIndex}
 * whose reads see the transaction's own writes ({@link InBatch}). Callers are inside the backend's
 * guard.
 */
interface KvAccess {
  byte[] get(ColumnFamilyHandle cf, byte[] key) throws RocksDBException;

  /**
   * The first {@link Layout#KV_HEADER} bytes of the stored entry (version and expiry), or null if
   * absent. Lets a write learn the current version without copying the whole old value.
   */
  byte[] getHeader(ColumnFamilyHandle cf, byte[] key) throws RocksDBException;

  void put(ColumnFamilyHandle cf, byte[] key, byte[] value) throws RocksDBException;

  void delete(ColumnFamilyHandle cf, byte[] key) throws RocksDBException;

  /**
   * Reads committed data and buffers writes in Java; {@link #commit()} writes them atomically (a
   * single put or delete goes straight to RocksDB without building a native batch).
   */
  final class Direct implements KvAccess {
    private record Op(ColumnFamilyHandle cf, byte[] key, byte[] value) {}

    private final RocksDbBackend b;
    private final List<Op> ops = new ArrayList<>(2);

    Direct(RocksDbBackend b) {
      this.b = b;
    }

    @Override
    public byte[] get(ColumnFamilyHandle cf, byte[] key) throws RocksDBException {
      return b.db.get(cf, b.readOptions, key);
    }

    @Override
    public byte[] getHeader(ColumnFamilyHandle cf, byte[] key) throws RocksDBException {
      byte[] header = new byte[Layout.KV_HEADER];
      int n = b.db.get(cf, b.readOptions, key, header);
      if (n == RocksDB.NOT_FOUND) {
        return null;
      }
      if (n < Layout.KV_HEADER) {
        throw new io.cairn.persistence.StoreCorruptedException(
            b.describe
                + ": a key-value entry of "
                + n
                + " bytes is shorter than its 16-byte header. Run 'cairn verify'.");
      }
      return header;
    }

    @Override
    public void put(ColumnFamilyHandle cf, byte[] key, byte[] value) {
      ops.add(new Op(cf, key, value));
    }

    @Override
    public void delete(ColumnFamilyHandle cf, byte[] key) {
      ops.add(new Op(cf, key, null));
    }

    void commit() throws RocksDBException {
      if (ops.isEmpty()) {
        return;
      }
      if (ops.size() == 1) {
        Op op = ops.get(0);
        if (op.value() != null) {
          b.db.put(op.cf(), b.writeOptions(), op.key(), op.value());
        } else {
          b.db.delete(op.cf(), b.writeOptions(), op.key());
        }
        return;
      }
      try (WriteBatch batch = new WriteBatch()) {
        for (Op op : ops) {
          if (op.value() != null) {
            batch.put(op.cf(), op.key(), op.value());
          } else {
            batch.delete(op.cf(), op.key());
          }
        }
        b.db.write(b.writeOptions(), batch);
      }
    }
  }

  /** Reads through and writes into a transaction's indexed batch. */
  final class InBatch implements KvAccess {
    private final RocksDbBackend b;
    private final WriteBatchWithIndex batch;

    InBatch(RocksDbBackend b, WriteBatchWithIndex batch) {
      this.b = b;
      this.batch = batch;
    }

    @Override
    public byte[] get(ColumnFamilyHandle cf, byte[] key) throws RocksDBException {
      return batch.getFromBatchAndDB(b.db, cf, b.readOptions, key);
    }

    @Override
    public byte[] getHeader(ColumnFamilyHandle cf, byte[] key) throws RocksDBException {
      return get(cf, key);
    }

    @Override
    public void put(ColumnFamilyHandle cf, byte[] key, byte[] value) throws RocksDBException {
      batch.put(cf, key, value);
    }

    @Override
    public void delete(ColumnFamilyHandle cf, byte[] key) throws RocksDBException {
      batch.delete(cf, key);
    }
  }
}
