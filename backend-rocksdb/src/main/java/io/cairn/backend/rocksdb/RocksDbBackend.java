package io.cairn.backend.rocksdb;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.health.HealthCheck;
import io.cairn.persistence.BackendClosedException;
import io.cairn.persistence.BackendStats;
import io.cairn.persistence.Capability;
import io.cairn.persistence.Durability;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.Progress;
import io.cairn.persistence.SnapshotStore;
import io.cairn.persistence.StorageEngineException;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.StoreStats;
import io.cairn.persistence.Transaction;
import io.cairn.persistence.VerifyReport;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.Bytes;
import io.cairn.persistence.spi.DataDirectory;
import io.cairn.persistence.spi.Encryption;
import io.cairn.persistence.spi.StoreNames;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.stream.Stream;
import org.rocksdb.AbstractEventListener;
import org.rocksdb.BackgroundErrorReason;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.Checkpoint;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompactRangeOptions;
import org.rocksdb.CompactionJobInfo;
import org.rocksdb.DBOptions;
import org.rocksdb.FlushJobInfo;
import org.rocksdb.FlushOptions;
import org.rocksdb.InfoLogLevel;
import org.rocksdb.LRUCache;
import org.rocksdb.MemTableInfo;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Status;
import org.rocksdb.TableFileCreationInfo;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteBatchWithIndex;
import org.rocksdb.WriteBufferManager;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Cairn backend over one RocksDB database. The on-disk layout is described in {@link Layout};
 * this class owns the native resources, the locks and the lifecycle.
 *
 * <h2>Durability</h2>
 *
 * {@code none}: WAL disabled, memtables reach disk at flush, on {@link #close()} (an explicit
 * flush) and through {@code atomic_flush}; a process crash loses what was not flushed. {@code
 * normal}: every write appends to the WAL (handed to the OS, no fsync), surviving {@code kill -9}.
 * {@code full}: the WAL is fsynced before a write returns; concurrent synced writers are grouped by
 * RocksDB's write-group leader into one fsync. A clean {@link #close()} flushes every memtable at
 * every durability, so afterwards all data is in SST files and the WAL holds nothing to lose.
 *
 * <h2>Write-ahead log damage</h2>
 *
 * WAL replay uses {@code wal-recovery-mode}, {@code auto} by default: {@code
 * tolerate-corrupted-tail-records} at {@code normal}/{@code full} (only an incomplete last record,
 * an unacknowledged write torn by the crash, is dropped; any other damage refuses to open with
 * {@link StoreCorruptedException} naming the WAL files), see {@link
 * RocksDbConfig.WalRecovery#resolve}. {@code track_and_verify_wals_in_manifest} and {@code
 * track_and_verify_wals} are on ({@link #WAL_TRACKING}), so a missing or truncated WAL that the
 * MANIFEST or the WAL chain knows about is refused too. Not detectable by RocksDB: the active WAL
 * of a crashed process truncated at a record boundary (indistinguishable from a crash before those
 * writes); {@link Anchor} catches it when the truncation reaches back past data that was flushed.
 *
 * <h2>Memory</h2>
 *
 * One {@link LRUCache} of {@code memory-budget} bytes is shared by every column family for data,
 * index and filter blocks; a {@link WriteBufferManager} of {@code write-buffer-percent} of the
 * budget charges all memtables against the same cache. Native memory therefore stays near the
 * budget however many stores exist.
 *
 * <h2>Concurrency</h2>
 *
 * <ul>
 *   <li>{@code lifecycle}: every native call runs under its read lock after checking {@code
 *       closed}; {@link #close()} takes the write lock, so no call ever touches a freed handle and
 *       use after close is a {@link BackendClosedException}, never a native crash.
 *   <li>{@code txLock}: single writes hold it shared, {@link #inTransaction} holds it exclusively,
 *       so a transaction's reads and its {@link WriteBatchWithIndex} see a stable base and commit
 *       all-or-nothing in one {@code write}.
 *   <li>Per-key striped locks serialise the read-modify-write that assigns KV versions; each log
 *       has its own lock for offsets. Reads take no lock.
 * </ul>
 *
 * <h2>Files</h2>
 *
 * The data directory is created (or reset) to mode 0700 and every file in it is set to 0600 at open
 * and at close (checkpoints likewise). RocksDB has no file-mode option, so files it creates while
 * open get the process umask until the next open or close; the 0700 directory already keeps other
 * users out of them. Runtime corruption leaves a {@code CAIRN-CORRUPTION-SEEN} marker so that,
 * under {@code on-corruption = quarantine}, the next open runs a full checksum pass and moves the
 * directory aside if it fails.
 *
 * <h2>Iterators</h2>
 *
 * Every native iterator handed out by {@code scan} is tracked; an exhausted iterator releases its
 * native handle at once, and {@link #close()} closes any the caller abandoned before closing the
 * database, so abandoned iterators never leak file descriptors past the backend's life.
 */
final class RocksDbBackend implements io.cairn.persistence.StorageBackend {
  private static final Logger LOG = LoggerFactory.getLogger(RocksDbBackend.class);
  private static final int STRIPES = 1024;
  private static final String CORRUPTION_MARKER = "CAIRN-CORRUPTION-SEEN";
  private static final ThreadLocal<RocksDbBackend> IN_TRANSACTION = new ThreadLocal<>();

  static {
    NativeLibrary.load();
  }

  /**
   * Loads the native library (idempotent) from Cairn's per-user cache ({@link NativeLibrary});
   * called before any RocksDB object is built.
   */
  static void loadLibrary() {
    NativeLibrary.load();
  }

  final BackendContext context;
  final RocksDbConfig config;
  final Path dir;
  final String describe;
  final Clock clock;
  final Encryption encryption;

  // Native resources, closed in reverse order of this list (handles before the db before options).
  private final List<AutoCloseable> natives = new ArrayList<>();
  RocksDB db;
  ColumnFamilyHandle metaCf;
  ColumnFamilyHandle kvCf;
  ColumnFamilyHandle expiryCf;
  ColumnFamilyHandle logCf;
  ColumnFamilyHandle snapCf;
  ColumnFamilyHandle chunkCf;
  private List<ColumnFamilyHandle> allCfs = List.of();
  private WriteOptions writeOptions; // through writeOptions(), which checks the data directory
  private final DataDirectory dataDirectory;
  private boolean opened; // the data directory is this backend's to close
  ReadOptions readOptions;
  private LRUCache cache;

  private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
  private volatile boolean closed;
  private boolean closing;
  final ReentrantReadWriteLock txLock = new ReentrantReadWriteLock();

  /**
   * Makes a transaction's writes visible together (the {@code Transaction} contract). RocksDB makes
   * the batch readable at once, but a log's readable end is its in-memory next offset, advanced
   * after the batch: a reader could see a transaction's KV write and not yet its log record. The
   * commit holds this lock exclusively from writing the batch until every log's next offset is
   * advanced; log reads take it shared to read the next offset. A reader that saw any write of the
   * batch therefore waits (for the batch write, an fsync at most) and then sees all of them.
   */
  final ReentrantReadWriteLock publishLock = new ReentrantReadWriteLock();

  /** Test hook: runs on the committing thread after the batch is written, before publication. */
  volatile Runnable afterTransactionWrite;

  private final ReentrantLock[] stripes = new ReentrantLock[STRIPES];
  private final Set<ScanIterator> openIterators = ConcurrentHashMap.newKeySet();

  private final Object catalogLock = new Object();
  private final Map<String, Integer> catalog = new TreeMap<>(); // "kind/name" -> sid
  private int nextStoreId = 1;
  final AtomicLong nextSaveId = new AtomicLong(1);
  private static final long VERSION_BLOCK = 1 << 16;
  private final AtomicLong versionCounter = new AtomicLong(1);
  private volatile long versionLimit = 1; // exclusive bound persisted in next-version
  private final Object versionLock = new Object();
  final Set<Long> savesInFlight = ConcurrentHashMap.newKeySet();
  private final ConcurrentMap<String, RocksKvStore> kvStores = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, RocksLogStore> logStores = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, RocksSnapshotStore> snapStores = new ConcurrentHashMap<>();

  private ScheduledExecutorService sweeper;
  private ScheduledExecutorService anchorBeat;
  private volatile long anchoredSequence = -1;

  /** How often the anchor follows the WAL while writes happen (see {@link #startAnchorBeat}). */
  static final long ANCHOR_BEAT_MILLIS = Long.getLong("cairn.rocksdb.anchor-interval-ms", 200);

  private final List<String> gaugeNames = new ArrayList<>();
  private volatile String quarantinedTo = "";

  private RocksDbBackend(
      BackendContext context, RocksDbConfig config, DataDirectory dataDirectory) {
    this.context = context;
    this.config = config;
    this.dataDirectory = dataDirectory;
    this.dir = context.dataDir();
    this.describe = context.describe();
    this.clock = context.clock();
    this.encryption = context.encryption();
    for (int i = 0; i < STRIPES; i++) {
      stripes[i] = new ReentrantLock();
    }
  }

  /**
   * Opens the backend, applying the on-corruption policy. Either returns an open backend or throws
   * with every native handle, lock and thread released.
   */
  static RocksDbBackend open(BackendContext context, RocksDbConfig config) {
    DataDirectory dataDirectory =
        DataDirectory.open(
            context, DataDirectory.Options.of(context), RocksDbBackend::isEngineFile);
    try {
      RocksDbBackend b = openLocked(context, config, dataDirectory);
      b.opened = true;
      return b;
    } catch (RuntimeException | Error e) {
      dataDirectory.close();
      throw e;
    }
  }

  private static RocksDbBackend openLocked(
      BackendContext context, RocksDbConfig config, DataDirectory dataDirectory) {
    Path dir = context.dataDir();
    boolean quarantine = config.onCorruption() == RocksDbConfig.OnCorruption.QUARANTINE;
    try {
      RocksDbBackend b = openOnce(context, config, dataDirectory);
      if (quarantine && Files.exists(dir.resolve(CORRUPTION_MARKER))) {
        // An earlier run saw corruption at run time: confirm with a full checksum pass.
        try {
          b.db.verifyChecksum();
          Files.deleteIfExists(dir.resolve(CORRUPTION_MARKER));
        } catch (RocksDBException e) {
          b.close();
          throw RocksErrors.translate(e, "verify after corruption", context.describe(), dir);
        } catch (IOException e) {
          LOG.warn("Could not remove {}: {}", dir.resolve(CORRUPTION_MARKER), e.toString());
        }
      }
      return b;
    } catch (StoreCorruptedException e) {
      if (!quarantine) {
        throw e;
      }
      Path aside = quarantineDirectory(dataDirectory, context.describe(), e);
      RocksDbBackend b = openOnce(context, config, dataDirectory);
      b.quarantinedTo = aside.toString();
      // A count of quarantines in this process; unlike the engine gauges it outlives the backend.
      context.metrics().counter(context.metricPrefix() + ".rocksdb.quarantined").inc();
      return b;
    }
  }

  /**
   * Whether {@code name} is a file RocksDB or this backend creates in the data directory (for
   * DataDirectory's foreign-file check): CURRENT, IDENTITY, LOCK, the info LOG and its old copies,
   * MANIFEST-*, OPTIONS-*, numbered .sst/.log/.blob files, temporary .dbtmp files, the corruption
   * marker, the anchor ({@link Anchor}) and its temporary copy, and the owner file of older
   * versions.
   */
  static boolean isEngineFile(String name) {
    return name.equals("CURRENT")
        || name.equals("IDENTITY")
        || name.equals("LOCK")
        || name.equals("LOG")
        || name.startsWith("LOG.old.")
        || name.startsWith("MANIFEST-")
        || name.startsWith("OPTIONS-")
        || name.matches("[0-9]+\\.(sst|log|blob)")
        || name.endsWith(".dbtmp")
        || name.equals(CORRUPTION_MARKER)
        || name.equals(Anchor.FILE)
        || name.equals(Anchor.FILE + ".tmp")
        || name.equals("CAIRN-OWNER");
  }

  private static RocksDbBackend openOnce(
      BackendContext context, RocksDbConfig config, DataDirectory dataDirectory) {
    RocksDbBackend b = new RocksDbBackend(context, config, dataDirectory);
    try {
      Anchor.State anchor = Anchor.read(b.dir, b.describe);
      Anchor.checkBeforeOpen(b.dir, b.describe, anchor);
      b.openNatives();
      Anchor.checkAfterOpen(b.dir, b.describe, anchor, b.db.getLatestSequenceNumber());
      b.loadState();
      b.writeAnchor("open");
      b.registerGauges();
      b.startSweeper();
      b.startAnchorBeat();
      dataDirectory.tightenPermissions();
      return b;
    } catch (RuntimeException | Error e) {
      try {
        b.close();
      } catch (RuntimeException closeFailure) {
        e.addSuppressed(closeFailure);
      }
      throw e;
    }
  }

  /**
   * The write options for every write: first checks the data directory (failed after an I/O error,
   * deleted or replaced: throws; see {@link DataDirectory#beforeWrite()}).
   */
  WriteOptions writeOptions() {
    dataDirectory.beforeWrite();
    return writeOptions;
  }

  /**
   * RocksDB creates its .sst, .log, MANIFEST and OPTIONS files with the process umask (0644 by
   * default) and has no file-mode option. This listener sets them to 0600 as soon as RocksDB
   * reports them: when a table file is created, and by a sweep of the directory after every flush,
   * compaction and memtable switch (a switch starts a new WAL). The window in which a new file has
   * the umask's mode lasts until the next such event (for a WAL, until its memtable is sealed or
   * the backend closes); the 0700 directory keeps other users out meanwhile. It also puts the data
   * directory into its failed state when RocksDB reports a background I/O error other than a full
   * disk (for example a failed fsync during a flush).
   */
  private static final class FileModeListener extends AbstractEventListener {
    private final DataDirectory dataDirectory;

    FileModeListener(DataDirectory dataDirectory) {
      super(
          EnabledEventCallback.ON_TABLE_FILE_CREATED,
          EnabledEventCallback.ON_FLUSH_COMPLETED,
          EnabledEventCallback.ON_COMPACTION_COMPLETED,
          EnabledEventCallback.ON_MEMTABLE_SEALED,
          EnabledEventCallback.ON_BACKGROUND_ERROR);
      this.dataDirectory = dataDirectory;
    }

    @Override
    public void onTableFileCreated(TableFileCreationInfo info) {
      dataDirectory.tightenPermissions();
    }

    @Override
    public void onFlushCompleted(RocksDB db, FlushJobInfo info) {
      dataDirectory.tightenPermissions();
    }

    @Override
    public void onCompactionCompleted(RocksDB db, CompactionJobInfo info) {
      dataDirectory.tightenPermissions();
    }

    @Override
    public void onMemTableSealed(MemTableInfo info) {
      dataDirectory.tightenPermissions();
    }

    @Override
    public void onBackgroundError(BackgroundErrorReason reason, Status status) {
      if (status != null
          && status.getCode() == Status.Code.IOError
          && status.getSubCode() != Status.SubCode.NoSpace) {
        dataDirectory.fail(
            "RocksDB background " + reason + " failed: " + status.getCodeString(),
            new IOException(status.getState()));
      }
    }
  }

  private void openNatives() {
    RocksDbConfig c = config;
    try {
      cache = track(new LRUCache(c.memoryBudget(), -1, c.strictCacheLimit()));
      WriteBufferManager wbm = track(new WriteBufferManager(c.writeBufferBytes(), cache));
      DBOptions dbOptions = track(dbOptions(c));
      Set<String> dbSet = c.dbOptions().stringPropertyNames();
      dbOptions.setListeners(List.of(track(new FileModeListener(dataDirectory))));
      dbOptions
          .setCreateIfMissing(true)
          .setCreateMissingColumnFamilies(true)
          .setWriteBufferManager(wbm)
          .setAtomicFlush(true)
          .setWalRecoveryMode(c.walRecovery().resolve(context.durability()));
      if (!dbSet.contains("max_background_jobs")) {
        dbOptions.setMaxBackgroundJobs(c.maxBackgroundJobs());
      }
      if (!dbSet.contains("max_open_files")) {
        dbOptions.setMaxOpenFiles(c.maxOpenFiles());
      }
      if (!dbSet.contains("keep_log_file_num")) {
        dbOptions.setKeepLogFileNum(3);
      }
      if (!dbSet.contains("info_log_level")) {
        dbOptions.setInfoLogLevel(InfoLogLevel.WARN_LEVEL);
      }
      if (!dbSet.contains("max_total_wal_size")) {
        dbOptions.setMaxTotalWalSize(Math.max(64L << 20, 4 * c.writeBufferBytes()));
      }

      ColumnFamilyOptions cfOptions =
          c.cfOptions().isEmpty()
              ? new ColumnFamilyOptions()
              : ColumnFamilyOptions.getColumnFamilyOptionsFromProps(c.cfOptions());
      track(cfOptions);
      Set<String> cfSet = c.cfOptions().stringPropertyNames();
      BlockBasedTableConfig table = new BlockBasedTableConfig();
      table.setBlockCache(cache);
      table.setCacheIndexAndFilterBlocks(true);
      table.setPinL0FilterAndIndexBlocksInCache(true);
      if (c.bloomBitsPerKey() > 0) {
        table.setFilterPolicy(track(new BloomFilter(c.bloomBitsPerKey(), false)));
      }
      cfOptions.setTableFormatConfig(table);
      if (!cfSet.contains("compression")) {
        cfOptions.setCompressionType(c.compression().type);
      }
      if (!cfSet.contains("write_buffer_size")) {
        long perCf = Math.max(1L << 20, Math.min(64L << 20, c.writeBufferBytes() / 4));
        cfOptions.setWriteBufferSize(perCf);
      }
      if (!cfSet.contains("max_write_buffer_number")) {
        cfOptions.setMaxWriteBufferNumber(c.maxWriteBufferNumber());
      }

      List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
      for (String name :
          List.of(
              "default",
              Layout.CF_KV,
              Layout.CF_KV_EXPIRY,
              Layout.CF_LOG,
              Layout.CF_SNAPSHOT,
              Layout.CF_SNAPSHOT_CHUNK)) {
        descriptors.add(
            new ColumnFamilyDescriptor(name.getBytes(StandardCharsets.US_ASCII), cfOptions));
      }
      writeOptions = track(new WriteOptions());
      switch (context.durability()) {
        case NONE -> writeOptions.setDisableWAL(true);
        case NORMAL -> writeOptions.setSync(false);
        case FULL -> writeOptions.setSync(true);
      }
      readOptions = track(new ReadOptions());
      List<ColumnFamilyHandle> handles = new ArrayList<>();
      try {
        db = RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
      } finally {
        // Handles must close before the db: track the db first so they come after it in the list.
        if (db != null) {
          track(db);
        }
        for (ColumnFamilyHandle h : handles) {
          track(h);
        }
      }
      metaCf = handles.get(0);
      kvCf = handles.get(1);
      expiryCf = handles.get(2);
      logCf = handles.get(3);
      snapCf = handles.get(4);
      chunkCf = handles.get(5);
      allCfs = List.copyOf(handles);
    } catch (RocksDBException e) {
      throw RocksErrors.translate(e, "open" + walContext(e), describe, dir);
    }
  }

  /**
   * For a corruption at open, names the WAL files present (RocksDB's recovery error does not name
   * the file) and what the recovery mode means, so the operator knows where the damage is and what
   * opening anyway would cost.
   */
  private String walContext(RocksDBException e) {
    if (!RocksErrors.isCorruption(e)) {
      return "";
    }
    List<String> wals = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      files
          .filter(p -> p.getFileName().toString().endsWith(".log"))
          .sorted()
          .forEach(
              p -> {
                long size;
                try {
                  size = Files.size(p);
                } catch (IOException io) {
                  size = -1;
                }
                wals.add(p.getFileName() + " (" + size + " bytes)");
              });
    } catch (IOException | UncheckedIOException io) {
      wals.add("(cannot list: " + io + ")");
    }
    return " (write-ahead log files "
        + wals
        + ", wal-recovery-mode = "
        + config.walRecovery().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-')
        + ": a damaged WAL record that is not an incomplete last one is refused, because"
        + " replaying around it would silently drop the acknowledged writes after it;"
        + " wal-recovery-mode = point-in-time opens with the records before the damage only)";
  }

  /**
   * RocksDB options that rocksdbjni has no setter for, set by name unless the configuration's
   * {@code db-options} names them. {@code track_and_verify_wals_in_manifest}: the MANIFEST records
   * every closed, synced WAL with its size, and open fails with {@code Corruption} when one is
   * missing or shorter (RocksDB's advice for production; without it a lost WAL is silently
   * recovered around). {@code track_and_verify_wals}: each WAL's header records its predecessor
   * (number, size, last sequence), and open verifies the chain, so a deleted or truncated WAL in
   * the middle of the chain is reported. Both take effect in rocksdbjni 11.8.1 and appear in the
   * OPTIONS file.
   */
  static final Map<String, String> WAL_TRACKING =
      Map.of("track_and_verify_wals_in_manifest", "true", "track_and_verify_wals", "true");

  private static DBOptions dbOptions(RocksDbConfig c) {
    java.util.Properties props = new java.util.Properties();
    props.putAll(WAL_TRACKING);
    props.putAll(c.dbOptions());
    DBOptions parsed = DBOptions.getDBOptionsFromProps(props);
    if (parsed == null) {
      // Validation already checked db-options on its own; this is only reachable if RocksDB
      // rejects the combination.
      throw new StorageEngineException(
          "RocksDB rejected the DB options " + props + "; check advanced.db-options", null);
    }
    return parsed;
  }

  private <T extends AutoCloseable> T track(T resource) {
    natives.add(resource);
    return resource;
  }

  /** Reads the layout version, the catalog, log positions and cleans orphaned snapshot chunks. */
  private void loadState() {
    try {
      byte[] version = db.get(metaCf, Layout.LAYOUT_VERSION_KEY);
      if (version == null) {
        try (WriteBatch b = new WriteBatch()) {
          b.put(metaCf, Layout.LAYOUT_VERSION_KEY, Layout.intBytes(Layout.LAYOUT_VERSION));
          db.write(writeOptions(), b);
        }
      } else if (version.length != 4 || Layout.getInt(version, 0) != Layout.LAYOUT_VERSION) {
        throw new StorageEngineException(
            describe
                + " holds Cairn RocksDB layout version "
                + (version.length == 4 ? Layout.getInt(version, 0) : -1)
                + " but this Cairn reads version "
                + Layout.LAYOUT_VERSION
                + "; open it with the Cairn version that wrote it, or migrate it with"
                + " 'cairn migrate'. Nothing was changed.",
            null);
      }
      byte[] nextSid = db.get(metaCf, Layout.NEXT_STORE_ID_KEY);
      nextStoreId = nextSid == null ? 1 : Layout.getInt(nextSid, 0);
      byte[] nextVersion = db.get(metaCf, Layout.NEXT_VERSION_KEY);
      long versionStart = nextVersion == null ? 1 : Layout.getLong(nextVersion, 0);
      versionCounter.set(versionStart);
      versionLimit = versionStart; // the first write reserves a fresh block
      byte[] nextSave = db.get(metaCf, Layout.NEXT_SAVE_ID_KEY);
      nextSaveId.set(nextSave == null ? 1 : Layout.getLong(nextSave, 0));
      try (RocksIterator it = db.newIterator(metaCf, readOptions)) {
        for (it.seek(Layout.CATALOG_PREFIX);
            it.isValid() && Layout.startsWith(it.key(), Layout.CATALOG_PREFIX);
            it.next()) {
          String entry =
              new String(
                  it.key(),
                  Layout.CATALOG_PREFIX.length,
                  it.key().length - Layout.CATALOG_PREFIX.length,
                  StandardCharsets.US_ASCII);
          catalog.put(entry, Layout.getInt(it.value(), 0));
        }
        it.status();
      }
      deleteOrphanChunks();
    } catch (RocksDBException e) {
      throw RocksErrors.translate(e, "open (reading catalog)", describe, dir);
    }
  }

  // ---------------------------------------------------------------- guard and native calls

  /** A native call that may fail with a RocksDBException. */
  interface NativeCall<T> {
    T call() throws RocksDBException;
  }

  /** Enters the guard: throws {@link BackendClosedException} once closed. Pair with exit(). */
  void enter() {
    if (stoppedBy != null && lifecycle.getReadHoldCount() == 0) {
      restartEngine();
    }
    lifecycle.readLock().lock();
    if (closed) {
      lifecycle.readLock().unlock();
      throw new BackendClosedException(context.name());
    }
    PersistenceException down = engineDown;
    if (down != null) {
      lifecycle.readLock().unlock();
      throw new StorageEngineException(
          describe
              + " is stopped after an I/O error and could not restart yet: "
              + down.getMessage()
              + " Cairn retries at most once a second on the next call.",
          down);
    }
  }

  // ---------------------------------------------------------------- recovery from I/O errors

  /**
   * The I/O error (a full disk, typically) after which RocksDB stopped accepting writes, or null.
   * RocksDB turns a failed WAL write into a sticky background error: every later write fails with
   * the same error even once space is back, and rocksdbjni 11.8.1 has no {@code DB::Resume()}.
   * Cairn therefore restarts the engine in place: on the next call after the error (at most once a
   * second) it closes the RocksDB handles and opens them again, which replays the WAL (every
   * acknowledged write is there; the failed write was not acknowledged and its torn record at the
   * WAL's tail is dropped) and starts a fresh WAL. Store objects held by callers keep working, as
   * they reach the engine through this backend. While the restart itself fails (still no space),
   * every call fails with {@link StorageEngineException} naming the original error, and {@link
   * #health()} is unhealthy.
   */
  private volatile PersistenceException stoppedBy;

  /** Set while the engine is closed by a restart that failed; calls fail with it. */
  private volatile PersistenceException engineDown;

  private volatile long lastRestartNanos;
  private static final long RESTART_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

  private void restartEngine() {
    long now = System.nanoTime();
    if (now - lastRestartNanos < RESTART_INTERVAL_NANOS && lastRestartNanos != 0) {
      return;
    }
    lifecycle.writeLock().lock();
    try {
      PersistenceException cause = stoppedBy;
      if (closed || cause == null) {
        return;
      }
      lastRestartNanos = System.nanoTime();
      for (ScanIterator it : List.copyOf(openIterators)) {
        it.closeNative();
      }
      openIterators.clear();
      closeNatives();
      try {
        openNatives();
        stoppedBy = null;
        engineDown = null;
        for (RocksLogStore log : logStores.values()) {
          log.reload();
        }
        LOG.warn("{}: restarted the engine after {}; writes resume", describe, cause.getMessage());
      } catch (RuntimeException e) {
        closeNatives();
        stoppedBy = cause;
        engineDown = e instanceof PersistenceException pe ? pe : cause;
        LOG.warn("{}: restarting the engine failed ({}); will retry", describe, e.toString());
      }
    } finally {
      lifecycle.writeLock().unlock();
    }
  }

  /** Closes every native object in reverse order, ignoring errors; leaves {@code db} null. */
  private void closeNatives() {
    for (int i = natives.size() - 1; i >= 0; i--) {
      try {
        natives.get(i).close();
      } catch (Exception e) {
        LOG.debug("{}: closing a native handle failed: {}", describe, e.toString());
      }
    }
    natives.clear();
    db = null;
  }

  void exit() {
    lifecycle.readLock().unlock();
  }

  /** Runs {@code c} inside the guard, translating engine errors. */
  <T> T call(String what, String where, NativeCall<T> c) {
    enter();
    try {
      return c.call();
    } catch (RocksDBException e) {
      throw failure(e, what, where);
    } finally {
      exit();
    }
  }

  /**
   * Translates {@code e}; corruption seen at run time leaves a marker for the quarantine policy.
   */
  PersistenceException failure(RocksDBException e, String what, String where) {
    PersistenceException translated = RocksErrors.translate(e, what, describe + ", " + where, dir);
    if (RocksErrors.stopsEngine(e)) {
      stoppedBy = translated;
    }
    Status st = e.getStatus();
    if (st != null
        && st.getCode() == Status.Code.IOError
        && st.getSubCode() != Status.SubCode.NoSpace) {
      // A failed WAL fsync or write: RocksDB may go read-only itself; refuse writes either way.
      dataDirectory.fail(what + " of " + where + " failed with an I/O error", e);
    }
    if (RocksErrors.isCorruption(e)) {
      try {
        // 0600 and never through a link planted in the directory
        Files.writeString(
            dataDirectory.createPrivateFile(CORRUPTION_MARKER),
            clock.instant() + " " + what + " " + where + ": " + e.getMessage() + "\n",
            java.nio.file.StandardOpenOption.WRITE,
            java.nio.file.StandardOpenOption.TRUNCATE_EXISTING,
            java.nio.file.LinkOption.NOFOLLOW_LINKS);
      } catch (IOException io) {
        LOG.warn("Could not write corruption marker in {}: {}", dir, io.toString());
      }
    }
    return translated;
  }

  ReentrantLock stripe(int sid, byte[] key) {
    return stripes[stripeIndex(sid, key)];
  }

  private static int stripeIndex(int sid, byte[] key) {
    int h = sid * 31 + Arrays.hashCode(key);
    h ^= (h >>> 16);
    return h & (STRIPES - 1);
  }

  /**
   * Locks the stripes of all {@code keys} in ascending stripe order, so two multi-key writers never
   * deadlock; returns them for {@link #unlockAll}.
   */
  List<ReentrantLock> lockStripes(int sid, List<byte[]> keys) {
    TreeSet<Integer> indexes = new TreeSet<>();
    for (byte[] k : keys) {
      indexes.add(stripeIndex(sid, k));
    }
    List<ReentrantLock> locked = new ArrayList<>(indexes.size());
    for (int i : indexes) {
      stripes[i].lock();
      locked.add(stripes[i]);
    }
    return locked;
  }

  static void unlockAll(List<ReentrantLock> locks) {
    for (int i = locks.size() - 1; i >= 0; i--) {
      locks.get(i).unlock();
    }
  }

  /**
   * The next KV version from the backend-wide sequence. Versions are handed out from a block whose
   * exclusive bound is already written to {@code next-version}; crossing the bound writes the next
   * block's bound first (under this backend's durability, before the caller's own write), so after
   * any crash or restart the sequence resumes above every version that can be on disk. Called
   * inside the guard, under the key's stripe lock (or the exclusive transaction lock), so that one
   * key's versions increase in commit order.
   */
  long nextVersion() throws RocksDBException {
    long v = versionCounter.getAndIncrement();
    if (v >= versionLimit) {
      synchronized (versionLock) {
        while (v >= versionLimit) {
          long limit = Math.max(versionLimit, v + 1) + VERSION_BLOCK;
          db.put(metaCf, writeOptions(), Layout.NEXT_VERSION_KEY, Layout.longBytes(limit));
          versionLimit = limit;
        }
      }
    }
    return v;
  }

  /** Whether the caller runs inside {@link #inTransaction} of this backend. */
  boolean inTransactionHere() {
    return IN_TRANSACTION.get() == this;
  }

  void registerIterator(ScanIterator it) {
    openIterators.add(it);
  }

  void unregisterIterator(ScanIterator it) {
    openIterators.remove(it);
  }

  /** Visits keys (and values) of {@code cf} in {@code [from, to)} inside the guard. */
  interface Visitor {
    /** Returns false to stop. */
    boolean visit(byte[] key, byte[] value) throws RocksDBException;
  }

  void forEach(
      String what, String where, ColumnFamilyHandle cf, byte[] from, byte[] to, Visitor visitor) {
    call(
        what,
        where,
        () -> {
          try (RocksIterator it = db.newIterator(cf, readOptions)) {
            for (it.seek(from); it.isValid(); it.next()) {
              byte[] key = it.key();
              if (to != null && Arrays.compareUnsigned(key, to) >= 0) {
                break;
              }
              if (!visitor.visit(key, it.value())) {
                break;
              }
            }
            it.status();
          }
          return null;
        });
  }

  // ---------------------------------------------------------------- stores and catalog

  @Override
  public String name() {
    return context.name();
  }

  @Override
  public String type() {
    return RocksDbBackendProvider.TYPE;
  }

  @Override
  public Durability durability() {
    return context.durability();
  }

  @Override
  public Set<Capability> capabilities() {
    return EnumSet.of(
        Capability.DURABLE,
        Capability.CHECKPOINT,
        Capability.LARGE_SNAPSHOTS,
        Capability.ENCRYPTION); // every value, payload and chunk goes through the Sealer
  }

  @Override
  public KeyValueStore keyValue(String namespace) {
    return kv(namespace);
  }

  RocksKvStore kv(String namespace) {
    StoreNames.check("key-value namespace", namespace);
    checkOpen();
    RocksKvStore s = kvStores.get(namespace);
    if (s != null) {
      return s;
    }
    return kvStores.computeIfAbsent(
        namespace, n -> new RocksKvStore(this, n, storeId(StoreKind.KEY_VALUE, n)));
  }

  @Override
  public LogStore log(String name) {
    return logStore(name);
  }

  RocksLogStore logStore(String name) {
    StoreNames.check("log", name);
    checkOpen();
    RocksLogStore s = logStores.get(name);
    if (s != null) {
      return s;
    }
    return logStores.computeIfAbsent(
        name, n -> RocksLogStore.load(this, n, storeId(StoreKind.LOG, n)));
  }

  @Override
  public SnapshotStore snapshots(String name) {
    StoreNames.check("snapshot set", name);
    checkOpen();
    RocksSnapshotStore s = snapStores.get(name);
    if (s != null) {
      return s;
    }
    return snapStores.computeIfAbsent(
        name, n -> new RocksSnapshotStore(this, n, storeId(StoreKind.SNAPSHOT, n)));
  }

  void checkOpen() {
    if (closed) {
      throw new BackendClosedException(context.name());
    }
  }

  /** The store id of a store, creating its catalog entry on first use. */
  private int storeId(StoreKind kind, String name) {
    String entry = kind.shortName() + "/" + name;
    synchronized (catalogLock) {
      Integer sid = catalog.get(entry);
      if (sid != null) {
        return sid;
      }
      int id = nextStoreId;
      call(
          "create store",
          kind.shortName() + ":" + name,
          () -> {
            try (WriteBatch b = new WriteBatch()) {
              b.put(metaCf, Layout.catalogKey(kind.shortName(), name), Layout.intBytes(id));
              b.put(metaCf, Layout.NEXT_STORE_ID_KEY, Layout.intBytes(id + 1));
              db.write(writeOptions(), b);
            }
            return null;
          });
      nextStoreId = id + 1;
      catalog.put(entry, id);
      return id;
    }
  }

  private Map<String, Integer> catalogCopy() {
    synchronized (catalogLock) {
      return new LinkedHashMap<>(catalog);
    }
  }

  @Override
  public SortedSet<StoreId> stores() {
    SortedSet<StoreId> result = new TreeSet<>();
    for (Map.Entry<String, Integer> e : catalogCopy().entrySet()) {
      String kindName = e.getKey().substring(0, e.getKey().indexOf('/'));
      String name = e.getKey().substring(kindName.length() + 1);
      int sid = e.getValue();
      switch (kindName) {
        case "kv" -> {
          if (hasAny(kvCf, sid)) {
            result.add(new StoreId(StoreKind.KEY_VALUE, name));
          }
        }
        case "log" -> {
          if (logStore(name).nextOffset() > 0) {
            result.add(new StoreId(StoreKind.LOG, name));
          }
        }
        case "snapshot" -> {
          if (hasAny(snapCf, sid)) {
            result.add(new StoreId(StoreKind.SNAPSHOT, name));
          }
        }
        default ->
            throw new StoreCorruptedException(
                describe + ": unknown store kind in catalog entry '" + e.getKey() + "'");
      }
    }
    return result;
  }

  private boolean hasAny(ColumnFamilyHandle cf, int sid) {
    boolean[] found = {false};
    forEach(
        "list stores",
        "store id " + sid,
        cf,
        Layout.sidPrefix(sid),
        Layout.sidEnd(sid),
        (k, v) -> {
          found[0] = true;
          return false;
        });
    return found[0];
  }

  // ---------------------------------------------------------------- transactions

  @Override
  public <T> T inTransaction(Transaction.Work<T> work) {
    Objects.requireNonNull(work, "work");
    if (inTransactionHere()) {
      throw new IllegalStateException(
          "Transactions do not nest: backend '" + name() + "' is already in a transaction here");
    }
    enter();
    txLock.writeLock().lock();
    IN_TRANSACTION.set(this);
    RocksTransaction tx = null;
    try (WriteBatchWithIndex batch = new WriteBatchWithIndex(true)) {
      tx = new RocksTransaction(this, batch);
      T result = work.run(tx);
      tx.commit();
      return result;
    } finally {
      if (tx != null) {
        tx.invalidate();
      }
      IN_TRANSACTION.remove();
      txLock.writeLock().unlock();
      exit();
    }
  }

  /** Re-encrypts under the primary key in place; see {@link RocksReseal}. */
  @Override
  public io.cairn.persistence.ResealReport reseal(Progress progress) {
    checkOpen();
    return RocksReseal.run(this, Objects.requireNonNull(progress, "progress"));
  }

  // ---------------------------------------------------------------- maintenance

  @Override
  public BackendStats stats() {
    List<StoreStats> list = new ArrayList<>();
    for (StoreId id : stores()) {
      switch (id.kind()) {
        case KEY_VALUE -> {
          RocksKvStore s = kv(id.name());
          list.add(new StoreStats(id, s.approximateCount(), approximateBytes(kvCf, s.sid)));
        }
        case LOG -> {
          RocksLogStore s = logStore(id.name());
          list.add(
              new StoreStats(id, s.nextOffset() - s.firstOffset(), approximateBytes(logCf, s.sid)));
        }
        case SNAPSHOT -> {
          RocksSnapshotStore s = (RocksSnapshotStore) snapshots(id.name());
          long bytes = 0;
          var infos = s.list();
          for (var info : infos) {
            bytes += info.sizeBytes();
          }
          list.add(new StoreStats(id, infos.size(), bytes));
        }
      }
    }
    Map<String, String> props = new TreeMap<>();
    props.put("layout-version", String.valueOf(Layout.LAYOUT_VERSION));
    props.put("memory-budget", String.valueOf(config.memoryBudget()));
    props.put(
        "wal-recovery-mode",
        config.walRecovery().name().toLowerCase().replace('_', '-')
            + " ("
            + config.walRecovery().resolve(context.durability())
            + ")");
    props.put(
        "durability-mapping",
        switch (context.durability()) {
          case NONE -> "WAL disabled";
          case NORMAL -> "WAL, no fsync";
          case FULL -> "WAL fsynced per write (group commit)";
        });
    for (Map.Entry<String, Long> e : engineProperties().entrySet()) {
      props.put(e.getKey(), String.valueOf(e.getValue()));
    }
    if (!quarantinedTo.isEmpty()) {
      props.put("quarantined-to", quarantinedTo);
    }
    return new BackendStats(name(), type(), list, directorySize(), props);
  }

  private long approximateBytes(ColumnFamilyHandle cf, int sid) {
    return approximateBytes(cf, Layout.sidPrefix(sid), Layout.sidEnd(sid));
  }

  /**
   * RocksDB's estimate of the bytes of keys in [{@code start}, {@code end}), files and memtables.
   */
  long approximateBytes(ColumnFamilyHandle cf, byte[] start, byte[] end) {
    return call(
        "stats",
        "key range " + Bytes.toDisplay(start) + " .. " + Bytes.toDisplay(end),
        () -> {
          try (org.rocksdb.Slice from = new org.rocksdb.Slice(start);
              org.rocksdb.Slice to = new org.rocksdb.Slice(end)) {
            long[] sizes =
                db.getApproximateSizes(
                    cf,
                    List.of(new org.rocksdb.Range(from, to)),
                    org.rocksdb.SizeApproximationFlag.INCLUDE_FILES,
                    org.rocksdb.SizeApproximationFlag.INCLUDE_MEMTABLES);
            return sizes.length > 0 ? sizes[0] : -1L;
          }
        });
  }

  private long directorySize() {
    try (Stream<Path> files = Files.walk(dir)) {
      return files
          .filter(Files::isRegularFile)
          .mapToLong(
              p -> {
                try {
                  return Files.size(p);
                } catch (IOException e) {
                  return 0;
                }
              })
          .sum();
    } catch (IOException | UncheckedIOException e) {
      return -1;
    }
  }

  /** The engine facts exported as gauges, summed over column families where per-family. */
  Map<String, Long> engineProperties() {
    Map<String, Long> m = new LinkedHashMap<>();
    m.put("estimate-num-keys", sumProperty("rocksdb.estimate-num-keys"));
    m.put("live-sst-files-size", sumProperty("rocksdb.live-sst-files-size"));
    m.put("cur-size-all-mem-tables", sumProperty("rocksdb.cur-size-all-mem-tables"));
    m.put(
        "estimate-pending-compaction-bytes",
        sumProperty("rocksdb.estimate-pending-compaction-bytes"));
    m.put("block-cache-usage", blockCacheUsage());
    m.put("block-cache-capacity", config.memoryBudget());
    return m;
  }

  long sumProperty(String property) {
    return call(
        "read property",
        property,
        () -> {
          long sum = 0;
          for (ColumnFamilyHandle cf : allCfs) {
            sum += db.getLongProperty(cf, property);
          }
          return sum;
        });
  }

  long blockCacheUsage() {
    enter();
    try {
      return cache.getUsage();
    } finally {
      exit();
    }
  }

  private void registerGauges() {
    MetricRegistry metrics = context.metrics();
    String base = context.metricPrefix() + ".rocksdb.";
    Map<String, Gauge<Long>> gauges = new LinkedHashMap<>();
    gauges.put("estimate-num-keys", () -> safe(() -> sumProperty("rocksdb.estimate-num-keys")));
    gauges.put("live-sst-files-size", () -> safe(() -> sumProperty("rocksdb.live-sst-files-size")));
    gauges.put("memtable-size", () -> safe(() -> sumProperty("rocksdb.cur-size-all-mem-tables")));
    gauges.put("block-cache-usage", () -> safe(this::blockCacheUsage));
    gauges.put(
        "pending-compaction-bytes",
        () -> safe(() -> sumProperty("rocksdb.estimate-pending-compaction-bytes")));
    for (Map.Entry<String, Gauge<Long>> e : gauges.entrySet()) {
      String name = base + e.getKey();
      metrics.remove(name);
      metrics.register(name, e.getValue());
      gaugeNames.add(name);
    }
  }

  private static long safe(java.util.function.LongSupplier s) {
    try {
      return s.getAsLong();
    } catch (PersistenceException e) {
      return -1; // closed or failing: health() says why
    }
  }

  private void startSweeper() {
    if (config.sweeperInterval().isZero()) {
      return;
    }
    sweeper =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "cairn-rocksdb-sweeper-" + name());
              t.setDaemon(true);
              return t;
            });
    long ms = Math.max(1, config.sweeperInterval().toMillis());
    sweeper.scheduleWithFixedDelay(this::sweepOnce, ms, ms, TimeUnit.MILLISECONDS);
  }

  /** One sweeper pass over every key-value store; failures are logged, never thrown. */
  private void sweepOnce() {
    try {
      purgeAllExpired();
    } catch (BackendClosedException e) {
      // closing: nothing to do
    } catch (RuntimeException e) {
      LOG.warn("Expiry sweep of {} failed; will retry: {}", describe, e.toString());
    }
  }

  private long purgeAllExpired() {
    long removed = 0;
    for (String entry : catalogCopy().keySet()) {
      if (entry.startsWith("kv/")) {
        removed += kv(entry.substring(3)).purgeExpired();
      }
    }
    return removed;
  }

  @Override
  public VerifyReport verify(Progress progress) {
    Objects.requireNonNull(progress, "progress");
    List<String> problems = new ArrayList<>();
    long checked = 0;
    progress.report("checksums", 0, 1);
    int files = call("verify", "live files", () -> db.getLiveFilesMetaData().size());
    try {
      enter();
      try {
        db.verifyChecksum();
      } finally {
        exit();
      }
    } catch (RocksDBException e) {
      problems.add(describe + ": RocksDB checksum verification failed: " + e.getMessage());
    }
    checked += files;
    progress.report("checksums", 1, 1);
    List<String> snapshotStores = new ArrayList<>();
    for (String entry : catalogCopy().keySet()) {
      if (entry.startsWith("snapshot/")) {
        snapshotStores.add(entry.substring("snapshot/".length()));
      }
    }
    int done = 0;
    for (String name : snapshotStores) {
      progress.report("snapshots", done++, snapshotStores.size());
      RocksSnapshotStore s = (RocksSnapshotStore) snapshots(name);
      checked += s.verifyAll(problems);
    }
    progress.report("snapshots", done, snapshotStores.size());
    List<String> logStoresNamed = new ArrayList<>();
    for (String entry : catalogCopy().keySet()) {
      if (entry.startsWith("log/")) {
        logStoresNamed.add(entry.substring("log/".length()));
      }
    }
    done = 0;
    for (String name : logStoresNamed) {
      progress.report("logs", done++, logStoresNamed.size());
      checked += logStore(name).verify(problems);
    }
    progress.report("logs", done, logStoresNamed.size());
    progress.report("catalog", 0, 1);
    checked += verifyCatalog(problems);
    progress.report("catalog", 1, 1);
    return new VerifyReport(name(), checked, problems);
  }

  /**
   * Checks the catalog against the data: every store id that holds data in a column family must be
   * named by a catalog entry of the matching kind (otherwise the entry was lost and the data is
   * unreachable: opening the store by name would silently start an empty one), no two entries share
   * an id, and every id is below {@code next-store-id}. Visits one key per store and column family.
   */
  private long verifyCatalog(List<String> problems) {
    Map<String, Integer> entries = catalogCopy();
    int limit;
    synchronized (catalogLock) {
      limit = nextStoreId;
    }
    Map<Integer, String> byId = new TreeMap<>();
    for (Map.Entry<String, Integer> e : entries.entrySet()) {
      String other = byId.putIfAbsent(e.getValue(), e.getKey());
      if (other != null) {
        problems.add(
            describe
                + ": catalog entries '"
                + other
                + "' and '"
                + e.getKey()
                + "' both claim store id "
                + e.getValue());
      }
      if (e.getValue() >= limit) {
        problems.add(
            describe
                + ": catalog entry '"
                + e.getKey()
                + "' has store id "
                + e.getValue()
                + " but next-store-id is "
                + limit);
      }
    }
    long checked = entries.size();
    Map<String, ColumnFamilyHandle> families = new LinkedHashMap<>();
    families.put("kv", kvCf);
    families.put("kv-expiry", expiryCf);
    families.put("log", logCf);
    families.put("snapshot", snapCf);
    for (Map.Entry<String, ColumnFamilyHandle> f : families.entrySet()) {
      String kind = f.getKey().equals("kv-expiry") ? "kv" : f.getKey();
      for (int sid : storeIdsIn(f.getValue(), f.getKey())) {
        checked++;
        String entry = byId.get(sid);
        if (entry == null || !entry.startsWith(kind + "/")) {
          problems.add(
              describe
                  + ": column family '"
                  + f.getKey()
                  + "' holds data of store id "
                  + sid
                  + (entry == null
                      ? ", which no catalog entry names: the catalog entry of a " + kind
                      : ", which the catalog names as '" + entry + "', not a " + kind)
                  + " store was lost and its data is unreachable; restore from a backup");
        }
      }
    }
    return checked;
  }

  /** The distinct store ids with keys in {@code cf}: one seek per store. */
  private List<Integer> storeIdsIn(ColumnFamilyHandle cf, String cfName) {
    return call(
        "verify",
        "column family " + cfName,
        () -> {
          List<Integer> ids = new ArrayList<>();
          try (RocksIterator it = db.newIterator(cf, readOptions)) {
            it.seekToFirst();
            while (it.isValid()) {
              byte[] k = it.key();
              if (k.length < 4) {
                it.next();
                continue;
              }
              int sid = Layout.getInt(k, 0);
              ids.add(sid);
              if (sid == -1) {
                break;
              }
              it.seek(Layout.sidEnd(sid));
            }
            it.status();
          }
          return ids;
        });
  }

  @Override
  public void compact(Progress progress) {
    Objects.requireNonNull(progress, "progress");
    progress.report("purge-expired", 0, -1);
    purgeAllExpired();
    progress.report("orphan-chunks", 0, -1);
    call(
        "compact",
        "snapshot chunks",
        () -> {
          deleteOrphanChunks();
          return null;
        });
    int i = 0;
    for (ColumnFamilyHandle cf : allCfs) {
      progress.report("compact-range", i++, allCfs.size());
      call(
          "compact",
          "column family " + i,
          () -> {
            try (CompactRangeOptions o = new CompactRangeOptions()) {
              o.setBottommostLevelCompaction(CompactRangeOptions.BottommostLevelCompaction.kForce);
              db.compactRange(cf, null, null, o);
            }
            return null;
          });
    }
    progress.report("compact-range", allCfs.size(), allCfs.size());
  }

  /**
   * Deletes chunks of saves no snapshot metadata refers to (a crash mid-save) and that no save in
   * this process is writing. Caller is inside the guard (or opening).
   */
  void deleteOrphanChunks() throws RocksDBException {
    Set<Long> referenced = new HashSet<>();
    long maxSeen = 0;
    try (RocksIterator it = db.newIterator(snapCf, readOptions)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        long saveId = Layout.getLong(it.value(), 0);
        referenced.add(saveId);
        maxSeen = Math.max(maxSeen, saveId);
      }
      it.status();
    }
    List<Long> orphans = new ArrayList<>();
    try (RocksIterator it = db.newIterator(chunkCf, readOptions)) {
      it.seekToFirst();
      while (it.isValid()) {
        long saveId = Layout.chunkSaveId(it.key());
        maxSeen = Math.max(maxSeen, saveId);
        if (!referenced.contains(saveId) && !savesInFlight.contains(saveId)) {
          orphans.add(saveId);
        }
        it.seek(Layout.savePrefix(saveId + 1));
      }
      it.status();
    }
    // Belt and braces: never hand out a save id that is already on disk.
    long floor = maxSeen + 1;
    nextSaveId.accumulateAndGet(floor, Math::max);
    if (!orphans.isEmpty()) {
      try (WriteBatch b = new WriteBatch()) {
        for (long id : orphans) {
          b.deleteRange(chunkCf, Layout.savePrefix(id), Layout.savePrefix(id + 1));
        }
        db.write(writeOptions(), b);
      }
      LOG.info("{}: removed chunks of {} unfinished snapshot saves", describe, orphans.size());
    }
  }

  @Override
  public void checkpoint(Path target, Progress progress) {
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(progress, "progress");
    Path t = target.toAbsolutePath().normalize();
    if (Files.exists(t)) {
      try (Stream<Path> entries = Files.list(t)) {
        if (entries.findAny().isPresent()) {
          throw new IllegalArgumentException(
              "Checkpoint target " + t + " is not empty; give an empty or absent directory");
        }
      } catch (IOException e) {
        throw new StorageEngineException("Cannot read checkpoint target " + t + ": " + e, e);
      }
      try {
        Files.delete(t); // RocksDB creates the directory itself
      } catch (IOException e) {
        throw new StorageEngineException("Cannot prepare checkpoint target " + t + ": " + e, e);
      }
    }
    progress.report("checkpoint", 0, 1);
    call(
        "checkpoint",
        "target " + t,
        () -> {
          try (Checkpoint cp = Checkpoint.create(db)) {
            cp.createCheckpoint(t.toString());
          }
          return null;
        });
    try {
      DataDirectory.tightenTree(t);
    } catch (IOException e) {
      throw new StorageEngineException(
          "Checkpoint of "
              + describe
              + " into "
              + t
              + " written, but setting 0700/0600 failed: "
              + e,
          e);
    }
    progress.report("checkpoint", 1, 1);
  }

  @Override
  public HealthCheck.Result health() {
    if (closed) {
      return HealthCheck.Result.unhealthy(describe + " is closed");
    }
    java.util.Optional<String> directory = dataDirectory.problem();
    if (directory.isPresent()) {
      return HealthCheck.Result.unhealthy(directory.get());
    }
    PersistenceException stopped = engineDown != null ? engineDown : stoppedBy;
    if (stopped != null) {
      return HealthCheck.Result.unhealthy(
          describe
              + " stopped accepting writes after an I/O error (Cairn restarts the engine once the"
              + " cause is gone): "
              + stopped.getMessage());
    }
    try {
      long errors =
          call(
              "health", "background errors", () -> db.getLongProperty("rocksdb.background-errors"));
      if (errors > 0) {
        return HealthCheck.Result.unhealthy(
            describe
                + " has "
                + errors
                + " RocksDB background errors (disk full or I/O error?); see its LOG file");
      }
      return HealthCheck.Result.healthy(describe + " is open");
    } catch (PersistenceException e) {
      return HealthCheck.Result.unhealthy(e.getMessage());
    }
  }

  // ---------------------------------------------------------------- close

  /**
   * Stops the sweeper, waits for in-flight calls, closes abandoned iterators, removes the gauges,
   * flushes memtables when the WAL is off, then closes every native object exactly once in reverse
   * order of creation. Idempotent.
   */
  @Override
  public void close() {
    if (lifecycle.getReadHoldCount() > 0) {
      throw new IllegalStateException(
          "close() of " + describe + " called from inside one of its own operations");
    }
    synchronized (this) {
      if (closing) {
        return;
      }
      closing = true;
    }
    if (anchorBeat != null) {
      anchorBeat.shutdownNow();
      try {
        anchorBeat.awaitTermination(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (sweeper != null) {
      sweeper.shutdown();
      try {
        if (!sweeper.awaitTermination(30, TimeUnit.SECONDS)) {
          sweeper.shutdownNow();
        }
      } catch (InterruptedException e) {
        sweeper.shutdownNow();
        Thread.currentThread().interrupt();
      }
    }
    PersistenceException failure = null;
    lifecycle.writeLock().lock();
    try {
      closed = true;
      for (ScanIterator it : List.copyOf(openIterators)) {
        it.closeNative();
      }
      openIterators.clear();
      for (String g : gaugeNames) {
        context.metrics().remove(g);
      }
      if (db != null) {
        failure = flushOnClose();
        writeAnchor("close");
      }
      for (int i = natives.size() - 1; i >= 0; i--) {
        AutoCloseable n = natives.get(i);
        try {
          if (n instanceof RocksDB r) {
            r.closeE();
          } else {
            n.close();
          }
        } catch (RocksDBException e) {
          if (stoppedBy != null && context.durability() != Durability.NONE) {
            // RocksDB repeats the earlier I/O error (e.g. "Seen error. Skip writing buffer");
            // every acknowledged write is in the WAL and is replayed at the next open.
            LOG.warn(
                "{}: closed after the earlier I/O error ({}); acknowledged writes are in the"
                    + " write-ahead log and are replayed at the next open. RocksDB said: {}",
                describe,
                stoppedBy.getMessage(),
                e.getMessage());
          } else if (failure == null) {
            failure = RocksErrors.translate(e, "close", describe, dir);
          }
        } catch (Exception e) {
          if (failure == null) {
            failure = new StorageEngineException("Closing " + describe + " failed: " + e, e);
          }
        }
      }
      natives.clear();
    } finally {
      lifecycle.writeLock().unlock();
    }
    dataDirectory.tightenPermissions();
    if (opened) {
      dataDirectory.close();
    }
    if (failure != null) {
      throw failure;
    }
  }

  /**
   * Flushes every memtable so that a clean shutdown leaves all data in SST files (recorded in the
   * MANIFEST) and nothing only in the WAL: the WAL files become obsolete and RocksDB deletes them,
   * so damage to a {@code .log} file after a clean close cannot lose anything. With the WAL off
   * ({@code none}) a failed flush loses the memtables and is reported; with the WAL on, the data is
   * still in the WAL and is replayed at the next open, so a failure (a full disk) is logged and
   * close goes on. Caller holds the lifecycle write lock.
   */
  private PersistenceException flushOnClose() {
    try (FlushOptions fo = new FlushOptions().setWaitForFlush(true)) {
      db.flush(fo, allCfs);
      return null;
    } catch (RocksDBException e) {
      if (context.durability() == Durability.NONE) {
        return RocksErrors.translate(
            e, "flush on close (writes since the last flush are lost)", describe, dir);
      }
      LOG.warn(
          "{}: flushing memtables on close failed ({}); the data stays in the write-ahead log and"
              + " is replayed at the next open",
          describe,
          e.getMessage());
      return null;
    }
  }

  /**
   * Keeps the {@link Anchor} close behind the WAL while the backend runs ({@code normal} and {@code
   * full}): every {@link #ANCHOR_BEAT_MILLIS} ms, if the sequence number moved, makes the WAL
   * durable up to it ({@code syncWal} under {@code normal}; under {@code full} every acknowledged
   * write already is) and records it. A crashed process's WAL truncated or replaced afterwards then
   * recovers below the anchor and the open is refused instead of silently losing the writes in the
   * cut part; only the writes of the last interval before a crash stay undetectable if cut. Under
   * {@code normal} this also bounds what a power loss can take to about one interval.
   */
  private void startAnchorBeat() {
    if (context.durability() == Durability.NONE || ANCHOR_BEAT_MILLIS <= 0) {
      return;
    }
    anchorBeat =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "cairn-rocksdb-anchor-" + name());
              t.setDaemon(true);
              return t;
            });
    anchorBeat.scheduleWithFixedDelay(
        this::anchorBeatOnce, ANCHOR_BEAT_MILLIS, ANCHOR_BEAT_MILLIS, TimeUnit.MILLISECONDS);
  }

  private void anchorBeatOnce() {
    try {
      call(
          "record state",
          Anchor.FILE,
          () -> {
            long seq = db.getLatestSequenceNumber();
            if (seq == anchoredSequence) {
              return null;
            }
            if (context.durability() == Durability.NORMAL) {
              db.syncWal();
            }
            try {
              Anchor.write(dir, seq);
              anchoredSequence = seq;
            } catch (IOException e) {
              LOG.debug("{}: could not record its state: {}", describe, e.toString());
            }
            return null;
          });
    } catch (RuntimeException e) {
      // closed, restarting or failing: the next beat (or close) tries again
    }
  }

  /** Records the engine's state in {@link Anchor}; a failure is logged (the old one stays). */
  private void writeAnchor(String when) {
    try {
      Anchor.write(dir, db.getLatestSequenceNumber());
    } catch (IOException | RuntimeException e) {
      LOG.warn(
          "{}: could not record its state in {} at {} ({}); the previous record stays",
          describe,
          dir.resolve(Anchor.FILE),
          when,
          e.toString());
    }
  }

  // ---------------------------------------------------------------- files

  /**
   * Moves every engine file (everything but cairn.lock and earlier quarantines) into a new {@code
   * corrupt-<UTC stamp>} directory inside the data directory, so the backend can start empty while
   * keeping its lock. Called with the engine closed.
   */
  private static Path quarantineDirectory(
      DataDirectory dataDirectory, String describe, StoreCorruptedException e) {
    Path aside;
    try {
      aside = dataDirectory.quarantine(dataDirectory.engineEntries());
    } catch (IOException io) {
      PersistenceException failure =
          new StoreCorruptedException(
              describe
                  + " is corrupt and on-corruption = quarantine, but moving its files aside into a "
                  + DataDirectory.QUARANTINE_PREFIX
                  + "<stamp> directory of "
                  + dataDirectory.path()
                  + " failed: "
                  + io
                  + ". Move or delete the damaged files by hand.",
              e);
      failure.addSuppressed(io);
      throw failure;
    }
    LOG.warn(
        "{} was corrupt ({}); moved its files to {} and started empty (on-corruption = quarantine)",
        describe,
        e.getMessage(),
        aside);
    return aside;
  }
}
