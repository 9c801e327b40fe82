package io.cairn.bench.rocksdb;

import io.cairn.persistence.spi.CoarseClock;
import io.cairn.persistence.spi.EngineRecords;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import org.rocksdb.AbstractEventListener;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompactionJobInfo;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.FlushJobInfo;
import org.rocksdb.InfoLogLevel;
import org.rocksdb.LRUCache;
import org.rocksdb.MemTableInfo;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.TableFileCreationInfo;
import org.rocksdb.WALRecoveryMode;
import org.rocksdb.WriteBufferManager;
import org.rocksdb.WriteOptions;

/**
 * The control for {@link RocksDbThreadsBenchmark}: bare rocksdbjni configured the way Cairn's
 * RocksDB backend configures itself at {@code durability = none} with its defaults ({@code
 * RocksEngine.openNatives}, {@code RocksOptions}), written the way Cairn writes a plain put, and
 * none of Cairn's Java code around it (no registry, guard, stripe lock or version sequence). What
 * it copies:
 *
 * <ul>
 *   <li>DB options: {@code track_and_verify_wals_in_manifest} and {@code track_and_verify_wals}
 *       (set by name, as Cairn does), create missing column families, a 64 MiB write-buffer manager
 *       charged to a 256 MiB LRU cache (not strict), {@code atomic_flush}, WAL recovery
 *       point-in-time (Cairn's at {@code none}), 2 background jobs, 1000 open files, 3 info logs at
 *       WARN, {@code max_total_wal_size} 256 MiB; a Java event listener with the same five
 *       callbacks as Cairn's {@code FileModeListener}, doing the same work (a sweep of the
 *       directory setting every file to 0600 after each table file, flush, compaction and memtable
 *       switch).
 *   <li>Column families: layout 4's three ({@code default, records, base}), each with LZ4, a 16 MiB
 *       write buffer, 3 write buffers, the shared block cache with index and filter blocks in it
 *       (L0's pinned) and a 10-bit bloom filter; puts go to {@code records}.
 *   <li>Writes: {@code disableWAL = true}, one {@code put(cf, key, value)} per put, the key framed
 *       as layout 4 frames a key-value store's key ({@code EngineKeys}: kind 1, the name's length
 *       as two bytes, the name {@code bench}, then the caller's key: 24 bytes) and the value as the
 *       base frames an entry ({@link EngineRecords#entry}, the very code: tag, flags, version,
 *       expiry, value; no CRC trailer, RocksDB checksums its blocks: 118 bytes), both built per
 *       put.
 * </ul>
 *
 * <p>System property {@value #DROP}: a comma list of differences from Cairn's configuration to
 * drop, for bisecting which one costs: {@code atomic-flush} (off), {@code listener} (none), {@code
 * one-cf} (only the default column family, written to), {@code wal-tracking} (RocksDB's defaults),
 * {@code framing} (the caller's 16-byte key and 100-byte value as they are; {@code key-prefix}
 * drops only the key's store prefix, {@code value-header} only the value's frame), {@code alloc}
 * (keep the framed shape, but the framed arrays are built once per key at setup, so a put allocates
 * nothing, as raw's). And {@value #ADD}: {@code clock} runs the registry's coarse clock (a thread
 * waking every millisecond) while the database is open, as an open registry does.
 */
final class RawRocksAsCairn implements AutoCloseable {
  static final String DROP = "cairn.bench.rocksdb.control.drop";
  static final String ADD = "cairn.bench.rocksdb.control.add";

  /** The differences {@value #DROP} may name. */
  enum Feature {
    ATOMIC_FLUSH,
    LISTENER,
    ONE_CF,
    WAL_TRACKING,
    FRAMING,
    KEY_PREFIX,
    VALUE_HEADER,
    ALLOC;

    static Set<Feature> parse(String list) {
      Set<Feature> s = EnumSet.noneOf(Feature.class);
      for (String name : list.split(",")) {
        String n = name.trim();
        if (n.isEmpty()) {
          continue;
        }
        try {
          s.add(valueOf(n.toUpperCase(Locale.ROOT).replace('-', '_')));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(
              "-D"
                  + DROP
                  + ": unknown difference '"
                  + n
                  + "'; use a comma list of atomic-flush, listener, one-cf, wal-tracking, framing,"
                  + " alloc",
              e);
        }
      }
      return s;
    }
  }

  /** Layout 4's prefix of store {@code bench}'s keys: kind 1, name length 5, the name. */
  private static final byte[] PREFIX = {1, 0, 5, 'b', 'e', 'n', 'c', 'h'};

