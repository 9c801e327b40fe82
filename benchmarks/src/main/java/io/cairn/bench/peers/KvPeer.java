package io.cairn.bench.peers;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import io.cairn.bench.rocksdb.RawRocks;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentMap;
import net.openhft.chronicle.map.ChronicleMap;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.lmdbjava.Dbi;
import org.lmdbjava.DbiFlags;
import org.lmdbjava.Env;
import org.lmdbjava.EnvFlags;
import org.lmdbjava.Txn;
import org.mapdb.DB;
import org.mapdb.DBMaker;
import org.mapdb.Serializer;

/**
 * The key-value stores compared: Cairn's RocksDB and SQLite backends, the raw RocksDB engine and
 * the peers, each at its documented setting for "no fsync" and (where it has one) for "fsync per
 * commit". Each name's {@link Safety} is what the report groups by; {@link #note} says what the
 * setting is, so a reader can check it against the peer's documentation. {@code SyncCount} proves
 * the grouping by counting the sync system calls each one makes per put.
 *
 * <p>Every store lives in its own directory under {@link RawRocks#benchRoot()} (put it on the disk
 * to measure: {@code -Dcairn.bench.dir}), deleted on close.
 */
public enum KvPeer {
  CAIRN_ROCKSDB(Safety.NO_FSYNC, "Cairn RocksDB backend, durability = normal (WAL, no fsync)"),
  CAIRN_ROCKSDB_FULL(Safety.FSYNC_PER_COMMIT, "Cairn RocksDB backend, durability = full"),
  RAW_ROCKSDB(Safety.NO_FSYNC, "rocksdbjni, WAL on, WriteOptions.sync = false"),
  RAW_ROCKSDB_SYNC(Safety.FSYNC_PER_COMMIT, "rocksdbjni, WriteOptions.sync = true"),
  CAIRN_SQLITE(
      Safety.NO_FSYNC, "Cairn SQLite backend, durability = normal (WAL, synchronous=NORMAL)"),
  CAIRN_SQLITE_FULL(Safety.FSYNC_PER_COMMIT, "Cairn SQLite backend, durability = full"),
  MAPDB_HASH(
      Safety.NO_FSYNC,
      "MapDB 3.1 HTreeMap, mmap file, no transactions (a crash mid-write can corrupt the file)"),
  MAPDB_BTREE(
      Safety.NO_FSYNC,
      "MapDB 3.1 BTreeMap, mmap file, no transactions (a crash mid-write can corrupt the file)"),
  MAPDB_HASH_TX(Safety.FSYNC_PER_COMMIT, "MapDB 3.1 HTreeMap, transactionEnable(), commit per put"),
  MAPDB_BTREE_TX(
      Safety.FSYNC_PER_COMMIT, "MapDB 3.1 BTreeMap, transactionEnable(), commit per put"),
  MVSTORE(
      Safety.NO_FSYNC,
      "H2 MVStore, default auto-commit (background write after 1 s: a process crash loses it)"),
  MVSTORE_SYNC(Safety.FSYNC_PER_COMMIT, "H2 MVStore, auto-commit off, commit() + sync() per put"),
  LMDB(
      Safety.NO_FSYNC,
      "LMDB (lmdbjava), MDB_NOSYNC, one write transaction per put (the O_DSYNC file LMDB opens is"
          + " its meta-page handle, unused under MDB_NOSYNC)"),
  LMDB_SYNC(Safety.FSYNC_PER_COMMIT, "LMDB (lmdbjava), default flags (fsync per transaction)"),
  CHRONICLE_MAP(
      Safety.NO_FSYNC,
      "Chronicle Map, persisted to a memory-mapped file (no fsync mode documented)");

  final Safety safety;
  final String note;

  KvPeer(Safety safety, String note) {
    this.safety = safety;
    this.note = note;
  }

  /**
   * Thin adapter so one benchmark body drives every store. {@code put} and {@code get} may be
   * called by several threads at once (as the stores themselves allow: PeerSyncedWritersBenchmark
   * runs the fsync-per-commit group with 8 writers); {@code preload} and {@code close} by one.
   */
  public interface Kv extends AutoCloseable {
    byte[] get(byte[] key);

