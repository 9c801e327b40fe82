package io.cairn.persistence.spi;

import com.codahale.metrics.health.HealthCheck;
import io.cairn.persistence.BackendClosedException;
import io.cairn.persistence.BackendStats;
import io.cairn.persistence.Capability;
import io.cairn.persistence.Durability;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.Progress;
import io.cairn.persistence.ResealReport;
import io.cairn.persistence.SnapshotStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.StoreStats;
import io.cairn.persistence.Transaction;
import io.cairn.persistence.VerifyReport;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The shared base of backends: a complete {@link StorageBackend} over a {@link StorageEngine}'s few
 * primitives. Every rule that holds for all backends is written here once, so a backend built on it
 * (memory, the third-party example, any third party's) gets each of them, and each rule added here
 * holds for all of them:
 *
 * <ul>
 *   <li>argument and store-name checks ({@link ArgumentChecks}), before anything is touched;
 *   <li>closed state: every call after {@link #close()} — also on stores, iterators and snapshot
 *       streams handed out before — throws {@link BackendClosedException}; close waits for calls in
 *       flight;
 *   <li>TTL arithmetic and expiry filtering (expired entries are invisible at once), {@code
 *       purgeExpired} in bounded batches over an expiry index the base keeps in the entries' own
 *       batches ({@link ExpiryIndex}), so a purge reads the expired entries only;
 *   <li>version assignment: every write takes the next version of one backend-wide sequence
 *       reserved in blocks ({@link VersionSequence}), so a put writes blindly, without reading the
 *       entry it replaces; compare-and-set and compare-and-delete read it and compare against its
 *       version;
 *   <li>log offsets: gap-free, never reused (the log's position record is written in the same
 *       atomic batch as its records);
 *   <li>checksum framing of every record where the engine has none ({@link RecordFrame});
 *   <li>chunked snapshot streaming with a CRC-32C checked at end of data, atomic replacement by a
 *       manifest written last (the commit point), garbage chunks of crashed saves removed by {@link
 *       #compact};
 *   <li>sealing: every value, log payload and snapshot chunk passes through the one {@link Sealer},
 *       bound to its place by {@link AssociatedData}; such a backend therefore declares {@link
 *       Capability#ENCRYPTION};
 *   <li>transactions: writes buffered per store, reads through the view see them, committed as one
 *       engine batch; transactions are serialised with each other and with every write; a direct
 *       write on the thread running one throws {@link IllegalStateException}.
 *   <li>write ordering: versions, compare-and-set, offsets and manifests assigned under per-key,
 *       per-log and per-set write stripes, so an engine that opts in to {@link
 *       StorageEngine#concurrentWrites()} receives independent writes concurrently (see Concurrency
 *       below).
 *   <li>read transactions, when the engine offers {@link StorageEngine#snapshot()} (the backend
 *       then declares {@link Capability#SNAPSHOT_READS}): the view reads one engine snapshot
 *       through the stores' own read code, with expiry judged at the instant the snapshot was
 *       taken; writes, {@code compact}, transactions and nested read transactions on the thread
 *       running the work throw {@link IllegalStateException}; the view is checked to be used on
 *       that thread only.
 * </ul>
 *
 * <h2>Record layout in the engine (every value framed by {@link RecordFrame})</h2>
 *
 * <pre>
 * key-value namespace N   store (KEY_VALUE, N)
 *   user key              'K' | version i64 | expiresAt i64 (0 = never) | sealed value
 * its expiry index        store (KEY_VALUE, "_expiry." + N)   (reserved; see ExpiryIndex)
 *   expiresAt i64 | user key   'E'       one per entry with a TTL, in the entry's batches
 * the base's own facts    store (KEY_VALUE, "_cairn")          (reserved)
 *   "expiry-index"        'F' | format i32   written once the index is complete
 *   "log:" L              'G'                log L was written (see StoreCatalog)
 *   "snapshot:" S         'G' | count i64    snapshots in set S (see StoreCatalog)
 *   "store-catalog"       'F' | format i32   written once the catalog is complete
 *   "next-version"        'V' | bound i64    exclusive bound of the versions reserved (see
 *                                            VersionSequence)
 * log L                   store (LOG, L)
 *   empty key             'P' | first offset i64 | next offset i64      (absent = empty new log)
 *   offset i64 (8 bytes)  'T' | appendedAt i64 | sealed payload
 *                         ('L' | sealed payload: written before append times were stored)
 * snapshot set S          store (SNAPSHOT, S)
 *   'M' version i64       'M' | generation i64 | size i64 | crc32c i64 | createdAt i64 | chunks i32
 *   'C' version generation index (21 bytes)   'C' | sealed chunk
 * </pre>
 *
 * <h2>Commit points and recovery</h2>
 *
 * A key-value write (with its expiry index records), an append (records plus position) and a
 * transaction are each one engine batch: atomic by the engine's rule. A version is handed out only
 * once the bound of its block is written (at {@code FULL}), so a reopened backend continues above
 * every stored version ({@link VersionSequence} has the rule); a put leaves the replaced entry's
 * index record behind when the expiry changed (it does not read the entry), which {@code
 * purgeExpired} deletes once its instant passes and {@code verify} does not report. Opening builds
 * the expiry index once if its marker is absent (data written before it existed); the marker is
 * written last, so a crash during the build redoes it ({@link ExpiryIndex} has the rule); the
 * catalog of logs and snapshot sets is built the same way, and a log's entry goes in the batch of
 * its first position ({@link StoreCatalog}). Stores whose names start with {@code _} are the base's
 * own: no user name may, and {@link #stores()}, stats and reseal skip them. Truncating a log first
 * writes its new position (the commit point: readers never look below it), then deletes the records
 * below in pages; a crash between leaves records below the first offset, which reads never return
 * and {@link #compact} deletes. A snapshot save writes its chunks under a fresh random generation,
 * then the manifest (the commit point), then deletes the chunks of the generation it replaced;
 * chunks of a crashed save, or left by a crash before the old ones were deleted, belong to no
 * manifest and {@link #compact} deletes them (never those of a save in progress).
 *
 * <h2>Concurrency</h2>
 *
 * Reads run in parallel with each other and with writes (the engine's batches are atomic for
 * readers). Each write that must be ordered (a key's next version and compare-and-set, a log's
 * offsets, a snapshot set's manifest) runs holding the write stripe that orders it and writes its
 * engine batch before releasing it, so it is atomic without asking the engine for more than point
 * reads and atomic batches ({@link WriteOrder} has the rules and why); a put takes its version from
 * the sequence under the key's stripe, so one key's versions increase in the order its batches are
 * written:
 *
 * <ul>
 *   <li>single-key writes take the stripe of (namespace, key), {@code putAll} and a page of {@code
 *       purgeExpired} the stripes of their keys, in index order;
 *   <li>a log's writes and a snapshot set's writes take the stripe of the store: offsets are
 *       assigned in the order their batches are written, so readers see them appear in order, each
 *       with its record, never a gap that later fills;
 *   <li>transactions (for their whole work), imports, reseal pages and checkpoints take every
 *       stripe: nothing else writes meanwhile, as before.
 * </ul>
 *
 * If the engine {@link StorageEngine#concurrentWrites() opts in}, writes on different stripes reach
 * {@link StorageEngine#write} at the same time ({@value WriteOrder#STRIPES} stripes); two
 * concurrent batches never hold the same key. If it does not (the default), there is one stripe:
 * one {@code write} at a time, exactly the single write lock of before. Scans and snapshot loads
 * page through the engine and hold no lock between pages. A read transaction holds no lock of the
 * base while its work runs (taking the engine snapshot costs what the engine documents); {@link
 * #close()} does not wait for its work, whose next read throws {@link BackendClosedException}.
 * Close waits for every call in flight (writes included) and closes the engine after the last.
 *
 * <p>Durability with concurrent writes: a write that returned at {@link Durability#FULL} makes
 * durable every batch that had returned before it was called (the engine's rule), not the batches
 * of other threads still in flight beside it. Each caller's acknowledged writes are durable at its
 * durability, and the base's own orderings (snapshot chunks before their manifest, a log's batches
 * one after the other) are always of batches that returned before the next was called.
 */
public final class EngineBackend implements StorageBackend {
  /** How a backend built on the base describes itself. Immutable; build with {@link #builder}. */
  public static final class Options {
    final Set<Capability> capabilities;
    final Durability durability;
    final int snapshotChunkBytes;
    final long maxSnapshotBytes;
    final String maxSnapshotBytesKey;
    final String description;
    final Duration sweeperInterval;
    final boolean readOnly;

    private Options(Builder b) {
      EnumSet<Capability> caps = EnumSet.noneOf(Capability.class);
      caps.addAll(b.capabilities);
      caps.add(Capability.ENCRYPTION); // sealing is the base's: honoured for every engine
      this.capabilities = Collections.unmodifiableSet(caps);
      this.durability = b.durability;
      this.snapshotChunkBytes = b.snapshotChunkBytes;
      this.maxSnapshotBytes = b.maxSnapshotBytes;
      this.maxSnapshotBytesKey = b.maxSnapshotBytesKey;
      this.description = b.description;
      this.sweeperInterval = b.sweeperInterval;
      this.readOnly = b.readOnly;
    }

    /** Options for an engine that honours {@code durability}. */
    public static Builder builder(Durability durability) {
      return new Builder(durability);
    }

    /** Builder of {@link Options}. Not thread-safe. */
    public static final class Builder {
      private final Set<Capability> capabilities = EnumSet.noneOf(Capability.class);
      private final Durability durability;
      private int snapshotChunkBytes = 64 * 1024;
      private long maxSnapshotBytes = Long.MAX_VALUE;
      private String maxSnapshotBytesKey;
      private String description = "";
      private Duration sweeperInterval = Duration.ZERO;
      private boolean readOnly;

      private Builder(Durability durability) {
        this.durability = Objects.requireNonNull(durability, "durability");
      }

      /**
       * Capabilities the engine gives ({@link Capability#DURABLE}, {@link Capability#CHECKPOINT},
       * {@link Capability#LARGE_SNAPSHOTS}, {@link Capability#MULTI_PROCESS}); {@link
       * Capability#ENCRYPTION} is always added, the base honours it. {@link
       * Capability#SNAPSHOT_READS} is not given here: the base declares it exactly when the engine
       * {@link StorageEngine#offersSnapshots() offers snapshots}.
       */
      public Builder capabilities(Capability... caps) {
        capabilities.addAll(List.of(caps));
        return this;
      }

      /** Snapshot chunk size in bytes (default 64 KiB), 1 KiB to 64 MiB. */
      public Builder snapshotChunkBytes(int bytes) {
        if (bytes < 1024 || bytes > KeyValueStore.MAX_VALUE_BYTES) {
          throw new IllegalArgumentException("snapshot chunk size out of range: " + bytes);
        }
        this.snapshotChunkBytes = bytes;
        return this;
      }

      /**
       * Largest snapshot one save accepts, for an engine that keeps snapshots on the heap (no
       * {@link Capability#LARGE_SNAPSHOTS}); {@code configKey} is the backend's configuration key
       * that sets it, named in the error.
       */
      public Builder maxSnapshotBytes(long bytes, String configKey) {
        if (bytes < 1) {
          throw new IllegalArgumentException("max snapshot bytes must be positive: " + bytes);
        }
        this.maxSnapshotBytes = bytes;
        this.maxSnapshotBytesKey = Objects.requireNonNull(configKey, "configKey");
        return this;
      }

      /** A few words for the health check, e.g. {@code "heap only"}. */
      public Builder description(String description) {
        this.description = Objects.requireNonNull(description, "description");
        return this;
      }

      /**
       * How often a background thread of the backend purges expired key-value entries from every
       * namespace ({@link ExpirySweeper}; expired entries are invisible at once either way, the
       * sweep frees their space). Zero (the default): no thread; {@code compact} and {@code
       * purgeExpired} still purge.
       */
      public Builder sweeper(Duration interval) {
        Objects.requireNonNull(interval, "interval");
        if (interval.isNegative()) {
          throw new IllegalArgumentException("negative sweeper interval: " + interval);
        }
        this.sweeperInterval = interval;
        return this;
      }

      /**
       * The engine was opened read-only (every write fails in the engine, naming why): the base
       * then writes nothing of its own at open (no expiry index or catalog build, see {@link
       * ExpiryIndex} and {@link StoreCatalog}) and starts no sweeper. Reads are unchanged.
       */
      public Builder readOnly(boolean readOnly) {
        this.readOnly = readOnly;
        return this;
      }

      /** The options; {@link Capability#ENCRYPTION} added. */
      public Options build() {
        return new Options(this);
      }
    }
  }

  private static final int PAGE = 256;

  private final String name;
  private final String type;
  private final StorageEngine engine;
  private final Options options;
  private final Clock clock;
  private final Set<Capability> capabilities;
  final EngineReader current;
  final Sealer sealer;
  final RecordFrame frame;
  private final CloseGuard guard = new CloseGuard();
  private final WriteOrder order;
  private final Map<String, BaseKeyValueStore> kv = new ConcurrentHashMap<>();
  private final Map<String, BaseLogStore> logs = new ConcurrentHashMap<>();
  private final EngineImporter importer = new EngineImporter(this);
  private final Map<String, BaseSnapshotStore> snapshots = new ConcurrentHashMap<>();
  private volatile Thread transactionThread;
  // threads running read-transaction work: the read-only rule, also without the registry's wrapper
  private final Set<Thread> readThreads = ConcurrentHashMap.newKeySet();
  private volatile ExpirySweeper sweeper; // started once open succeeded
  private volatile VersionSequence versions; // set once while opening, before any store exists

  private EngineBackend(BackendContext ctx, String type, StorageEngine engine, Options options) {
    this.name = ctx.name();
    this.type = Objects.requireNonNull(type, "type");
    this.engine = Objects.requireNonNull(engine, "engine");
    this.options = Objects.requireNonNull(options, "options");
    this.clock = ctx.clock();
    if (options.capabilities.contains(Capability.SNAPSHOT_READS)) {
      throw new IllegalArgumentException(
          type
              + " backend '"
              + name
              + "': SNAPSHOT_READS is declared by the base when the engine offers snapshots"
              + " (StorageEngine.offersSnapshots()), not in the options");
    }
    EnumSet<Capability> caps = EnumSet.copyOf(options.capabilities);
    if (engine.offersSnapshots()) {
      caps.add(Capability.SNAPSHOT_READS);
    }
    this.capabilities = Collections.unmodifiableSet(caps);
    this.current = EngineReader.of(engine);
    this.sealer = Sealer.of(ctx);
    this.frame = new RecordFrame(name, engine.checksumsRecords());
    this.order = new WriteOrder(engine.concurrentWrites());
  }

  /**
   * A backend of provider type {@code type} over {@code engine}, which it owns from now on (closing
   * the backend closes the engine). The engine must honour {@code options.durability}.
   */
  public static StorageBackend open(
      BackendContext context, String type, StorageEngine engine, Options options) {
    EngineBackend backend = new EngineBackend(context, type, engine, options);
    if (options.readOnly) {
      backend.versions = VersionSequence.readOnly(backend);
      return backend;
    }
    try {
      ExpiryIndex.ensureBuilt(backend);
      StoreCatalog.ensureBuilt(backend);
      backend.versions = VersionSequence.open(backend);
    } catch (RuntimeException e) {
      backend.close(); // the engine is ours: release its files and locks; the build reruns
      throw e;
    }
    backend.sweeper =
        ExpirySweeper.start(
            "cairn-" + type + "-sweeper-" + backend.name,
            backend.toString(),
            options.sweeperInterval,
            backend::purgeAllExpired,
            backend.guard::isClosed);
    return backend;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public String type() {
    return type;
  }

  @Override
  public Durability durability() {
    return options.durability;
  }

  @Override
  public Set<Capability> capabilities() {
    return capabilities;
  }

  @Override
  public KeyValueStore keyValue(String namespace) {
    ArgumentChecks.check(StoreKind.KEY_VALUE, namespace);
    return read(() -> kv.computeIfAbsent(namespace, n -> new BaseKeyValueStore(this, n)));
  }

  @Override
  public LogStore log(String logName) {
    ArgumentChecks.check(StoreKind.LOG, logName);
    return read(() -> logs.computeIfAbsent(logName, n -> new BaseLogStore(this, n)));
  }

  @Override
  public SnapshotStore snapshots(String set) {
    ArgumentChecks.check(StoreKind.SNAPSHOT, set);
    return read(() -> snapshots.computeIfAbsent(set, n -> new BaseSnapshotStore(this, n)));
  }

  BaseKeyValueStore kvStore(String namespace) {
    return (BaseKeyValueStore) keyValue(namespace);
  }

  BaseLogStore logStore(String logName) {
    return (BaseLogStore) log(logName);
  }

  @Override
  public <T> T inTransaction(Transaction.Work<T> work) {
    Objects.requireNonNull(work, "work");
    if (transactionThread == Thread.currentThread()) {
      throw new IllegalStateException(
          this + ": transactions do not nest; this thread is running one already");
    }
    refuseInReadTransaction("run inTransaction()");
    return read(
        () ->
            order.all(
                () -> {
                  BaseTransaction tx = new BaseTransaction(this);
                  transactionThread = Thread.currentThread();
                  T result;
                  try {
                    result = work.run(tx);
                  } finally {
                    tx.end();
                    transactionThread = null;
                  }
                  tx.commit();
                  return result;
                }));
  }

  /**
   * Takes an engine snapshot and the clock's instant (under the close guard), then runs {@code
   * work} on a {@link BaseReadView} of them without holding any lock of the base; the snapshot is
   * closed and the view's scans closed when the work ends.
   */
  @Override
  public <T> T readTransaction(Transaction.ReadWork<T> work) {
    if (!capabilities.contains(Capability.SNAPSHOT_READS)) {
      return StorageBackend.super.readTransaction(work);
    }
    Objects.requireNonNull(work, "work");
    Thread me = Thread.currentThread();
    if (transactionThread == me) {
      throw new IllegalStateException(
          this
              + ": readTransaction() was called inside inTransaction() work; its snapshot would"
              + " not show the transaction's own writes. Read through the Transaction view.");
    }
    refuseInReadTransaction("run a nested readTransaction()");
    BaseReadView view =
        read(
            () -> {
              // the instant first: everything live at it and committed before the snapshot is seen
              long at = now();
              return new BaseReadView(this, engine.snapshot(), at);
            });
    readThreads.add(me);
    try {
      return work.run(view);
    } finally {
      readThreads.remove(me);
      view.end();
    }
  }

  @Override
  public <T> Optional<T> extension(Class<T> type) {
    Objects.requireNonNull(type, "type");
    // a read-only backend offers no importer: cairn import then names the missing extension
    // instead of failing on the first batch it would write
    if (type == io.cairn.persistence.Importer.class && !options.readOnly) {
      return Optional.of(type.cast(importer));
    }
    return Optional.empty();
  }

  @Override
  public SortedSet<StoreId> stores() {
    return read(() -> Collections.unmodifiableSortedSet(userStores()));
  }

  /** The engine's stores without the base's own ({@link ExpiryIndex#reserved}). */
  private TreeSet<StoreId> userStores() {
    return userStores(engine.stores());
  }

  private static TreeSet<StoreId> userStores(Set<StoreId> all) {
    TreeSet<StoreId> out = new TreeSet<>();
    for (StoreId id : all) {
      if (!ExpiryIndex.reserved(id)) {
        out.add(id);
      }
    }
    return out;
  }

  /**
   * Namespaces with expiry index records but no entries: stale records of blind puts whose entries
   * were deleted since (or damage), for verify to check and purge to delete. Taken from the same
   * listing of the engine's stores as {@code users}, so a listing that fails is met (and reported)
   * once.
   */
  private static List<String> indexOnlyNamespaces(Set<StoreId> all, Set<StoreId> users) {
    List<String> out = new ArrayList<>();
    for (StoreId id : all) {
      String ns = ExpiryIndex.namespaceOf(id);
      if (ns != null && !users.contains(new StoreId(StoreKind.KEY_VALUE, ns))) {
        out.add(ns);
      }
    }
    return out;
  }

  @Override
  public BackendStats stats() {
    return read(
        () -> {
          List<StoreStats> list = new ArrayList<>();
          for (StoreId id : userStores()) {
            list.add(
                switch (id.kind()) {
                  case KEY_VALUE -> kvStore(id.name()).stats();
                  case LOG -> logStore(id.name()).stats();
                  case SNAPSHOT -> snapshotStore(id.name()).stats();
                });
          }
          Map<String, String> props = new LinkedHashMap<>(engine.properties());
          props.put("durability", options.durability.configName());
          props.put("encryption", sealer.enabled() ? "on" : "off");
          return new BackendStats(name, type, list, engine.diskBytes(), props);
        });
  }

  /**
   * Checks Cairn's invariants over every store — each record's frame and checksum, that each value,
   * payload and chunk opens (decrypts) when encryption is on, that each log is gap-free between its
   * first and next offset with nothing at or past next, that each snapshot's chunks add up to its
   * recorded length and CRC-32C, that no log or snapshot set the base's catalog records was lost
   * ({@link StoreCatalog}) — then lets the engine check itself.
   */
  @Override
  public VerifyReport verify(Progress progress) {
    Objects.requireNonNull(progress, "progress");
    return read(
        () -> {
          List<String> problems = new ArrayList<>();
          Set<StoreId> all = new TreeSet<>();
          boolean listed =
              findings("the list of stores", problems, () -> all.addAll(engine.stores()));
          List<StoreId> ids = new ArrayList<>(userStores(all));
          long[] checked = {0};
          int done = 0;
          for (StoreId id : ids) {
            findings(
                ArgumentChecks.kindName(id.kind()) + " '" + id.name() + "'",
                problems,
                () ->
                    checked[0] +=
                        switch (id.kind()) {
                          case KEY_VALUE -> kvStore(id.name()).verify(problems);
                          case LOG -> logStore(id.name()).verify(problems);
                          case SNAPSHOT -> snapshotStore(id.name()).verify(problems);
                        });
            progress.report("stores", ++done, ids.size());
          }
          if (listed) { // the indexes are found in the listing: without it, nothing to check
            findings(
                "the expiry indexes",
                problems,
                () -> {
                  for (String ns : indexOnlyNamespaces(all, new HashSet<>(ids))) {
                    kvStore(ns).verify(problems);
                  }
                });
          }
          // reads the catalog's own records: still finds lost logs and sets without the listing
          findings(
              "the store catalog",
              problems,
              () -> StoreCatalog.verify(this, new HashSet<>(ids), problems));
          engine.verify(problems, progress);
          return new VerifyReport(name, checked[0], problems);
        });
  }

  /**
   * Runs one part of {@link #verify}; damage the engine reports while that part reads (a page or
   * block failing the engine's own checksum stops the part's scan) becomes a finding naming the
   * part, so verify goes on with the other stores and the engine's own check instead of throwing
   * and hiding everything it did not reach. Other failures (I/O, closed) still throw: verify then
   * reports nothing as healthy. Returns whether the part ran to its end.
   */
  private static boolean findings(String part, List<String> problems, Runnable check) {
    try {
      check.run();
      return true;
    } catch (StoreCorruptedException e) {
      problems.add(
          part
              + ": damaged, the rest of it was not checked: "
              + e.getMessage()
              + " Restore the backend from a backup (cairn restore), or export what still reads"
              + " (cairn export) and import it into a fresh one.");
      return false;
    }
  }

  /** One sweep: purges the expired entries of every namespace; returns how many. */
  long purgeAllExpired() {
    return read(
        () -> {
          SortedSet<StoreId> all = engine.stores();
          TreeSet<StoreId> users = userStores(all);
          long purged = 0;
          for (String ns : indexOnlyNamespaces(all, users)) {
            purged += kvStore(ns).purgeExpired(); // repairs the records, which have no entries
          }
          for (StoreId id : users) {
            if (id.kind() == StoreKind.KEY_VALUE) {
              purged += kvStore(id.name()).purgeExpired();
            }
          }
          return purged;
        });
  }

  /**
   * Purges expired entries, deletes log records below each log's first offset and snapshot chunks
   * that belong to no manifest and no save in progress, then lets the engine compact.
   */
  @Override
  public void compact(Progress progress) {
    Objects.requireNonNull(progress, "progress");
    checkNotInTransaction("compact()");
    read(
        () -> {
          SortedSet<StoreId> all = engine.stores();
          List<StoreId> ids = new ArrayList<>(userStores(all));
          for (String ns : indexOnlyNamespaces(all, new HashSet<>(ids))) {
            kvStore(ns).purgeExpired(); // repairs the records, which have no entries
          }
          int done = 0;
          for (StoreId id : ids) {
            switch (id.kind()) {
              case KEY_VALUE -> kvStore(id.name()).purgeExpired();
              case LOG -> logStore(id.name()).dropTruncated();
              case SNAPSHOT -> snapshotStore(id.name()).dropGarbage();
            }
            progress.report("stores", ++done, ids.size());
          }
          engine.compact(progress);
          return null;
        });
  }

  /**
   * Re-seals, page by page, every value, log payload and snapshot chunk not sealed with the primary
   * key. Each page is read without a lock, then each of its records is read again and rewritten
   * holding the write gate exclusively, in one engine batch: atomic, serialised with every write
   * and transaction, and a record changed or deleted since the page was read is judged as it is now
   * (never resurrected, never overwritten with an older value). The re-sealed record keeps its key
   * and its frame's fields (version, expiry; the offset and chunk address are the key), so nothing
   * a read returns changes. Idempotent: records under the primary are skipped.
   */
  @Override
  public ResealReport reseal(Progress progress) {
    Objects.requireNonNull(progress, "progress");
    checkNotInTransaction("reseal()");
    return read(
        () -> {
          TreeMap<StoreId, ResealReport.Counts> counts = new TreeMap<>();
          if (!sealer.enabled()) {
            return new ResealReport(name, counts);
          }
          for (StoreId id : userStores()) { // the base's own stores hold nothing sealed
            counts.put(id, resealStore(id, progress));
          }
          return new ResealReport(name, counts);
        });
  }

  private ResealReport.Counts resealStore(StoreId id, Progress progress) {
    java.util.function.BiFunction<byte[], byte[], byte[]> resealed =
        switch (id.kind()) {
          case KEY_VALUE -> kvStore(id.name())::resealed;
          case LOG -> logStore(id.name())::resealed;
          case SNAPSHOT -> snapshotStore(id.name())::resealed;
        };
    String phase = ArgumentChecks.kindName(id.kind()) + " '" + id.name() + "'";
    long checked = 0;
    long rewritten = 0;
    byte[] from = new byte[0];
    while (true) {
      List<StorageEngine.Record> page = engine.range(id, from, null, PAGE);
      rewritten +=
          writeAll(
              "reseal()",
              () -> {
                List<StorageEngine.Write> batch = new ArrayList<>();
                for (StorageEngine.Record r : page) {
                  byte[] now = engine.get(id, r.key()); // as it is now, under the lock
                  byte[] fresh = now == null ? null : resealed.apply(r.key(), now);
                  if (fresh != null) {
                    batch.add(new StorageEngine.Write(id, r.key(), fresh));
                  }
                }
                commit(batch);
                return (long) batch.size();
              });
      for (StorageEngine.Record r : page) {
        if (holdsSealed(id.kind(), r.key())) {
          checked++;
        }
      }
      progress.report(phase, checked, -1);
      if (page.size() < PAGE) {
        return new ResealReport.Counts(checked, rewritten);
      }
      from = BaseKeyValueStore.successor(page.get(page.size() - 1).key());
    }
  }

  /**
   * Whether a record of a store of {@code kind} holds sealed data: a value, a log record, a
   * snapshot chunk; not a log's position or a snapshot's manifest (what {@link ResealReport}
   * counts).
   */
  private static boolean holdsSealed(StoreKind kind, byte[] key) {
    return switch (kind) {
      case KEY_VALUE -> true;
      case LOG -> !BaseLogStore.isPosition(key);
      case SNAPSHOT -> BaseSnapshotStore.isChunk(key);
    };
  }

  @Override
  public void checkpoint(Path target, Progress progress) {
    if (!options.capabilities.contains(Capability.CHECKPOINT)) {
      StorageBackend.super.checkpoint(target, progress);
    }
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(progress, "progress");
    // holding the write gate exclusively: no batch is half-applied in the copy (engines copy
    // atomically anyway)
    writeAll(
        "checkpoint",
        () -> {
          engine.checkpoint(target, progress);
          return null;
        });
  }

  @Override
  public HealthCheck.Result health() {
    if (guard.isClosed()) {
      return HealthCheck.Result.unhealthy(this + " is closed");
    }
    HealthCheck.Result engineHealth = engine.health();
    if (engineHealth != null) {
      return engineHealth;
    }
    return HealthCheck.Result.healthy(
        this
            + " is open (durability "
            + options.durability.configName()
            + (options.description.isEmpty() ? "" : ", " + options.description)
            + ")");
  }

  /** Stops the sweeper, waits for calls in flight, then closes the engine. Idempotent. */
  @Override
  public void close() {
    ExpirySweeper running = sweeper;
    if (running != null) {
      running.close(); // first: a sweep in flight is a call close would wait for
    }
    guard.close(
        () -> {
          kv.clear();
          logs.clear();
          snapshots.clear();
          engine.close();
        });
  }

  @Override
  public String toString() {
    return type + " backend '" + name + "'";
  }

  // ---- for the base stores ----

  StorageEngine engine() {
    return engine;
  }

  Options options() {
    return options;
  }

  long now() {
    return clock.millis();
  }

  /** The backend-wide version sequence; see {@link VersionSequence} for when to take one. */
  VersionSequence versions() {
    return versions;
  }

  /** FULL for imports, unless the backend runs at NONE (its engine need not honour more). */
  Durability importDurability() {
    return options.durability == Durability.NONE ? Durability.NONE : Durability.FULL;
  }

  /**
   * Warns, naming the setting, that {@code deprecatedKey} (an engine's own expiry-sweeper batch
   * size from before the shared base's sweeper, which purges in pages of its own) is ignored; does
   * nothing when it is empty. For engines that still accept such a setting so old configurations
   * open.
   */
  public static void warnIgnoredSweeperBatch(
      BackendContext context, Optional<String> deprecatedKey) {
    deprecatedKey.ifPresent(
        key ->
            org.slf4j.LoggerFactory.getLogger(EngineBackend.class)
                .warn(
                    "{}: setting {} is deprecated and ignored: the sweeper now purges in pages of"
                        + " the shared base ({} entries at a time); remove the setting",
                    context.describe(),
                    key,
                    PAGE));
  }

  static int page() {
    return PAGE;
  }

  BaseSnapshotStore snapshotStore(String set) {
    return (BaseSnapshotStore) snapshots(set);
  }

  void ensureOpen() {
    if (guard.isClosed()) {
      throw new BackendClosedException(name);
    }
  }

  private void refuseInReadTransaction(String what) {
    if (!readThreads.isEmpty() && readThreads.contains(Thread.currentThread())) {
      throw new IllegalStateException(
          "cannot "
              + what
              + " inside readTransaction() work ("
              + this
              + "): a read transaction is read-only. Write before or"
              + " after it, or use inTransaction(); nothing was written.");
    }
  }

  /**
   * Runs {@code op} as a call in flight: close waits for it; after close it throws ({@link
   * CloseGuard}).
   */
  <T> T read(Supplier<T> op) {
    int call = enterCall();
    try {
      return op.get();
    } finally {
      exitCall(call);
    }
  }

  /**
   * {@link #read} without a lambda, for the hottest calls (get, put): counts a call in flight and
   * returns its cell, to be passed to {@link #exitCall} in a {@code finally}; throws once closed. A
   * get's lambda was its one allocation besides the value (24 of its 288 bytes on memory).
   */
  int enterCall() {
    int cell = guard.enter();
    if (cell < 0) {
      throw new BackendClosedException(name);
    }
    return cell;
  }

  /** Ends the call {@link #enterCall} counted. */
  void exitCall(int cell) {
    guard.exit(cell);
  }

  /**
   * Runs {@code op} holding the write gate exclusively ({@link WriteOrder#all}: no other write
   * runs), as a call in flight. {@code what} names the operation and store for the message when it
   * is attempted directly inside a transaction.
   */
  <T> T writeAll(String what, Supplier<T> op) {
    checkNotInTransaction(what);
    return read(() -> order.all(op));
  }

  /**
   * As {@link #writeAll}, holding only the stripe of {@code key} in {@code store}. The operation is
   * named by {@code verb} and {@code target} (e.g. "put to", the store), joined only for a
   * refusal's message: building it for every write was ~6 % of a memory put's CPU.
   */
  <T> T writeKey(String verb, Object target, StoreId store, byte[] key, Supplier<T> op) {
    checkNotInTransaction(verb, target);
    int call = enterCall();
    try {
      return order.key(store, key, op);
    } finally {
      exitCall(call);
    }
  }

  /** As {@link #writeKey}, holding only the stripes of {@code keys} in {@code store}. */
  <T> T writeKeys(
      String verb, Object target, StoreId store, Collection<byte[]> keys, Supplier<T> op) {
    checkNotInTransaction(verb, target);
    return read(() -> order.keys(store, keys, op));
  }

  /** As {@link #writeKey}, holding only the stripe of {@code store} (a log, a snapshot set). */
  <T> T writeStore(String verb, Object target, StoreId store, Supplier<T> op) {
    checkNotInTransaction(verb, target);
    return read(() -> order.store(store, op));
  }

  private void checkNotInTransaction(String what) {
    checkNotInTransaction(what, null);
  }

  /** Refuses a write inside a transaction's work; the message names {@code verb target}. */
  private void checkNotInTransaction(String verb, Object target) {
    if (!readThreads.isEmpty() || transactionThread != null) {
      checkNotInTransactionNow(target == null ? verb : verb + " " + target);
    }
  }

  private void checkNotInTransactionNow(String what) {
    refuseInReadTransaction(what);
    if (transactionThread == Thread.currentThread()) {
      throw new IllegalStateException(
          what
              + " of "
              + this
              + " was called directly inside inTransaction(): it would not be part of the"
              + " transaction. Write through the Transaction view (tx.keyValue(..) / tx.log(..));"
              + " nothing was written.");
    }
  }

  /**
   * Writes {@code batch} at the backend's durability. Caller holds the write stripes that order
   * every key of the batch (see {@link WriteOrder}).
   */
  void commit(List<StorageEngine.Write> batch) {
    if (!batch.isEmpty()) {
      engine.write(batch, options.durability);
    }
  }
}
