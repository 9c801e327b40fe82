package io.cairn.backend.rocksdb;

import io.cairn.persistence.BackendClosedException;
import io.cairn.persistence.Durability;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.StorageEngineException;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.DataDirectory;
import io.cairn.persistence.spi.Encryption;
import io.cairn.persistence.spi.StripedReadWriteLock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.FlushOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.Status;
import org.rocksdb.WriteBufferManager;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The native-resource guard of {@link RocksStorageEngine}: owns the RocksDB handles (database,
 * column families, options, block cache), opens and closes them, runs every native call inside a
 * guard, translates engine errors, and restarts the engine in place after an I/O error. The engine
 * extends it and reaches the handles ({@code db}, {@link #family}) and the guard ({@code call},
 * {@code enter}/{@code exit}) directly; the column families come from the engine ({@link
 * #columnFamilies}), every family found on disk is opened too (so a directory an older layout left
 * opens, and its migration can read it).
 *
 * <h2>Durability</h2>
 *
 * {@code none}: WAL disabled, memtables reach disk at flush, on close (an explicit flush) and
 * through {@code atomic_flush}; a process crash loses what was not flushed. {@code normal}: every
 * write appends to the WAL (handed to the OS, no fsync), surviving {@code kill -9}. {@code full}:
 * the WAL is fsynced before a write returns; concurrent synced writers share one fsync per group
 * ({@link SyncedWriteGroup}). A clean close flushes every memtable at every durability, so
 * afterwards all data is in SST files and the WAL holds nothing to lose ({@link #flushOnClose}).
 *
 * <h2>Write-ahead log damage</h2>
 *
 * WAL replay uses {@code wal-recovery-mode}, {@code auto} by default: {@code
 * tolerate-corrupted-tail-records} at {@code normal}/{@code full} (only an incomplete last record,
 * an unacknowledged write torn by the crash, is dropped; any other damage refuses to open with
 * {@link StoreCorruptedException} naming the WAL files), see {@link
 * RocksDbConfig.WalRecovery#resolve}. {@code track_and_verify_wals_in_manifest} and {@code
 * track_and_verify_wals} are on ({@link RocksOptions#WAL_TRACKING}), so a missing or truncated WAL
 * that the MANIFEST or the WAL chain knows about is refused too. Not detectable by RocksDB: the
 * active WAL of a crashed process truncated at a record boundary (indistinguishable from a crash
 * before those writes); {@link Anchor} catches it when the truncation reaches back past data that
 * was flushed.
 *
 * <h2>Memory</h2>
 *
 * One {@link LRUCache} of {@code memory-budget} bytes is shared by every column family for data,
 * index and filter blocks; a {@link WriteBufferManager} of {@code write-buffer-percent} of the
 * budget charges all memtables against the same cache. Native memory therefore stays near the
 * budget however many stores exist.
 *
 * <h2>Guard</h2>
 *
 * Every native call runs under the shared side of {@code lifecycle} after checking {@code closed};
 * {@link #shutdown} and {@link #restartEngine} take the exclusive side, so no call ever touches a
 * freed handle and use after close is a {@link BackendClosedException}, never a native crash. The
 * lock is a {@link StripedReadWriteLock}: concurrent calls on different threads do not contend on
 * one lock word.
 *
 * <h2>Iterators</h2>
 *
 * Every native iterator is opened and closed inside one guarded call (the base reads ranges in
 * pages), so none outlives the call and none can be left open when the handles close.
 */
abstract class RocksEngine {
  private static final Logger LOG = LoggerFactory.getLogger(RocksEngine.class);

  static {
    NativeLibrary.load(); // before any RocksDB object of any engine is built (idempotent)
  }

  /** Left in the data directory by corruption seen at run time; see {@link #failure}. */
  static final String CORRUPTION_MARKER = "CAIRN-CORRUPTION-SEEN";

  final BackendContext context;
  final RocksDbConfig config;
  final Path dir;
  final String describe;
  final Clock clock;
  final Encryption encryption;
  final DataDirectory dataDirectory;

  // Native resources, closed in reverse order of this list (handles before the db before options).
  private final List<AutoCloseable> natives = new ArrayList<>();
  RocksDB db;
  ColumnFamilyHandle metaCf;
  List<ColumnFamilyHandle> allCfs = List.of();
  private Map<String, ColumnFamilyHandle> families = Map.of();
  private WriteOptions writeOptions; // through writeOptions(), which checks the data directory
  private WriteOptions syncedWriteOptions; // WAL fsynced per write (WAL off at none)
  ReadOptions readOptions;
  private LRUCache cache;

  private final StripedReadWriteLock lifecycle = new StripedReadWriteLock();
  private volatile boolean closed;

  RocksEngine(BackendContext context, RocksDbConfig config, DataDirectory dataDirectory) {
    this.context = context;
    this.config = config;
    this.dataDirectory = dataDirectory;
    this.dir = context.dataDir();
    this.describe = context.describe();
    this.clock = context.clock();
    this.encryption = context.encryption();
  }

  /** Set once the open sequence succeeded: closing then closes the data directory too. */
  boolean ownsDirectory;

  /** Where the on-corruption policy moved a corrupt directory at this open, or empty. */
  volatile String quarantinedTo = "";

  /** How many times the natives were opened (open, restarts): a snapshot belongs to one. */
  private volatile int openings;

  int openings() {
    return openings;
  }

  /**
   * Runs once the natives are open and the anchor checked, inside the open sequence ({@link
   * RocksOpening}): reads state, registers gauges, starts background jobs. A throw closes the
   * engine and fails the open.
   */
  abstract void opened();

  /** Closes everything; the open sequence calls it when a step after construction fails. */
  public abstract void close();

  /**
   * The column families to open, {@code "default"} first: every family the database holds must be
   * named (RocksDB refuses an open that leaves one out). Called by {@link #openNatives} at open and
   * at every restart.
   */
  abstract List<String> columnFamilies();

  /**
   * {@code wanted} followed by every other column family the database in {@link #dir} holds (none
   * for a new directory): RocksDB refuses an open that leaves one out, and the two layouts share a
   * directory during the migration (layout 2's families beside layout 4's {@code records} and
   * {@code base}, see {@link Layout2Migration}), so either engine opens a directory the other left.
   */
  List<String> withExistingFamilies(List<String> wanted) {
    List<String> names = new ArrayList<>(wanted);
    if (Files.exists(dir.resolve("CURRENT"))) {
      try (org.rocksdb.Options o = new org.rocksdb.Options()) {
        for (byte[] cf : RocksDB.listColumnFamilies(o, dir.toString())) {
          String name = new String(cf, StandardCharsets.UTF_8);
          if (!names.contains(name)) {
            names.add(name);
          }
        }
      } catch (RocksDBException e) {
        throw RocksErrors.translate(e, "open (listing column families)", describe, dir);
      }
    }
    return names;
  }

  /** The open handle of column family {@code name}, or null if it was not opened. */
  ColumnFamilyHandle family(String name) {
    return families.get(name);
  }

  /**
   * Runs under the write lock after {@link #restartEngine} reopened the handles, before any call
   * sees them: state read from the engine (a log's offsets) is read again.
   */
  abstract void afterRestart();

  /**
   * Runs under the write lock just before {@link #restartEngine} closes the handles: releases what
   * refers to the database being closed (snapshots). Nothing by default.
   */
  void beforeRestart() {}

  /**
   * The write options for every write: first checks the data directory (failed after an I/O error,
   * deleted or replaced: throws; see {@link DataDirectory#beforeWrite()}).
   */
  WriteOptions writeOptions() {
    dataDirectory.beforeWrite();
    return writeOptions;
  }

  /**
   * As {@link #writeOptions()}, with the WAL fsynced before the write returns (at {@code none},
   * where the WAL is off, the same as {@link #writeOptions()}: the caller flushes memtables
   * instead).
   */
  WriteOptions syncedWriteOptions() {
    dataDirectory.beforeWrite();
    return syncedWriteOptions;
  }

  /**
   * Opens the database and its column families with the configured options, tracking every native
   * object for {@link #shutdown}. Called at open and by {@link #restartEngine}.
   */
  void openNatives() {
    RocksDbConfig c = config;
    try {
      cache = track(new LRUCache(c.memoryBudget(), -1, c.strictCacheLimit()));
      WriteBufferManager wbm = track(new WriteBufferManager(c.writeBufferBytes(), cache));
      DBOptions dbOptions = track(RocksOptions.dbOptions(c));
      if (!dataDirectory.readOnly()) {
        dbOptions.setListeners(List.of(track(new FileModeListener(dataDirectory))));
      }
      RocksOptions.applyDbDefaults(dbOptions, c, wbm, context.durability());
      ColumnFamilyOptions cfOptions = track(RocksOptions.cfOptions(c));
      BlockBasedTableConfig table = new BlockBasedTableConfig();
      table.setBlockCache(cache);
      table.setCacheIndexAndFilterBlocks(true);
      table.setPinL0FilterAndIndexBlocksInCache(true);
      if (c.bloomBitsPerKey() > 0) {
        table.setFilterPolicy(track(new BloomFilter(c.bloomBitsPerKey(), false)));
      }
      cfOptions.setTableFormatConfig(table);
      RocksOptions.applyCfDefaults(cfOptions, c);

      List<String> names = columnFamilies();
      List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
      for (String name : names) {
        descriptors.add(
            new ColumnFamilyDescriptor(name.getBytes(StandardCharsets.US_ASCII), cfOptions));
      }
      writeOptions = track(new WriteOptions());
      switch (context.durability()) {
        case NONE -> writeOptions.setDisableWAL(true);
        case NORMAL -> writeOptions.setSync(false);
        case FULL -> writeOptions.setSync(true);
      }
      syncedWriteOptions = track(new WriteOptions());
      syncedWriteOptions.setSync(context.durability() != Durability.NONE); // WAL off: flush instead
      syncedWriteOptions.setDisableWAL(context.durability() == Durability.NONE);
      readOptions = track(new ReadOptions());
      List<ColumnFamilyHandle> handles = new ArrayList<>();
      try {
        if (dataDirectory.readOnly()) {
          db = openSecondary(dbOptions, descriptors, handles);
        } else {
          db = RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
        }
      } finally {
        // Handles must close before the db: track the db first so they come after it in the list.
        if (db != null) {
          track(db);
        }
        for (ColumnFamilyHandle h : handles) {
          track(h);
        }
      }
      Map<String, ColumnFamilyHandle> byName = new LinkedHashMap<>();
      for (int i = 0; i < names.size(); i++) {
        byName.put(names.get(i), handles.get(i));
      }
      families = Map.copyOf(byName);
      metaCf = byName.get("default");
      allCfs = List.copyOf(handles);
      openings++; // one thread: open, or a restart under the exclusive lock
    } catch (RocksDBException e) {
      throw RocksErrors.translate(e, "open" + walContext(e), describe, dir);
    }
  }

  /** The secondary instance's own directory (read-only open), deleted at close; else null. */
  private Path secondaryDir;

  /**
   * {@code read-only = true}: a RocksDB secondary instance on the owner's files. It keeps its own
   * info log and MANIFEST copy in a private temporary directory, keeps every table file open
   * ({@code max_open_files = -1}, so the owner's compactions cannot pull a file from under it) and
   * catches up with the owner once, here: it sees the owner's state as of this open (including its
   * write-ahead log), not later writes. Takes no lock and writes nothing in the data directory.
   */
  private RocksDB openSecondary(
      DBOptions dbOptions,
      List<ColumnFamilyDescriptor> descriptors,
      List<ColumnFamilyHandle> handles)
      throws RocksDBException {
    try {
      secondaryDir = Files.createTempDirectory("cairn-rocksdb-secondary-");
    } catch (IOException e) {
      throw new StorageEngineException(
          "Cannot open "
              + describe
              + " read-only: creating the secondary instance's temporary directory in "
              + System.getProperty("java.io.tmpdir")
              + " failed: "
              + e,
          e);
    }
    dbOptions.setMaxOpenFiles(-1);
    RocksDB secondary =
        RocksDB.openAsSecondary(
            dbOptions, dir.toString(), secondaryDir.toString(), descriptors, handles);
    secondary.tryCatchUpWithPrimary();
    return secondary;
  }

  /**
   * For a corruption at open, names the WAL files present (RocksDB's recovery error does not name
   * the file) and what the recovery mode means, so the operator knows where the damage is and what
   * opening anyway would cost; a missing WAL file (RocksDB: "no WAL files", "Missing WAL") is named
   * as missing, since no recovery mode applies to it.
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
    String engine = String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT);
    if (engine.contains("no wal files") || engine.contains("missing wal")) {
      // not a damaged record: a whole file the directory's records name is gone, and with it the
      // acknowledged writes it held that no table file has yet
      return " (write-ahead log files "
          + wals
          + ": a write-ahead log file this directory records is missing, deleted or never"
          + " copied, and the acknowledged writes only it held would be lost if the open went on;"
          + " put the file back from where the directory came from, or restore the directory"
          + " from a backup)";
    }
    return " (write-ahead log files "
        + wals
        + ", wal-recovery-mode = "
        + config.walRecovery().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-')
        + ": a damaged WAL record that is not an incomplete last one is refused, because"
        + " replaying around it would silently drop the acknowledged writes after it;"
        + " wal-recovery-mode = point-in-time opens with the records before the damage only)";
  }

  private <T extends AutoCloseable> T track(T resource) {
    natives.add(resource);
    return resource;
  }

  // ---------------------------------------------------------------- guard and native calls

  /** A native call that may fail with a RocksDBException. */
  interface NativeCall<T> {
    T call() throws RocksDBException;
  }

  /** Enters the guard: throws {@link BackendClosedException} once closed. Pair with exit(). */
  void enter() {
    if (stoppedBy != null && lifecycle.sharedHoldCount() == 0) {
      restartEngine();
    }
    lifecycle.lockShared();
    if (closed) {
      lifecycle.unlockShared();
      throw new BackendClosedException(context.name());
    }
    PersistenceException down = engineDown;
    if (down != null) {
      lifecycle.unlockShared();
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
    lifecycle.lockExclusive();
    try {
      PersistenceException cause = stoppedBy;
      if (closed || cause == null) {
        return;
      }
      lastRestartNanos = System.nanoTime();
      beforeRestart();
      closeNatives();
      try {
        openNatives();
        stoppedBy = null;
        engineDown = null;
        afterRestart();
        LOG.warn("{}: restarted the engine after {}; writes resume", describe, cause.getMessage());
      } catch (RuntimeException e) {
        closeNatives();
        stoppedBy = cause;
        engineDown = e instanceof PersistenceException pe ? pe : cause;
        LOG.warn("{}: restarting the engine failed ({}); will retry", describe, e.toString());
      }
    } finally {
      lifecycle.unlockExclusive();
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
    lifecycle.unlockShared();
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

  boolean isClosed() {
    return closed;
  }

  /** Whether the calling thread is inside one of this backend's guarded calls. */
  boolean insideCall() {
    return lifecycle.sharedHoldCount() > 0;
  }

  /**
   * Why the engine does not accept writes (stopped by an I/O error, or a restart that failed), or
   * empty.
   */
  Optional<String> stoppedProblem() {
    PersistenceException stopped = engineDown != null ? engineDown : stoppedBy;
    if (stopped == null) {
      return Optional.empty();
    }
    return Optional.of(
        describe
            + " stopped accepting writes after an I/O error (Cairn restarts the engine once the"
            + " cause is gone): "
            + stopped.getMessage());
  }

  // ---------------------------------------------------------------- engine facts

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

  // ---------------------------------------------------------------- close

  /**
   * Marks the engine closed (waiting for in-flight calls), runs {@code whileLocked}, flushes
   * memtables, records the {@link Anchor}, then closes every native object exactly once in reverse
   * order of creation. Returns the first failure, to be thrown by the caller once it released its
   * other resources; null if none.
   */
  PersistenceException shutdown(Runnable whileLocked) {
    PersistenceException failure = null;
    lifecycle.lockExclusive();
    try {
      closed = true;
      whileLocked.run();
      if (db != null && !dataDirectory.readOnly()) {
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
      deleteSecondaryDir();
    } finally {
      lifecycle.unlockExclusive();
    }
    return failure;
  }

  /**
   * Flushes every memtable so that a clean shutdown leaves all data in SST files (recorded in the
   * MANIFEST) and nothing only in the WAL: the WAL files become obsolete and RocksDB deletes them,
   * so damage to a {@code .log} file after a clean close cannot lose anything. With the WAL off
   * ({@code none}) a failed flush loses the memtables and is reported; with the WAL on, the data is
   * still in the WAL and is replayed at the next open, so a failure (a full disk) is logged and
   * close goes on. rocksdbjni also throws unchecked exceptions here (an IllegalArgumentException
   * for a column family dropped under the engine): they are handled the same way, so that close
   * still releases every native object. Caller holds the lifecycle write lock.
   */
  private PersistenceException flushOnClose() {
    try (FlushOptions fo = new FlushOptions().setWaitForFlush(true)) {
      db.flush(fo, allCfs);
      return null;
    } catch (RocksDBException | RuntimeException e) {
      if (context.durability() == Durability.NONE) {
        String what = "flush on close (writes since the last flush are lost)";
        return e instanceof RocksDBException r
            ? RocksErrors.translate(r, what, describe, dir)
            : new StorageEngineException(describe + ": " + what + " failed: " + e, e);
      }
      LOG.warn(
          "{}: flushing memtables on close failed ({}); the data stays in the write-ahead log and"
              + " is replayed at the next open",
          describe,
          e.getMessage());
      return null;
    }
  }

  private void deleteSecondaryDir() {
    Path d = secondaryDir;
    if (d == null) {
      return;
    }
    secondaryDir = null;
    try (Stream<Path> files = Files.walk(d)) {
      for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException | UncheckedIOException e) {
      LOG.warn("{}: could not delete the secondary instance's directory {}: {}", describe, d, e);
    }
  }

  /** Records the engine's state in {@link Anchor}; a failure is logged (the old one stays). */
  void writeAnchor(String when) {
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
}