  /** The base's framing, as a RocksDB engine gets it (it checksums records itself). */
  private static final EngineRecords RECORDS = new EngineRecords("bench", true);

  /** The framed value's bytes before the caller's value. */
  private static final int HEADER =
      RECORDS.entry("bench", new byte[1], 1, 0, new byte[0]).value().length;

  final Set<Feature> dropped;
  private final Path dir;
  private final List<AutoCloseable> natives = new ArrayList<>();
  private final RocksDB db;
  private final ColumnFamilyHandle cf;
  private final WriteOptions writeOptions;
  private final ReadOptions readOptions;
  private final CoarseClock clock;

  RawRocksAsCairn() {
    dropped = Feature.parse(System.getProperty(DROP, ""));
    String add = System.getProperty(ADD, "").trim();
    if (!add.isEmpty() && !add.equals("clock")) {
      throw new IllegalArgumentException("-D" + ADD + ": only 'clock' is known, got '" + add + "'");
    }
    try {
      dir = Files.createTempDirectory(RawRocks.benchRoot(), "raw-as-cairn");
      Files.setPosixFilePermissions(dir, EnumSet.copyOf(OWNER_RWX));
      LRUCache cache = track(new LRUCache(256L << 20, -1, false));
      WriteBufferManager wbm = track(new WriteBufferManager(64L << 20, cache));
      Properties props = new Properties();
      if (!dropped.contains(Feature.WAL_TRACKING)) {
        props.put("track_and_verify_wals_in_manifest", "true");
        props.put("track_and_verify_wals", "true");
      }
      DBOptions dbOptions =
          track(props.isEmpty() ? new DBOptions() : DBOptions.getDBOptionsFromProps(props));
      if (!dropped.contains(Feature.LISTENER)) {
        dbOptions.setListeners(List.of(track(new Sweeper(dir))));
      }
      dbOptions
          .setCreateIfMissing(true)
          .setCreateMissingColumnFamilies(true)
          .setWriteBufferManager(wbm)
          .setAtomicFlush(!dropped.contains(Feature.ATOMIC_FLUSH))
          .setWalRecoveryMode(WALRecoveryMode.PointInTimeRecovery)
          .setMaxBackgroundJobs(2)
          .setMaxOpenFiles(1000)
          .setKeepLogFileNum(3)
          .setInfoLogLevel(InfoLogLevel.WARN_LEVEL)
          .setMaxTotalWalSize(256L << 20);
      ColumnFamilyOptions cfOptions = track(new ColumnFamilyOptions());
      BlockBasedTableConfig table = new BlockBasedTableConfig();
      table.setBlockCache(cache);
      table.setCacheIndexAndFilterBlocks(true);
      table.setPinL0FilterAndIndexBlocksInCache(true);
      table.setFilterPolicy(track(new BloomFilter(10, false)));
      cfOptions
          .setTableFormatConfig(table)
          .setCompressionType(CompressionType.LZ4_COMPRESSION)
          .setWriteBufferSize(16L << 20)
          .setMaxWriteBufferNumber(3);
      List<String> names =
          dropped.contains(Feature.ONE_CF)
              ? List.of("default")
              : List.of("default", "records", "base");
      List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
      for (String n : names) {
        descriptors.add(new ColumnFamilyDescriptor(n.getBytes(), cfOptions));
      }
      List<ColumnFamilyHandle> handles = new ArrayList<>();
      db = track(RocksDB.open(dbOptions, dir.toString(), descriptors, handles));
      handles.forEach(this::track);
      cf = handles.get(names.size() == 1 ? 0 : 1);
      writeOptions = track(new WriteOptions().setDisableWAL(true));
      readOptions = track(new ReadOptions());
      clock = add.equals("clock") ? CoarseClock.acquire() : null;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (RocksDBException e) {
      throw new IllegalStateException("opening raw rocksdbjni configured as Cairn's", e);
    }
  }

  private static final Set<PosixFilePermission> OWNER_RWX =
      EnumSet.of(
          PosixFilePermission.OWNER_READ,
          PosixFilePermission.OWNER_WRITE,
          PosixFilePermission.OWNER_EXECUTE);

  private <T extends AutoCloseable> T track(T resource) {
    natives.add(resource);
    return resource;
  }

  /** The stored key of {@code key}, as layout 4 frames it (store prefix, then the key). */
  byte[] frameKey(byte[] key) {
    if (dropped.contains(Feature.FRAMING) || dropped.contains(Feature.KEY_PREFIX)) {
      return key;
    }
    byte[] k = java.util.Arrays.copyOf(PREFIX, PREFIX.length + key.length);
    System.arraycopy(key, 0, k, PREFIX.length, key.length);
    return k;
  }

  /**
   * The stored value: the base's frame of version 1, expiry 0, then the value; built per put. The
   * version is a constant: a shared counter would be Cairn's code (its version sequence), not its
   * configuration.
   */
  private byte[] frameValue(byte[] value) {
    if (headerDropped()) {
      return value;
    }
    return RECORDS.entry("bench", PREFIX, 1, 0, value).value();
  }

  /**
   * A put of the caller's key and value: framed per put unless {@code framing} or {@code alloc} is
   * dropped; with {@code alloc} dropped, {@code framedKey} and {@code framedValue} (built once by
   * {@link #frameKey} and {@link #prebuiltValue}) are written as they are.
   */
  void put(byte[] key, byte[] value, byte[] framedKey, byte[] framedValue) {
    byte[] k;
    byte[] v;
    if (dropped.contains(Feature.FRAMING)) {
      k = key;
      v = value;
    } else if (dropped.contains(Feature.ALLOC)) {
      k = framedKey;
      v = framedValue;
    } else {
      k = frameKey(key);
      v = frameValue(value);
    }
    try {
      db.put(cf, writeOptions, k, v);
    } catch (RocksDBException e) {
      throw new IllegalStateException("put into raw rocksdbjni configured as Cairn's", e);
    }
  }

  private boolean headerDropped() {
    return dropped.contains(Feature.FRAMING) || dropped.contains(Feature.VALUE_HEADER);
  }

  /** A framed value built once (for {@code alloc} dropped). */
  byte[] prebuiltValue(byte[] value) {
    return dropped.contains(Feature.FRAMING) ? value : frameValue(value);
  }

  byte[] get(byte[] key) {
    try {
      byte[] stored = db.get(cf, readOptions, frameKey(key));
      if (stored == null || headerDropped()) {
        return stored;
      }
      return java.util.Arrays.copyOfRange(stored, HEADER, stored.length);
    } catch (RocksDBException e) {
      throw new IllegalStateException("get from raw rocksdbjni configured as Cairn's", e);
    }
  }

  /** The open database (for the diagnostic's counters). */
  RocksDB db() {
    return db;
  }

  @Override
  public void close() {
    if (clock != null) {
      clock.release();
    }
    // No flush first (Cairn's close flushes): the database is deleted, and close is not timed.
    for (int i = natives.size() - 1; i >= 0; i--) {
      try {
        natives.get(i).close();
      } catch (Exception e) {
        throw new IllegalStateException("closing a native handle of the control", e);
      }
    }
    RawRocks.deleteTree(dir);
  }

  /**
   * What Cairn's {@code FileModeListener} does on the same five callbacks, minus its failure
   * handling: after each event it sets every file in the directory to 0600 ({@code
   * DataDirectory.tightenPermissions}: a directory listing, a stat and a chmod per file not yet
   * 0600).
   */
  static final class Sweeper extends AbstractEventListener {
    private static final Set<PosixFilePermission> OWNER_RW =
        EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    private final Path dir;

    Sweeper(Path dir) {
      super(
          EnabledEventCallback.ON_TABLE_FILE_CREATED,
          EnabledEventCallback.ON_FLUSH_COMPLETED,
          EnabledEventCallback.ON_COMPACTION_COMPLETED,
          EnabledEventCallback.ON_MEMTABLE_SEALED,
          EnabledEventCallback.ON_BACKGROUND_ERROR);
      this.dir = dir;
    }

    private void sweep() {
      try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
        for (Path f : files) {
          if (Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)
              && !Files.getPosixFilePermissions(f, LinkOption.NOFOLLOW_LINKS).equals(OWNER_RW)) {
            Files.setPosixFilePermissions(f, OWNER_RW);
          }
        }
      } catch (IOException e) {
        // a file RocksDB deleted between the listing and the chmod: the next sweep sees the rest
      }
    }

    @Override
    public void onTableFileCreated(TableFileCreationInfo info) {
      sweep();
    }

    @Override
    public void onFlushCompleted(RocksDB db, FlushJobInfo info) {
      sweep();
    }

    @Override
    public void onCompactionCompleted(RocksDB db, CompactionJobInfo info) {
      sweep();
    }

    @Override
    public void onMemTableSealed(MemTableInfo info) {
      sweep();
    }
  }
}
