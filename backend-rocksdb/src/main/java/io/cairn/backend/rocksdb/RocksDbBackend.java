package io.cairn.backend.rocksdb;

import com.codahale.metrics.health.HealthCheck;
import io.cairn.persistence.BackendStats;
import io.cairn.persistence.Capability;
import io.cairn.persistence.Durability;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.Progress;
import io.cairn.persistence.SnapshotStore;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.Transaction;
import io.cairn.persistence.VerifyReport;
import io.cairn.persistence.spi.ArgumentChecks;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.DataDirectory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatchWithIndex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Cairn backend over one RocksDB database. The on-disk layout is described in {@link Layout};
 * this class owns the opening sequence (with the on-corruption policy), the stores, transactions
 * and the close sequence. Its parts:
 *
 * <ul>
 *   <li>{@link RocksEngine}, which this class extends: the native-resource guard (handles, options,
 *       the guard every native call runs in, error translation, restart after an I/O error), with
 *       the durability, WAL-damage and memory rules;
 *   <li>{@link RocksCatalog}: the meta column family (layout version, store catalog, sequences);
 *   <li>{@link RocksMaintenance}: stats, gauges, health, verify, compact, checkpoint and the
 *       background jobs (expiry sweeper, {@link Anchor} beat).
 *   <li>{@link RocksImporter}: the {@link io.cairn.persistence.Importer} extension (exact copies of
 *       stores into empty ones, through the stores' own framing and sealing).
 * </ul>
 *
 * <h2>Concurrency</h2>
 *
 * <ul>
 *   <li>The engine's guard: every native call runs under the shared side of its lifecycle lock;
 *       {@link #close()} takes the exclusive side (see {@link RocksEngine}).
 *   <li>Both that lock and {@code txLock} are {@link StripedReadWriteLock}s, so concurrent single
 *       operations on different threads do not write one shared lock word.
 *   <li>{@code txLock}: single writes hold it shared, {@link #inTransaction} holds it exclusively,
 *       so a transaction's reads and its {@link WriteBatchWithIndex} see a stable base and commit
 *       all-or-nothing in one {@code write}.
 *   <li>Per-key striped locks serialise the read-modify-write that assigns KV versions; each log
 *       has its own lock for offsets. Reads take no lock.
 * </ul>
 *
 * <h2>Files and recovery at open</h2>
 *
 * The data directory is created (or reset) to mode 0700 and every file in it is set to 0600 at open
 * and at close (checkpoints likewise). RocksDB has no file-mode option, so files it creates while
 * open get the process umask until the next open or close; the 0700 directory already keeps other
 * users out of them. Runtime corruption leaves a {@code CAIRN-CORRUPTION-SEEN} marker so that,
 * under {@code on-corruption = quarantine}, the next open runs a full checksum pass and moves the
 * directory aside if it fails. Opening checks the {@link Anchor} before and after RocksDB's WAL
 * replay, then reads the catalog and removes the chunks of unfinished snapshot saves.
 */
final class RocksDbBackend extends RocksEngine implements io.cairn.persistence.StorageBackend {
  private static final Logger LOG = LoggerFactory.getLogger(RocksDbBackend.class);

  /**
   * Per-key stripe locks. Many, because a writer holds its stripe across RocksDB's write, and with
   * more writers than cores the holder is often descheduled: a writer whose key lands on a held
   * stripe then waits a scheduling slice, not a put. The chance of that is about (writers - 1) /
   * STRIPES per put; 8,192 locks keep it near 0.1% at 8 writers for about 400 KiB per backend.
   */
  static final int STRIPES = 8192;

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

  final RocksCatalog catalog = new RocksCatalog(this);
  final RocksMaintenance maintenance = new RocksMaintenance(this);

  private boolean closing;
  final StripedReadWriteLock txLock = new StripedReadWriteLock();

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

  /** The catalog's save-id sequence; snapshot stores take ids under its monitor. */
  final AtomicLong nextSaveId = catalog.nextSaveId;

  /** Save ids being written in this process; their chunks are not orphans. */
  final Set<Long> savesInFlight = ConcurrentHashMap.newKeySet();

  private final ConcurrentMap<String, RocksKvStore> kvStores = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, RocksLogStore> logStores = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, RocksSnapshotStore> snapStores = new ConcurrentHashMap<>();

  private final RocksImporter importer = new RocksImporter(this);

  private RocksDbBackend(
      BackendContext context, RocksDbConfig config, DataDirectory dataDirectory) {
    super(context, config, dataDirectory);
    for (int i = 0; i < STRIPES; i++) {
      stripes[i] = new ReentrantLock();
    }
  }

  /**
   * Opens the backend, applying the on-corruption policy ({@link RocksOpening}). Either returns an
   * open backend or throws with every native handle, lock and thread released.
   */
  static RocksDbBackend open(BackendContext context, RocksDbConfig config) {
    return RocksOpening.open(context, config, RocksDbBackend::new);
  }

  /** Whether {@code name} is an engine file; see {@link RocksOpening#isEngineFile}. */
  static boolean isEngineFile(String name) {
    return RocksOpening.isEngineFile(name);
  }

  /** Reads the catalog and starts the background jobs (see {@link RocksOpening}). */
  @Override
  void opened() {
    loadState();
    maintenance.registerGauges();
    if (!dataDirectory.readOnly()) { // read-only: a secondary instance writes nothing here
      maintenance.startSweeper();
      maintenance.startAnchorBeat();
    }
  }

  /** Reads the layout version, the catalog, log positions and cleans orphaned snapshot chunks. */
  private void loadState() {
    try {
      catalog.load();
      maintenance.deleteOrphanChunks();
    } catch (RocksDBException e) {
      throw RocksErrors.translate(e, "open (reading catalog)", describe, dir);
    }
  }

  /**
   * Layout 2's six column families ({@link Layout}), and any other the directory holds (layout 3's
   * {@code records} left by a migration that did not reach its commit point: opened, never used).
   */
  @Override
  List<String> columnFamilies() {
    return withExistingFamilies(
        List.of(
            "default",
            Layout.CF_KV,
            Layout.CF_KV_EXPIRY,
            Layout.CF_LOG,
            Layout.CF_SNAPSHOT,
            Layout.CF_SNAPSHOT_CHUNK));
  }

  @Override
  void afterRestart() {
    for (RocksLogStore log : logStores.values()) {
      log.reload();
    }
  }

  // ---------------------------------------------------------------- locks and sequences

  ReentrantLock stripe(int sid, byte[] key) {
    return stripes[stripeIndex(sid, key)];
  }

  static int stripeIndex(int sid, byte[] key) {
    // Arrays.hashCode leaves keys that differ in their last bytes in few high-bit patterns; the
    // murmur3 finaliser spreads them over all stripes.
    int h = sid * 31 + Arrays.hashCode(key);
    h ^= h >>> 16;
    h *= 0x85ebca6b;
    h ^= h >>> 13;
    h *= 0xc2b2ae35;
    h ^= h >>> 16;
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

  /** The next KV version from the backend-wide sequence; see {@link RocksCatalog#nextVersion}. */
  long nextVersion() throws RocksDBException {
    return catalog.nextVersion();
  }

  /** Whether the caller runs inside {@link #inTransaction} of this backend. */
  boolean inTransactionHere() {
    return IN_TRANSACTION.get() == this;
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
    EnumSet<Capability> caps =
        EnumSet.of(
            Capability.DURABLE,
            Capability.CHECKPOINT,
            Capability.LARGE_SNAPSHOTS,
            Capability.ENCRYPTION, // every value, payload and chunk goes through the Sealer
            Capability.SNAPSHOT_READS);
    if (dataDirectory.readOnly()) {
      caps.remove(Capability.CHECKPOINT); // a checkpoint needs the owning handle
    }
    return caps;
  }

  /** On one RocksDB snapshot; see {@link RocksReadTransaction}. */
  @Override
  public <T> T readTransaction(io.cairn.persistence.Transaction.ReadWork<T> work) {
    return RocksReadTransaction.run(this, work);
  }

  @Override
  public KeyValueStore keyValue(String namespace) {
    return kv(namespace);
  }

  RocksKvStore kv(String namespace) {
    ArgumentChecks.check("key-value namespace", namespace);
    checkOpen();
    RocksKvStore s = kvStores.get(namespace);
    if (s != null) {
      return s;
    }
    return kvStores.computeIfAbsent(
        namespace, n -> new RocksKvStore(this, n, catalog.storeId(StoreKind.KEY_VALUE, n)));
  }

  @Override
  public LogStore log(String name) {
    return logStore(name);
  }

  RocksLogStore logStore(String name) {
    ArgumentChecks.check("log", name);
    checkOpen();
    RocksLogStore s = logStores.get(name);
    if (s != null) {
      return s;
    }
    return logStores.computeIfAbsent(
        name, n -> RocksLogStore.load(this, n, catalog.storeId(StoreKind.LOG, n)));
  }

  @Override
  public SnapshotStore snapshots(String name) {
    ArgumentChecks.check("snapshot set", name);
    checkOpen();
    RocksSnapshotStore s = snapStores.get(name);
    if (s != null) {
      return s;
    }
    return snapStores.computeIfAbsent(
        name, n -> new RocksSnapshotStore(this, n, catalog.storeId(StoreKind.SNAPSHOT, n)));
  }

  @Override
  public SortedSet<StoreId> stores() {
    SortedSet<StoreId> result = new TreeSet<>();
    for (Map.Entry<String, Integer> e : catalog.entries().entrySet()) {
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

  /** Whether {@code cf} holds any key of store {@code sid}. */
  boolean hasAny(ColumnFamilyHandle cf, int sid) {
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

  /** {@link io.cairn.persistence.Importer} ({@link RocksImporter}) unless opened read-only. */
  @Override
  public <T> java.util.Optional<T> extension(Class<T> type) {
    Objects.requireNonNull(type, "type");
    if (type == io.cairn.persistence.Importer.class && !dataDirectory.readOnly()) {
      return java.util.Optional.of(type.cast(importer));
    }
    return java.util.Optional.empty();
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
    txLock.lockExclusive();
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
      txLock.unlockExclusive();
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
    return maintenance.stats();
  }

  @Override
  public VerifyReport verify(Progress progress) {
    return maintenance.verify(progress);
  }

  @Override
  public void compact(Progress progress) {
    maintenance.compact(progress);
  }

  @Override
  public void checkpoint(Path target, Progress progress) {
    maintenance.checkpoint(target, progress);
  }

  @Override
  public HealthCheck.Result health() {
    return maintenance.health();
  }

  // ---------------------------------------------------------------- close

  /**
   * Stops the background jobs, waits for in-flight calls, closes abandoned iterators, removes the
   * gauges, flushes memtables, then closes every native object exactly once in reverse order of
   * creation ({@link RocksEngine#shutdown}). Idempotent.
   */
  @Override
  public void close() {
    if (insideCall()) {
      throw new IllegalStateException(
          "close() of " + describe + " called from inside one of its own operations");
    }
    synchronized (this) {
      if (closing) {
        return;
      }
      closing = true;
    }
    maintenance.stopBackgroundJobs();
    PersistenceException failure = shutdown(maintenance::removeGauges);
    dataDirectory.tightenPermissions();
    if (ownsDirectory) {
      dataDirectory.close();
    }
    if (failure != null) {
      throw failure;
    }
  }
}
