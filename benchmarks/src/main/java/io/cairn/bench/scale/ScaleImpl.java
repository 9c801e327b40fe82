package io.cairn.bench.scale;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import io.cairn.bench.rocksdb.RawRocks;
import io.cairn.bench.sqlite.SqliteBench;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.PersistenceRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.rocksdb.RocksIterator;

/**
 * The stores of the scale benchmarks, each opened on a persistent data set of {@link ScaleData}
 * (closing keeps the files). Cairn stores are opened through the registry with {@code durability =
 * normal} and default settings, as a service opens them. The raw baselines are configured as the
 * per-engine benchmarks configure theirs ({@code io.cairn.bench.rocksdb.RawRocks}: Cairn's RocksDB
 * defaults; {@code io.cairn.bench.sqlite.SqliteBench.Raw}: WAL, synchronous=NORMAL, a {@code
 * WITHOUT ROWID} table and reused prepared statements). Those helpers create and delete a temporary
 * directory per trial, so they cannot hold a data set across runs; this class opens the same
 * configurations on a given directory.
 */
enum ScaleImpl {
  CAIRN_ROCKSDB,
  RAW_ROCKSDB,
  CAIRN_SQLITE,
  RAW_SQLITE,
  /** Cairn's log store on RocksDB (log replay only). */
  CAIRN_ROCKSDB_LOG,
  /** Cairn's log store on SQLite (log replay only). */
  CAIRN_SQLITE_LOG,
  /**
   * rocksdbjni with 8-byte big-endian offsets as keys, read with one iterator (log replay only).
   */
  RAW_ROCKSDB_LOG;

  static final int READ_PAGE = 1000;

  boolean isLog() {
    return name().endsWith("_LOG");
  }

  /** A key-value data set, open. Thread-safe. */
  interface Kv extends AutoCloseable {
    byte[] get(byte[] key);

    void put(byte[] key, byte[] value);

    @Override
    void close();
  }

  /** A log data set, open. */
  interface Log extends AutoCloseable {
    /** Reads every record from offset 0 and returns how many there were. */
    long replay();

    @Override
    void close();
  }

  /** Builds this data set with {@code entries} entries when absent; returns what was built. */
  ScaleData.Build ensure(long entries) {
    return ScaleData.ensure(name(), entries, this::build);
  }

  Path dataDir(long entries) {
    return ScaleData.dir(name(), entries).resolve("data");
  }

  Kv openKv(long entries) {
    Path dir = dataDir(entries);
    return switch (this) {
      case CAIRN_ROCKSDB -> new CairnKv(dir, "rocksdb");
      case CAIRN_SQLITE -> new CairnKv(dir, "sqlite");
      case RAW_ROCKSDB -> new RawRocksKv(dir);
      case RAW_SQLITE -> new RawSqliteKv(dir);
      default -> throw new IllegalArgumentException(this + " is a log, not a key-value store");
    };
  }

  Log openLog(long entries) {
    Path dir = dataDir(entries);
    return switch (this) {
      case CAIRN_ROCKSDB_LOG -> new CairnLog(dir, "rocksdb");
      case CAIRN_SQLITE_LOG -> new CairnLog(dir, "sqlite");
      case RAW_ROCKSDB_LOG -> new RawRocksLog(dir);
      default -> throw new IllegalArgumentException(this + " is a key-value store, not a log");
    };
  }

  /** Opens (creating) the store and writes the entries in large batches, unsynced. */
  private void build(Path dir, long entries) {
    if (isLog()) {
      try (Log log = openLog(entries)) {
        if (log instanceof CairnLog c) {
          List<byte[]> batch = new ArrayList<>();
          for (long i = 0; i < entries; i++) {
            batch.add(ScaleData.value(i));
            if (batch.size() == 10_000) {
              c.log.appendAll(batch);
              batch.clear();
            }
          }
          c.log.appendAll(batch);
        } else {
          RawRocksLog r = (RawRocksLog) log;
          load(r.rocks, entries, true);
        }
      }
      return;
    }
    try (Kv kv = openKv(entries)) {
      if (kv instanceof CairnKv c) {
        List<KeyValue> batch = new ArrayList<>();
        for (long i = 0; i < entries; i++) {
          batch.add(new KeyValue(ScaleData.key(i), ScaleData.value(i)));
          if (batch.size() == 10_000) {
            c.store.putAll(batch);
            batch.clear();
          }
        }
        c.store.putAll(batch);
      } else if (kv instanceof RawRocksKv r) {
        load(r.rocks, entries, false);
      } else {
        ((RawSqliteKv) kv).load(entries);
      }
    }
  }

