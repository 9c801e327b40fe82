package io.cairn.backend.rocksdb;

import com.codahale.metrics.health.HealthCheck;
import io.cairn.persistence.Durability;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StorageEngineException;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.Bytes;
import io.cairn.persistence.spi.DataDirectory;
import io.cairn.persistence.spi.EngineRecords;
import io.cairn.persistence.spi.Sealer;
import io.cairn.persistence.spi.StorageEngine;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.CompactRangeOptions;
import org.rocksdb.FlushOptions;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * RocksDB as a {@link StorageEngine} for the shared base ({@link
 * io.cairn.persistence.spi.EngineBackend}): what type {@code rocksdb} opens ({@link
 * RocksDbBackendProvider}). The native-resource guard, error translation, restart after an I/O
 * error, durability mapping, WAL damage rules and memory budget are {@link RocksEngine}'s; the open
 * sequence (data directory, anchor, on-corruption) is {@link RocksOpening}'s; gauges, anchor beat,
 * checkpoint and health are {@link RocksUpkeep}'s.
 *
 * <h2>On-disk layout 4</h2>
 *
 * <pre>
 * column family "default"   (meta)
 *   "layout-version"   -> int32 4   written when the directory is created (and by the migrations:
 *                                    from layout 2 last, as its commit point; from layout 3 first)
 *   "layout-4-moving"  -> int32 3   only while the migration from layout 3 moves records: its
 *                                    removal is that migration's commit point (Layout3Migration)
 * column family "records"   the data: key-value entries of user namespaces, log records (a log's
 *                           non-empty keys), snapshot manifests and chunks
 * column family "base"      the base's bookkeeping (EngineRecords.isBookkeeping): every record of
 *                           the base's own stores (names starting with '_': version bound, catalog,
 *                           format markers, expiry indexes) and every log's position (its empty key)
 *   in both: kind:u8 | nameLength:u16 | name (UTF-8) | engine key  ->  the base's framed value
 *   kind: 1 key-value, 2 log, 3 snapshot set (EngineKeys; fixed codes, not StoreKind.ordinal())
 * </pre>
 *
 * <b>Why two families.</b> The base rewrites its bookkeeping records in many batches (a log's
 * position in every append, the version bound once per block of versions). Kept beside the data
 * (layout 3: one family), these fixed keys land in every memtable, so every flushed L0 file's key
 * range spans them and the data written with them, every L0 file overlaps every other, and RocksDB
 * cannot move a file down without rewriting it: a log or a bulk load written in key order is
 * compacted again and again as it grows (at 10M records layout 3 built logs at 0.36-0.56 of layout
 * 2's rate; benchmarks/RESULTS-rocksdb-port.md). In their own family, data written in key order
 * flushes to files with disjoint ranges, which RocksDB moves down untouched (trivial moves).
 *
 * <p><b>Atomic across the two.</b> A batch of the base that mixes data and bookkeeping (an append
 * and its position, an entry and its expiry-index record) is one RocksDB {@code WriteBatch}
 * spanning both families: atomic in the WAL, and at {@code none} (WAL off) kept whole on disk by
 * {@code atomic_flush}, which {@link RocksOptions#applyDbDefaults} always sets (after the
 * configuration's {@code db-options}, so they cannot turn it off): every flush writes every
 * family's memtable as of one point, so no flush persists half of a batch. Reads that span the two
 * (a log's {@link #range} from the empty key, {@link #stores()}, {@link #snapshot()}) read both at
 * one sequence number.
 *
 * <p><b>Recovery rule.</b> A record lives in exactly one family, the one {@link #familyOf} names
 * from its store and key alone; reads look nowhere else. The migrations keep that true at every
 * instant (each of their batches moves a record whole), so a crash leaves each record readable in
 * one place; an interrupted migration from layout 3 (marker {@code layout-4-moving} present) is
 * resumed by the next writable open before anything is read, and refused by a read-only one. Layout
 * 3 (one family, layout-version 3) is read by a read-only open as it is ({@code base} is then the
 * {@code records} family) and migrated by the first writable one ({@link Layout3Migration});
 * layouts 1 and 2 go straight to 4 at the first writable open ({@link Layout2Migration}).
 *
 * <h2>Checksums</h2>
 *
 * {@link #checksumsRecords()} is true: RocksDB checksums every SST block (CRC-32C, keys included;
 * checked on every read) and every WAL record, and reports damage as a Corruption status, which
 * {@link RocksErrors} turns into {@link io.cairn.persistence.StoreCorruptedException}. The base's
 * frames therefore carry no CRC trailer; the base still checks tag and flags, snapshot CRCs, log
 * gaps and its catalog. Memtables are not checksummed (as in layout 2).
 *
 * <h2>Durability</h2>
 *
 * The engine is opened at the backend's durability ({@code none} = WAL off, {@code normal} = WAL
 * without fsync, {@code full} = WAL fsynced per write, concurrent writers grouped in Java into one
 * fsynced RocksDB write by {@link SyncedWriteGroup}). A {@link #write} asking for more than that:
 * at {@code normal}, the batch is written with a synced WAL (which makes every earlier WAL record
 * durable too); at {@code none}, the batch is written, then every memtable is flushed to SST files
 * (waiting), so it and every earlier batch are on disk. Writes that do not fsync enter RocksDB at
 * most {@code advanced.max-concurrent-writes} at a time ({@link WriteAdmission} has why); synced
 * ones, at {@code full} or asking for more than {@code normal}, go through {@link
 * SyncedWriteGroup}.
 *
 * <h2>Snapshots</h2>
 *
 * {@link #snapshot()} is a RocksDB snapshot (one DB-mutex acquisition, nothing copied; writers
 * never wait for it; it keeps the versions it sees from compaction until closed). Open snapshots
 * are released before the engine closes (RocksDB refuses to close a database with unreleased
 * snapshots) and before a restart after an I/O error; a snapshot's reads after either throw.
 */
final class RocksStorageEngine extends RocksEngine implements StorageEngine {
  /** The layout this engine writes; see the class comment. */
  static final int LAYOUT_VERSION = 4;

  /** The layout before {@link #CF_BASE}: every record in {@link #CF_RECORDS}. */
  static final int LAYOUT_VERSION_ONE_FAMILY = 3;

  /** The column family of the data (see the class comment). */
  static final String CF_RECORDS = "records";

  /** The column family of the base's bookkeeping records (see the class comment). */
  static final String CF_BASE = "base";

  private final RocksUpkeep upkeep = new RocksUpkeep(this);
  private final boolean redactKeys; // keys are user data when encryption is on
  private final WriteAdmission admission;
  private final SyncedWriteGroup syncedWrites = new SyncedWriteGroup(this::writeSyncedGroup);
  private final Set<EngineSnapshot> snapshots = ConcurrentHashMap.newKeySet();
  private ColumnFamilyHandle records;
  private ColumnFamilyHandle base; // == records when a read-only open reads layout 3

  /** The background jobs (tests run an anchor beat directly). */
  RocksUpkeep upkeep() {
    return upkeep;
  }

  /** The group commit of synced writes (tests read its counts). */
  SyncedWriteGroup syncedWrites() {
    return syncedWrites;
  }

  /** The admission of unsynced writes (tests hold its permits). */
  WriteAdmission admission() {
    return admission;
  }

  /** The handle of {@link #CF_RECORDS} (tests damage records through it). */
  ColumnFamilyHandle records() {
    return records;
  }

  /**
   * The handle of {@link #CF_BASE} ({@link #records()} in a layout-3 directory opened read-only).
   */
  ColumnFamilyHandle base() {
    return base;
  }

  /**
   * The family holding {@code key} of {@code store}: {@link #CF_BASE} for the base's bookkeeping
   * ({@link EngineRecords#isBookkeeping}, the base's rule), else {@link #CF_RECORDS}.
   */
  ColumnFamilyHandle familyOf(StoreId store, byte[] key) {
    return EngineRecords.isBookkeeping(store, key) ? base : records;
  }

  private boolean closing;

  private RocksStorageEngine(
      BackendContext context, RocksDbConfig config, DataDirectory dataDirectory) {
    super(context, config, dataDirectory);
    this.redactKeys = Sealer.of(context).enabled();
    this.admission = new WriteAdmission(config.maxConcurrentWrites());
  }

  /**
   * Opens the engine in {@code context.dataDir()}, applying the on-corruption policy.
   *
   * @throws io.cairn.persistence.BackendLockedException if another instance holds the directory
   * @throws io.cairn.persistence.StoreCorruptedException on corruption with {@code on-corruption =
   *     fail}
   */
  static RocksStorageEngine open(BackendContext context, RocksDbConfig config) {
    return RocksOpening.open(context, config, RocksStorageEngine::new);
  }

  /**
   * {@code default}, {@code records} and {@code base}, plus every other family the database holds
   * (RocksDB refuses an open that leaves one out): a layout-2 directory's families are opened so
   * that {@link #opened()} can name what it found.
   */
  @Override
  List<String> columnFamilies() {
    List<String> names = withExistingFamilies(List.of("default", CF_RECORDS, CF_BASE));
    if (dataDirectory.readOnly()) {
      // a secondary instance cannot create a family: a layout-2 directory never opened by this
      // engine has no 'records' (checkLayout names what to do), a layout-3 one no 'base'
      List<String> existing = withExistingFamilies(List.of());
      names.removeIf(n -> (n.equals(CF_RECORDS) || n.equals(CF_BASE)) && !existing.contains(n));
    }
    return names;
  }

  /** Checks (or, in a new directory, writes) the layout version, then starts the upkeep. */
  @Override
  void opened() {
    records = family(CF_RECORDS);
    base = family(CF_BASE);
    checkLayout(); // first: a layout-2 directory opened read-only has no 'records' yet
    if (records == null) {
      throw new StorageEngineException(
          describe
              + " (opened read-only) has no column family '"
              + CF_RECORDS
              + "': it was never opened by this engine. Open it once writable.",
          null);
    }
    upkeep.registerGauges();
    if (!dataDirectory.readOnly()) {
      upkeep.startAnchorBeat();
    }
  }

  private void checkLayout() {
    byte[] stored = call("open", "layout version", () -> db.get(metaCf, Layout.LAYOUT_VERSION_KEY));
    if (stored == null) {
      if (allCfs.size() > 3) {
        throw new StorageEngineException(
            describe
                + " has column families "
                + columnFamilies()
                + " but no layout version:"
                + " not a directory this engine wrote. Point data-dir at a RocksDB directory"
                + " written by Cairn.",
            null);
      }
      if (!dataDirectory.readOnly()) {
        call(
            "open",
            "layout version",
            () -> {
              db.put(
                  metaCf,
                  syncedWriteOptions(),
                  Layout.LAYOUT_VERSION_KEY,
                  Layout.intBytes(LAYOUT_VERSION));
              return null;
            });
      }
      return;
    }
    int version = stored.length == 4 ? Layout.getInt(stored, 0) : -1;
    if (version == LAYOUT_VERSION) {
      if (call("open", "layout version", () -> Layout3Migration.interrupted(this))) {
        if (dataDirectory.readOnly()) {
          throw new StorageEngineException(
              describe
                  + " is in the middle of its migration from layout 3 to layout 4 (an open that"
                  + " ran it stopped before the end; some records are in column family '"
                  + CF_BASE
                  + "' already, the rest still in '"
                  + CF_RECORDS
                  + "'), and it is opened read-only, which cannot finish it. Open it once without"
                  + " read-only (the migration then goes on where it stopped), then read-only opens"
                  + " work.",
              null);
        }
        migrateLayout3();
        return;
      }
      if (allCfs.size() > 3 && !dataDirectory.readOnly()) {
        // a crash after the migration's commit point, before it dropped layout 2's families
        call(
            "open",
            "dropping layout 2's column families",
            () -> {
              Layout2Migration.dropOldFamilies(this);
              return null;
            });
      }
      return;
    }
    if (version == LAYOUT_VERSION_ONE_FAMILY) {
      if (dataDirectory.readOnly()) {
        base = records; // read as it is: every record in 'records'
      } else {
        migrateLayout3();
      }
      return;
    }
    if (version == Layout.LAYOUT_VERSION || version == Layout.LAYOUT_VERSION_UNTIMED_LOGS) {
      if (dataDirectory.readOnly()) {
        throw new StorageEngineException(
            describe
                + " holds layout "
                + version
                + " (written by the rocksdb backend before the shared base) and is opened"
                + " read-only: it is migrated to layout "
                + LAYOUT_VERSION
                + " at its first writable open. Open it once without read-only (e.g. stop the"
                + " service and run it with this Cairn version), then read-only opens work.",
            null);
      }
      call(
          "migrate layout " + version + " to " + LAYOUT_VERSION,
          "column family " + CF_RECORDS,
          () -> {
            Layout2Migration.run(this, version);
            return null;
          });
      return;
    }
    throw new StorageEngineException(
        describe
            + " holds layout version "
            + version
            + ", which this Cairn does not know (it reads "
            + LAYOUT_VERSION
            + "): written by a newer Cairn? Open it with that version.",
        null);
  }

  private void migrateLayout3() {
    call(
        "migrate layout " + LAYOUT_VERSION_ONE_FAMILY + " to " + LAYOUT_VERSION,
        "column families " + CF_RECORDS + " and " + CF_BASE,
        () -> {
          Layout3Migration.run(this);
          return null;
        });
  }

  @Override
  void afterRestart() {
    boolean oneFamily = base == records;
    records = family(CF_RECORDS);
    base = oneFamily ? records : family(CF_BASE);
  }

  @Override
  void beforeRestart() {
    releaseSnapshots();
  }

  private void releaseSnapshots() {
    for (EngineSnapshot s : List.copyOf(snapshots)) {
      s.release();
    }
  }

  // ---------------------------------------------------------------- reads

  /**
   * The guard by hand instead of {@link #call}: a get is the hottest call, and {@code call}'s
   * failure text (store and key display) built eagerly plus its capturing lambda were ~15 % of a
   * get's CPU (RESULTS-rocksdb-port.md, session 4); the text is built only when RocksDB fails.
   */
  @Override
  public byte[] get(StoreId store, byte[] key) {
    byte[] k = EngineKeys.key(store, key);
    enter();
    try {
      return db.get(familyOf(store, key), readOptions, k);
    } catch (RocksDBException e) {
      throw failure(e, "get", where(store, key));
    } finally {
      exit();
    }
  }

  @Override
  public List<Record> range(StoreId store, byte[] fromInclusive, byte[] toExclusive, int limit) {
    return call(
        "range",
        store.toString(),
        () -> range(readOptions, store, fromInclusive, toExclusive, limit));
  }

  /**
   * Caller is inside the guard. A store's records are in one family, except a log's (its position,
   * the empty key, is in {@link #CF_BASE}): a range of a log from the empty key reads the position
   * first, then the records, both at one sequence number ({@code options}' snapshot, or one taken
   * here) so the call stays one consistent read.
   */
  private List<Record> range(
      ReadOptions options, StoreId store, byte[] fromInclusive, byte[] toExclusive, int limit)
      throws RocksDBException {
    byte[] prefix = EngineKeys.prefix(store);
    byte[] from = EngineKeys.key(prefix, fromInclusive);
    byte[] to =
        toExclusive == null ? Bytes.prefixUpperBound(prefix) : EngineKeys.key(prefix, toExclusive);
    List<Record> out = new ArrayList<>(Math.min(limit, 256));
    if (to != null && Arrays.compareUnsigned(from, to) >= 0) {
      return out;
    }
    ColumnFamilyHandle cf = familyOf(store, fromInclusive);
    if (cf == base && base != records && holdsData(store)) {
      // a log from its empty key: the position, then the records after it
      return atOnePoint(options, at -> positionThenRecords(at, prefix, from, to, limit, out));
    }
    return scan(cf, options, prefix, from, to, limit, out);
  }

  /** Any non-empty engine key: what {@link #holdsData} asks the spi's rule about. */
  private static final byte[] NON_EMPTY_KEY = {0};

  /**
   * Whether {@code store} keeps data besides bookkeeping, by the spi's rule asked about a non-empty
   * key: a log (its records; its position alone is bookkeeping) or a user store, not one of the
   * base's own.
   */
  private static boolean holdsData(StoreId store) {
    return !EngineRecords.isBookkeeping(store, NON_EMPTY_KEY);
  }

  /** A read of several native calls. */
  private interface Read<T> {
    T read(ReadOptions options) throws RocksDBException;
  }

  /**
   * Runs {@code read} with read options that see one sequence number across calls and families:
   * {@code options} if it has a snapshot already (a read transaction) or the instance is a
   * read-only secondary (which does not change after it caught up at open, and refuses snapshots);
   * else a snapshot taken for this read and released after it (one DB-mutex acquisition).
   */
  private <T> T atOnePoint(ReadOptions options, Read<T> read) throws RocksDBException {
    if (options.snapshot() != null || dataDirectory.readOnly()) {
      return read.read(options);
    }
    org.rocksdb.Snapshot now = db.getSnapshot();
    try (ReadOptions at = new ReadOptions().setSnapshot(now)) {
      return read.read(at);
    } finally {
      db.releaseSnapshot(now);
    }
  }

  private List<Record> positionThenRecords(
      ReadOptions options, byte[] prefix, byte[] from, byte[] to, int limit, List<Record> out)
      throws RocksDBException {
    byte[] position = db.get(base, options, from);
    if (position != null) {
      out.add(new Record(new byte[0], position));
    }
    byte[] afterPosition = Arrays.copyOf(from, from.length + 1); // the least non-empty key
    return scan(records, options, prefix, afterPosition, to, limit, out);
  }

  /** Adds the records of {@code cf} in [from, to) to {@code out} until it holds {@code limit}. */
  private List<Record> scan(
      ColumnFamilyHandle cf,
      ReadOptions options,
      byte[] prefix,
      byte[] from,
      byte[] to,
      int limit,
      List<Record> out)
      throws RocksDBException {
    if (out.size() >= limit) {
      return out;
    }
    try (RocksIterator it = db.newIterator(cf, options)) {
      for (it.seek(from); it.isValid() && out.size() < limit; it.next()) {
        byte[] k = it.key();
        if (to != null && Arrays.compareUnsigned(k, to) >= 0) {
          break;
        }
        out.add(new Record(Arrays.copyOfRange(k, prefix.length, k.length), it.value()));
      }
      it.status();
    }
    return out;
  }

  /**
   * The stores of both families, read at one sequence number; one seek per store: after a store's
   * first key, the next seek goes past its prefix.
   */
  @Override
  public SortedSet<StoreId> stores() {
    return call(
        "list stores",
        "column families " + CF_RECORDS + " and " + CF_BASE,
        () -> {
          TreeSet<StoreId> out = new TreeSet<>();
          atOnePoint(
              readOptions,
              at -> {
                for (ColumnFamilyHandle cf : families()) {
                  eachStore(cf, at, (it, store, prefixLength) -> out.add(store));
                }
                return null;
              });
          return Collections.unmodifiableSortedSet(out);
        });
  }

  /** The families holding records: {@code records} and {@code base}, or the one of layout 3. */
  private List<ColumnFamilyHandle> families() {
    return base == records ? List.of(records) : List.of(records, base);
  }

  String name(ColumnFamilyHandle cf) {
    return cf == records ? CF_RECORDS : CF_BASE;
  }

  /** What {@link #eachStore} does at a store's first record. */
  interface StoreVisitor {
    /**
     * {@code it} is at the first record of {@code store} (its key begins with the store's prefix of
     * {@code prefixLength} bytes); the visitor may move it forward (not backward).
     */
    void visit(RocksIterator it, StoreId store, int prefixLength) throws RocksDBException;
  }

  /**
   * Calls {@code visitor} at the first record of each store of {@code cf}, in key order, then seeks
   * past that store: one seek per store. A key naming no store is {@link
   * io.cairn.persistence.StoreCorruptedException} naming the family. Caller is inside the guard.
   */
  void eachStore(ColumnFamilyHandle cf, ReadOptions options, StoreVisitor visitor)
      throws RocksDBException {
    String where = describe + ", column family '" + name(cf) + "'";
    try (RocksIterator it = db.newIterator(cf, options)) {
      it.seekToFirst();
      while (it.isValid()) {
        byte[] k = it.key();
        int p = EngineKeys.prefixLength(k, where);
        visitor.visit(it, EngineKeys.store(k, where), p);
        byte[] next = Bytes.prefixUpperBound(Arrays.copyOf(k, p));
        if (next == null) {
          break;
        }
        it.seek(next);
      }
      it.status();
    }
  }

  // ---------------------------------------------------------------- writes

  @Override
  public boolean concurrentWrites() {
    return true; // db.write, put and delete are thread-safe and atomic; RocksDB groups writers
  }

  @Override
  public boolean checksumsRecords() {
    return true;
  }

  /**
   * The guard by hand, as {@link #get}: the failure text (store and key display for a one-record
   * write) is built only when RocksDB fails, and no capturing lambda is made; both were most of
   * what a put allocated beyond the engine (RESULTS-rocksdb-port.md, 2026-12-07).
   */
  @Override
  public void write(List<Write> batch, Durability durability) {
    Durability open = context.durability();
    boolean stronger = durability.compareTo(open) > 0;
    // the WAL is fsynced: at full, or a write asking more than normal (at none, where the WAL is
    // off, a stronger write flushes the memtables instead)
    boolean synced = open == Durability.FULL || (stronger && open == Durability.NORMAL);
    // synced writes share fsyncs in the group commit: never held in turn (WriteAdmission)
    boolean admitted = !stronger && !synced;
    enter();
    if (admitted) {
      admission.enter();
    }
    try {
      if (synced) {
        syncedWrites.write(batch);
      } else if (batch.size() == 1) {
        writeOne(batch.get(0), stronger ? syncedWriteOptions() : writeOptions());
      } else {
        writeBatch(List.of(batch), stronger ? syncedWriteOptions() : writeOptions());
      }
      if (stronger && open == Durability.NONE) {
        try (FlushOptions fo = new FlushOptions().setWaitForFlush(true)) {
          db.flush(fo, allCfs); // WAL off: only SST files hold it (and every earlier batch)
        }
      }
    } catch (RocksDBException e) {
      throw failure(
          e,
          "write",
          batch.size() == 1
              ? where(batch.get(0).store(), batch.get(0).key())
              : batch.size() + " records");
    } finally {
      if (admitted) {
        admission.exit();
      }
      exit();
    }
  }

  /**
   * One group of {@link SyncedWriteGroup}, with the WAL fsynced: a lone single-record write as
   * {@link #writeOne}, else every write's records in one native batch. Runs on the group's leader,
   * which (like every member) is inside the guard.
   */
  private void writeSyncedGroup(List<List<Write>> group) throws RocksDBException {
    WriteOptions options = syncedWriteOptions();
    if (group.size() == 1 && group.get(0).size() == 1) {
      writeOne(group.get(0).get(0), options);
    } else {
      writeBatch(group, options);
    }
  }

  /**
   * One record through RocksDB's own put or delete (which wraps it in a batch natively): no Java
   * {@code WriteBatch}, so no native allocation, put and dispose calls per write. Caller is inside
   * the guard.
   */
  private void writeOne(Write w, WriteOptions options) throws RocksDBException {
    byte[] k = EngineKeys.key(w.store(), w.key());
    if (w.isDelete()) {
      db.delete(familyOf(w.store(), w.key()), options, k);
    } else {
      db.put(familyOf(w.store(), w.key()), options, k, w.value());
    }
  }

  /**
   * The records of one or more writes in one native {@code WriteBatch}, each into its family:
   * atomic across both (see the class comment). Caller is inside the guard.
   */
  private void writeBatch(List<List<Write>> writes, WriteOptions options) throws RocksDBException {
    try (WriteBatch wb = new WriteBatch()) {
      byte[] lastPrefix = null;
      StoreId lastStore = null;
      for (List<Write> batch : writes) {
        for (Write w : batch) {
          if (!w.store().equals(lastStore)) {
            lastStore = w.store();
            lastPrefix = EngineKeys.prefix(lastStore);
          }
          byte[] k = EngineKeys.key(lastPrefix, w.key());
          ColumnFamilyHandle cf = familyOf(lastStore, w.key());
          if (w.isDelete()) {
            wb.delete(cf, k);
          } else {
            wb.put(cf, k, w.value());
          }
        }
      }
      db.write(options, wb);
    }
  }

  private String where(StoreId store, byte[] key) {
    return store + ", key " + Bytes.toDisplay(key, redactKeys);
  }

  // ---------------------------------------------------------------- snapshots

  @Override
  public boolean offersSnapshots() {
    return true;
  }

  @Override
  public Snapshot snapshot() {
    return call(
        "snapshot",
        "read transaction",
        () -> {
          EngineSnapshot s = new EngineSnapshot(db.getSnapshot(), openings());
          snapshots.add(s);
          return s;
        });
  }

  /** A RocksDB snapshot with its own read options; see the class comment. */
  private final class EngineSnapshot implements Snapshot {
    private final org.rocksdb.Snapshot snapshot;
    private final ReadOptions options;
    private final int opening;
    private boolean released; // under this object's monitor

    EngineSnapshot(org.rocksdb.Snapshot snapshot, int opening) {
      this.snapshot = snapshot;
      this.options = new ReadOptions().setSnapshot(snapshot);
      this.opening = opening;
    }

    @Override
    public byte[] get(StoreId store, byte[] key) {
      byte[] k = EngineKeys.key(store, key);
      enter(); // as the engine's get: the failure text only on failure
      try {
        check();
        return db.get(familyOf(store, key), options, k);
      } catch (RocksDBException e) {
        throw failure(e, "get (read transaction)", where(store, key));
      } finally {
        exit();
      }
    }

    @Override
    public List<Record> range(StoreId store, byte[] fromInclusive, byte[] toExclusive, int limit) {
      return call(
          "range (read transaction)",
          store.toString(),
          () -> {
            check();
            return RocksStorageEngine.this.range(options, store, fromInclusive, toExclusive, limit);
          });
    }

    /** Caller is inside the guard. */
    private synchronized void check() {
      if (released || opening != openings()) {
        throw new StorageEngineException(
            describe
                + ": this read transaction's snapshot was released (the engine closed or restarted"
                + " after an I/O error since it was taken); run the read transaction again.",
            null);
      }
    }

    @Override
    public void close() {
      try {
        enter();
      } catch (PersistenceException e) {
        return; // closed or stopped: release() ran (or runs) under the guard's exclusive side
      }
      try {
        release();
      } finally {
        exit();
      }
    }

    /** Releases the RocksDB snapshot once; inside the guard or under its exclusive side. */
    synchronized void release() {
      snapshots.remove(this);
      if (released) {
        return;
      }
      released = true;
      if (opening == openings()) {
        db.releaseSnapshot(snapshot);
      }
      options.close();
    }
  }

  // ---------------------------------------------------------------- maintenance

  /**
   * Every SST block's checksum ({@code VerifyChecksum}; one problem if it fails), then that every
   * record is in the family {@link #familyOf} names (one problem per store that has one elsewhere:
   * reads never look there, so it would be invisible). The second check seeks once per store: a
   * store's bookkeeping records sort before its data (its position is its empty key), so its first
   * record in each family and the one after a position tell.
   */
  @Override
  public void verify(List<String> problems, Progress progress) {
    progress.report("rocksdb-checksums", 0, 1);
    enter();
    try {
      db.verifyChecksum();
    } catch (RocksDBException e) {
      problems.add(describe + ": RocksDB checksum verification failed: " + e.getMessage());
    } finally {
      exit();
    }
    progress.report("rocksdb-checksums", 1, 1);
    if (base == records) {
      return; // layout 3 read-only: one family
    }
    progress.report("rocksdb-families", 0, 1);
    call(
        "verify",
        "column families " + CF_RECORDS + " and " + CF_BASE,
        () -> {
          eachStore(
              records,
              readOptions,
              (it, store, p) -> {
                if (EngineRecords.isBookkeeping(store, engineKey(it.key(), p))) {
                  problems.add(misplaced(store, engineKey(it.key(), p), records));
                }
              });
          eachStore(
              base,
              readOptions,
              (it, store, p) -> {
                if (!EngineRecords.isBookkeeping(store, engineKey(it.key(), p))) {
                  problems.add(misplaced(store, engineKey(it.key(), p), base));
                } else if (holdsData(store)) {
                  // a log: only its position belongs here
                  byte[] prefix = Arrays.copyOf(it.key(), p);
                  it.next();
                  if (it.isValid() && Layout.startsWith(it.key(), prefix)) {
                    problems.add(misplaced(store, engineKey(it.key(), p), base));
                  }
                }
              });
          return null;
        });
    progress.report("rocksdb-families", 1, 1);
  }

  private static byte[] engineKey(byte[] rocksKey, int prefixLength) {
    return Arrays.copyOfRange(rocksKey, prefixLength, rocksKey.length);
  }

  private String misplaced(StoreId store, byte[] key, ColumnFamilyHandle found) {
    return describe
        + ": "
        + store
        + " has a record (key "
        + Bytes.toDisplay(key, redactKeys)
        + ") in column family '"
        + name(found)
        + "', where reads never look for it (it belongs in '"
        + (found == records ? CF_BASE : CF_RECORDS)
        + "'): written by something other than this engine, or damage. Restore from a backup.";
  }

  /** {@code CompactRange} over every family, bottommost level forced (tombstones go). */
  @Override
  public void compact(Progress progress) {
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

  @Override
  public void checkpoint(Path target, Progress progress) {
    upkeep.checkpoint(target, progress);
  }

  @Override
  public long diskBytes() {
    return upkeep.directorySize();
  }

  @Override
  public Map<String, String> properties() {
    Map<String, String> props = new LinkedHashMap<>();
    props.put(
        "layout-version",
        String.valueOf(base == records ? LAYOUT_VERSION_ONE_FAMILY : LAYOUT_VERSION));
    props.put("memory-budget", String.valueOf(config.memoryBudget()));
    props.put(
        "wal-recovery-mode",
        config.walRecovery().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-')
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
    props.put("max-concurrent-writes", admission.describe());
    long groups = syncedWrites.groups();
    if (groups > 0) {
      props.put("synced-write-groups", String.valueOf(groups));
      props.put(
          "synced-writes-per-group",
          String.format(java.util.Locale.ROOT, "%.2f", syncedWrites.writes() / (double) groups));
    }
    for (Map.Entry<String, Long> e : engineProperties().entrySet()) {
      props.put(e.getKey(), String.valueOf(e.getValue()));
    }
    if (!quarantinedTo.isEmpty()) {
      props.put("quarantined-to", quarantinedTo);
    }
    return props;
  }

  /** Null while healthy (the base then reports the backend open), else why not. */
  @Override
  public HealthCheck.Result health() {
    HealthCheck.Result r = upkeep.health();
    return r.isHealthy() ? null : r;
  }

  // ---------------------------------------------------------------- close

  /**
   * Stops the anchor beat, waits for calls in flight, releases open snapshots, removes the gauges,
   * flushes memtables and closes every native object ({@link RocksEngine#shutdown}), then the data
   * directory. Idempotent.
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
    upkeep.stopAnchorBeat();
    PersistenceException failure =
        shutdown(
            () -> {
              releaseSnapshots();
              upkeep.removeGauges();
            });
    dataDirectory.tightenPermissions();
    if (ownsDirectory) {
      dataDirectory.close();
    }
    if (failure != null) {
      throw failure;
    }
  }

  @Override
  public String toString() {
    return describe;
  }
}