    void put(byte[] key, byte[] value);

    /** Loads every key with {@code value} in as few commits as the store allows, unsynced. */
    void preload(byte[][] keys, byte[] value);

    @Override
    void close();
  }

  /** Opens a fresh, empty store. */
  public Kv open() {
    Path dir;
    try {
      dir = Files.createTempDirectory(RawRocks.benchRoot(), "peer-" + name().toLowerCase());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      return switch (this) {
        case CAIRN_ROCKSDB -> cairn(dir, "rocksdb", "normal");
        case CAIRN_ROCKSDB_FULL -> cairn(dir, "rocksdb", "full");
        case CAIRN_SQLITE -> cairn(dir, "sqlite", "normal");
        case CAIRN_SQLITE_FULL -> cairn(dir, "sqlite", "full");
        case RAW_ROCKSDB -> rocks(dir, false);
        case RAW_ROCKSDB_SYNC -> rocks(dir, true);
        case MAPDB_HASH, MAPDB_BTREE, MAPDB_HASH_TX, MAPDB_BTREE_TX -> mapdb(dir);
        case MVSTORE, MVSTORE_SYNC -> mvstore(dir);
        case LMDB, LMDB_SYNC -> lmdb(dir);
        case CHRONICLE_MAP -> chronicle(dir);
      };
    } catch (RuntimeException | Error e) {
      RawRocks.deleteTree(dir);
      throw e;
    }
  }

  private static Kv cairn(Path dir, String type, String durability) {
    PersistenceRegistry registry =
        PersistenceRegistry.open(
            ConfigFactory.parseString(
                "cairn.backends.bench { type = "
                    + type
                    + ", durability = "
                    + durability
                    + ", data-dir = "
                    + ConfigUtil.quoteString(dir.resolve("db").toString())
                    + " }"));
    KeyValueStore store = registry.backend("bench").keyValue("bench");
    return new Kv() {
      @Override
      public byte[] get(byte[] key) {
        return store.get(key);
      }

      @Override
      public void put(byte[] key, byte[] value) {
        store.put(key, value);
      }

      @Override
      public void preload(byte[][] keys, byte[] value) {
        List<KeyValue> batch = new ArrayList<>();
        for (byte[] k : keys) {
          batch.add(new KeyValue(k, value));
          if (batch.size() == 10_000) {
            store.putAll(batch);
            batch.clear();
          }
        }
        if (!batch.isEmpty()) {
          store.putAll(batch);
        }
      }

      @Override
      public void close() {
        registry.close();
        RawRocks.deleteTree(dir);
      }
    };
  }

  private static Kv rocks(Path dir, boolean sync) {
    RawRocks.deleteTree(dir); // RawRocks makes its own directory
    RawRocks raw = new RawRocks(sync);
    return new Kv() {
      @Override
      public byte[] get(byte[] key) {
        return raw.get(key);
      }

      @Override
      public void put(byte[] key, byte[] value) {
        raw.put(key, value);
      }

      @Override
      public void preload(byte[][] keys, byte[] value) {
        raw.putUnsynced(keys, value);
      }

      @Override
      public void close() {
        raw.close();
      }
    };
  }

  private Kv mapdb(Path dir) {
    boolean tx = this == MAPDB_HASH_TX || this == MAPDB_BTREE_TX;
    boolean hash = this == MAPDB_HASH || this == MAPDB_HASH_TX;
    DBMaker.Maker maker = DBMaker.fileDB(dir.resolve("mapdb").toFile()).fileChannelEnable();
    if (tx) {
      maker = maker.transactionEnable();
    } else {
      maker = maker.fileMmapEnableIfSupported().fileMmapPreclearDisable().cleanerHackEnable();
    }
    DB db = maker.make();
    ConcurrentMap<byte[], byte[]> map =
        hash
            ? db.hashMap("bench", Serializer.BYTE_ARRAY, Serializer.BYTE_ARRAY).createOrOpen()
            : db.treeMap("bench", Serializer.BYTE_ARRAY, Serializer.BYTE_ARRAY).createOrOpen();
    return new Kv() {
      @Override
      public byte[] get(byte[] key) {
        return map.get(key);
      }

      @Override
      public void put(byte[] key, byte[] value) {
        map.put(key, value);
        if (tx) {
          db.commit();
        }
      }

      @Override
      public void preload(byte[][] keys, byte[] value) {
        for (byte[] k : keys) {
          map.put(k, value);
        }
        if (tx) {
          db.commit();
        }
      }

      @Override
      public void close() {
        db.close();
        RawRocks.deleteTree(dir);
      }
    };
  }