  private static PersistenceRegistry registry(Path dir, String type) {
    return PersistenceRegistry.open(
        ConfigFactory.parseString(
            "cairn.backends.scale { type = "
                + type
                + ", durability = normal, data-dir = "
                + ConfigUtil.quoteString(dir.toString())
                + " }"));
  }

  private static final class CairnKv implements Kv {
    private final PersistenceRegistry registry;
    final KeyValueStore store;

    CairnKv(Path dir, String type) {
      registry = registry(dir, type);
      store = registry.backend("scale").keyValue("scale");
    }

    @Override
    public byte[] get(byte[] key) {
      return store.get(key);
    }

    @Override
    public void put(byte[] key, byte[] value) {
      store.put(key, value);
    }

    @Override
    public void close() {
      registry.close();
    }
  }

  private static final class CairnLog implements Log {
    private final PersistenceRegistry registry;
    final LogStore log;

    CairnLog(Path dir, String type) {
      registry = registry(dir, type);
      log = registry.backend("scale").log("scale");
    }

    @Override
    public long replay() {
      long n = 0;
      long next = 0;
      while (true) {
        List<LogRecord> page = log.read(next, READ_PAGE);
        if (page.isEmpty()) {
          return n;
        }
        for (LogRecord r : page) {
          n += r.payload().length > 0 ? 1 : 0;
        }
        next = page.get(page.size() - 1).offset() + 1;
      }
    }

    @Override
    public void close() {
      registry.close();
    }
  }

  /**
   * rocksdbjni with the options of {@link RawRocks} (Cairn's defaults), in a kept directory,
   * unsynced writes.
   */
  private static RawRocks rawRocks(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("raw RocksDB at " + dir, e);
    }
    return new RawRocks(dir, false, false);
  }

  /** Writes entries 0..n-1 (a log: 8-byte offset keys), unsynced. */
  private static void load(RawRocks rocks, long n, boolean log) {
    rocks.putUnsynced(
        n,
        i -> log ? java.nio.ByteBuffer.allocate(8).putLong(i).array() : ScaleData.key(i),
        ScaleData::value);
  }

  private static final class RawRocksKv implements Kv {
    final RawRocks rocks;

    RawRocksKv(Path dir) {
      rocks = rawRocks(dir);
    }

    @Override
    public byte[] get(byte[] key) {
      return rocks.get(key);
    }

    @Override
    public void put(byte[] key, byte[] value) {
      rocks.put(key, value);
    }

    @Override
    public void close() {
      rocks.close();
    }
  }

  private static final class RawRocksLog implements Log {
    final RawRocks rocks;

    RawRocksLog(Path dir) {
      rocks = rawRocks(dir);
    }

    @Override
    public long replay() {
      long n = 0;
      try (RocksIterator it = rocks.db().newIterator(rocks.readOptions())) {
        for (it.seekToFirst(); it.isValid(); it.next()) {
          n += it.value().length > 0 ? 1 : 0;
        }
      }
      return n;
    }

    @Override
    public void close() {
      rocks.close();
    }
  }

  /** Raw sqlite-jdbc: {@link SqliteBench.Raw} (the strict baseline) on a kept directory. */
  private static final class RawSqliteKv implements Kv {
    private final SqliteBench.Raw raw;

    RawSqliteKv(Path dir) {
      try {
        Files.createDirectories(dir);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException("raw SQLite at " + dir, e);
      }
      raw = new SqliteBench.Raw(dir, "normal", false, false);
    }

    @Override
    public byte[] get(byte[] key) {
      return raw.get(key);
    }

    @Override
    public void put(byte[] key, byte[] value) {
      raw.put(key, value);
    }

    void load(long n) {
      raw.load(n, ScaleData::key, ScaleData::value);
    }

    @Override
    public void close() {
      raw.close();
    }
  }
}