  private Kv mvstore(Path dir) {
    boolean sync = this == MVSTORE_SYNC;
    MVStore.Builder builder = new MVStore.Builder().fileName(dir.resolve("mv.db").toString());
    if (sync) {
      builder = builder.autoCommitDisabled();
    }
    MVStore store = builder.open();
    MVMap<byte[], byte[]> map = store.openMap("bench");
    return new Kv() {
      @Override
      public byte[] get(byte[] key) {
        return map.get(key);
      }

      @Override
      public void put(byte[] key, byte[] value) {
        map.put(key, value);
        if (sync) {
          store.commit();
          store.sync();
        }
      }

      @Override
      public void preload(byte[][] keys, byte[] value) {
        for (byte[] k : keys) {
          map.put(k, value);
        }
        store.commit();
      }

      @Override
      public void close() {
        store.close();
        RawRocks.deleteTree(dir);
      }
    };
  }

  private Kv lmdb(Path dir) {
    Env<ByteBuffer> env =
        this == LMDB_SYNC
            ? Env.create().setMapSize(4L << 30).setMaxDbs(1).open(dir.toFile())
            : Env.create()
                .setMapSize(4L << 30)
                .setMaxDbs(1)
                .open(dir.toFile(), EnvFlags.MDB_NOSYNC);
    Dbi<ByteBuffer> dbi = env.openDbi("bench", DbiFlags.MDB_CREATE);
    // a thread's own buffers: several writers put at once in PeerSyncedWritersBenchmark
    ThreadLocal<ByteBuffer> keyBufs = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(511));
    ThreadLocal<ByteBuffer> valueBufs =
        ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(4096));
    return new Kv() {
      private ByteBuffer key(byte[] key) {
        ByteBuffer keyBuf = keyBufs.get();
        keyBuf.clear();
        keyBuf.put(key).flip();
        return keyBuf;
      }

      @Override
      public byte[] get(byte[] key) {
        try (Txn<ByteBuffer> txn = env.txnRead()) {
          ByteBuffer found = dbi.get(txn, key(key));
          if (found == null) {
            return null;
          }
          byte[] copy = new byte[found.remaining()];
          found.get(copy);
          return copy;
        }
      }

      @Override
      public void put(byte[] key, byte[] value) {
        ByteBuffer valueBuf = valueBufs.get();
        valueBuf.clear();
        valueBuf.put(value).flip();
        dbi.put(key(key), valueBuf);
      }

      @Override
      public void preload(byte[][] keys, byte[] value) {
        ByteBuffer valueBuf = valueBufs.get();
        valueBuf.clear();
        valueBuf.put(value).flip();
        try (Txn<ByteBuffer> txn = env.txnWrite()) {
          for (byte[] k : keys) {
            dbi.put(txn, key(k), valueBuf);
          }
          txn.commit();
        }
      }

      @Override
      public void close() {
        env.close();
        RawRocks.deleteTree(dir);
      }
    };
  }

  private static Kv chronicle(Path dir) {
    ChronicleMap<byte[], byte[]> map;
    try {
      map =
          ChronicleMap.of(byte[].class, byte[].class)
              .name("bench")
              .entries(Long.getLong("cairn.bench.peers.maxEntries", 2_000_000L))
              .averageKeySize(16)
              .averageValueSize(100)
              .createPersistedTo(dir.resolve("chronicle.map").toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Kv() {
      @Override
      public byte[] get(byte[] key) {
        return map.get(key);
      }

      @Override
      public void put(byte[] key, byte[] value) {
        map.put(key, value);
      }

      @Override
      public void preload(byte[][] keys, byte[] value) {
        for (byte[] k : keys) {
          map.put(k, value);
        }
      }

      @Override
      public void close() {
        map.close();
        RawRocks.deleteTree(dir);
      }
    };
  }
}
