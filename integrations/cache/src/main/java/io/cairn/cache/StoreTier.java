package io.cairn.cache;

import com.codahale.metrics.health.HealthCheck;
import io.cairn.persistence.BackendStats;
import io.cairn.persistence.Capability;
import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.Transaction;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One persistent tier of a cache (a key-value namespace on one backend), with its bound, its tag
 * table, and its guard against failure.
 *
 * <p>Stored layout: namespace {@code cache.<name>} on the tier's backend; key = the key codec's
 * bytes, value = a {@link StoredValue} (tags with generations, then the value codec's bytes),
 * expiry = the entry's TTL capped by the tier's {@code max-ttl}, kept by the store (an entry whose
 * TTL passed while the service was down is invisible after restart). Tag generations: namespace
 * {@code cache.<name>.tags} ({@link TagTable}). Writes are plain puts at the backend's durability.
 *
 * <h2>Bound</h2>
 *
 * With {@code max-entries} or {@code max-bytes} set, {@link TierBound} indexes the keys and evicts
 * by CLOCK after each write that takes the tier over; the index is rebuilt by a streaming scan when
 * the cache opens ({@link #rebuildIndex}).
 *
 * <h2>Keys a bounded tier does not hold</h2>
 *
 * The bound's index holds every key the tier's store holds (a superset: expired entries stay in it
 * until evicted or purged), so a read of a key the index lacks is a miss without a read of the
 * backend. This is most of what an L3 hit saved: the middle tier's miss was a RocksDB get, ~20% of
 * the reader's CPU (RESULTS-cache-tiers.md). The index lags the store only in two windows, both
 * harmless: a write stores the key before indexing it, and an eviction unindexes a key before
 * deleting it; a read in either window goes on to the tiers below, which hold the same value (every
 * write goes through every tier) or, for a write still running, the value from before it, which a
 * read overlapping that write may return. It is trusted only (a) once {@link #rebuildIndex} has
 * scanned every stored key without a failure (at open; a tier that failed there reads its backend
 * until the next complete rebuild), (b) until the tier fails (a write or eviction that failed
 * half-way may leave a key stored but unindexed), and (c) never on a {@code MULTI_PROCESS} backend,
 * where other processes write keys this index has not seen.
 *
 * <h2>Bound on disk</h2>
 *
 * {@code max-bytes} bounds the tier's footprint on disk where the backend reports one ({@code
 * BackendStats.diskBytes()}: SQLite's database, WAL and index files; RocksDB's whole directory),
 * else (memory) the key + stored value bytes. The engine's overhead (indexes, page slack, WAL, dead
 * versions awaiting compaction, logs) differs by engine and workload, so the tier measures it:
 * after every {@code max-bytes / }{@value #DISK_CHECKS_PER_BOUND} bytes written (at least 64 KiB)
 * the writing thread reads the backend's disk size (other writers wait while it runs: the check
 * holds a read transaction on SQLite, under which the WAL cannot restart and grew to 2.4 MB for a 4
 * MiB bound). An engine that reports its free pages and reuses them in place (SQLite: {@code
 * freelist_count} in its stats) is never compacted while within {@code max-bytes}: the bytes in use
 * (files minus free pages) scale the bound's byte budget (what CLOCK evicts down to) so that they
 * settle at {@value #DISK_TARGET} of {@code max-bytes} when they pass {@value #SHRINK_AT} (and have
 * grown since the budget was last lowered); evictions leave free pages that the next writes fill,
 * so the files stop growing (compacting during a storm passed the bound: SQLite's incremental
 * vacuum moves pages through the WAL, 1.4-1.8x). Only files over {@code max-bytes} are compacted.
 * Known limit: a bound lowered below the files of an earlier run brings them down only as evictions
 * empty whole pages (measured: 2.9 MB of files for a bound lowered from 4 to 2 MiB, after 15,000
 * writes of keys evicted in another order than SQLite's key order). Other engines: past the
 * engine's compaction point ({@link Footprint}: RocksDB 0.45 of {@code max-bytes}) the backend is
 * compacted ({@code StorageBackend.compact}: RocksDB flushes and compacts) and, from the compacted
 * size, the budget is scaled by settling point over measured (RocksDB 0.25); below the settling
 * point the budget grows back, at most doubling per check, up to {@code max-bytes}. The whole
 * backend is measured, so a size-bounded tier should have a backend of its own (the tier's tag and
 * outage-marker rows are tiny). Between two checks the files can grow by what one step writes plus
 * the engine's overhead on it; SQLite's WAL between checkpoints is the backend's to limit ({@code
 * wal-autocheckpoint-pages}, {@code journal-size-limit}).
 *
 * <h2>A WAL held by a reader</h2>
 *
 * SQLite cannot restart its WAL while a reader keeps a snapshot from before the last checkpoint:
 * the backend's own integrity check ({@code open-check = background}: one {@code quick_check} read
 * transaction, starting 1 s after open), a long scan, a backup. During a write storm the WAL then
 * takes everything written meanwhile (measured: 1.15 MB instead of the usual 0.45 MB during a 154
 * ms background check on a loaded machine; 4.16 MB beside a 2.3 MB database in a CI run, 1.56x a 4
 * MiB bound). So a tier bounded by bytes looks at the WAL file's size (two {@code stat} calls)
 * every {@value #WAL_PROBE_STEP} data bytes written, and, near the thresholds below, again before
 * the WAL can have passed them at {@value #WAL_BYTES_PER_WRITE} bytes a write (a write appends
 * whole pages to a WAL that is not restarting: every few writes for a tier at its bound). The WAL
 * is taken to be held when it is half as large again as SQLite lets it grow between checkpoints
 * ({@code wal-autocheckpoint-pages} x page size, from the stats), and at least {@value #WAL_SHARE}
 * of {@code max-bytes}; while it is held and database + WAL are over {@value #WAL_HOLD_AT} of
 * {@code max-bytes}, writers pass one at a time, each after a pause doubling from {@value
 * #WAL_PAUSE_MIN_MS} to {@value #WAL_PAUSE_MAX_MS} ms (at most about 4 writes a second), until the
 * reader has gone and a commit let SQLite restart (and, with {@code journal-size-limit}, truncate)
 * the WAL: back-pressure for as long as the reader holds, the price of keeping the bound. So the
 * files can still pass the bound by what those few writes commit if a reader holds for many seconds
 * (about 35 KB of WAL per write with its evictions' deletes here). Meanwhile the disk check neither
 * compacts nor changes the byte budget (see {@link #reusingFreePages}). The disk check's own
 * evictions pass through the hold too, one delete at a time ({@link #applyBudget}): a lowered
 * budget deletes a burst of keys, each delete a commit of its own, and a reader that began just
 * before or during the burst let all of them into the WAL. TierBoundTest's failures in module runs
 * (WAL 2.17 MB beside a 3.41 MB database, 1.33x a 4 MiB bound) match the background check landing
 * on such a burst: a reader held for 100 ms from the start of one (1,675 keys) gave WAL 2.27 MB
 * beside 3.33 MB; held until the burst ended (1,823 keys, TierWalHoldTest), 20.8 MB. The files are
 * learnt from the engine's stats ({@code file} and {@code wal_bytes}: SQLite) at the first disk
 * check; other engines are not watched. A tier of a few MiB needs a small {@code
 * wal-autocheckpoint-pages} (100) anyway, or its WAL's normal swing alone passes the bound; with a
 * large one the hold never engages early.
 *
 * <h2>Degradation</h2>
 *
 * <p>When an operation fails with a storage error, the tier turns <em>degraded</em>: it logs one
 * warning, and until the retry time (retry-initial, doubling up to retry-max while failures
 * continue, by the registry clock) every read reports "unavailable" and every write is skipped.
 * Keys written or invalidated while degraded, or whose write failed, are remembered as dirty (at
 * most {@value #MAX_DIRTY}; beyond that, or after a tag invalidation or a failure of the tag table,
 * the whole namespace is marked dirty). The first call after the retry time starts a recovery (on a
 * thread of its own, see below), which first deletes the dirty keys (or clears the namespace and
 * its tag table) so that the tier can never serve a value older than one written or invalidated
 * during the outage, and only then reports the tier healthy again. The dirty set lives in memory: a
 * process that stops while a tier is degraded does not remember it. That is why a tier that turns
 * degraded is also recorded in the other tiers ({@code TierChain} clears it at the next open). A
 * recovery with nothing to delete still writes to the tier before reporting it healthy (a put and a
 * delete of the row {@value #PROBE_KEY} in {@code cache.<name>.meta}): otherwise a tier whose
 * outage had no write (a failed read) was declared recovered without the backend being asked, and a
 * tier still down looked healthy until the next call failed on it.
 *
 * <h2>Recovery off the callers' threads</h2>
 *
 * A recovery asks the backend, and a backend can hang (a PostgreSQL server that stops answering, a
 * stalled disk); a call waiting behind it would turn the tier's outage into the application's. So a
 * recovery only ever runs on a probe thread ({@code cairn-cache-probe-<cache>-<tier>}, at most one
 * per tier, see below), and never under this tier's monitor while it asks the backend:
 *
 * <ul>
 *   <li>The call that finds the retry time passed starts the probe and waits for it at most {@value
 *       #PROBE_WAIT_MS} ms after its start (the health check's bound, below): a backend that
 *       answers is recovered within it and the call uses the tier; otherwise the call goes on as
 *       during the outage. So a hung backend costs one call per retry at most that long.
 *   <li>A call that finds a probe running does not wait at all: the tier is still degraded to it (a
 *       read reports "unavailable" and the next tier or the loader answers; a write, invalidation,
 *       tag invalidation or clear is skipped and remembered dirty, as during the outage). While a
 *       probe hangs, no second one starts, so no call asks the hung backend anything.
 * </ul>
 *
 * <p>The dirty set is what the calls and the recovery share, and its order is what keeps a stale
 * value from being served. A recovery works in rounds: under the monitor it takes the dirty keys
 * (or the whole-namespace mark) and empties the set, then deletes them without the monitor; keys
 * marked meanwhile (calls still see the tier degraded) go into the emptied set. The next round
 * takes those. Only a round that finds the set empty (under the monitor, after at least one round
 * has asked the backend) turns the tier healthy, in the same monitor hold. A call that marks a key
 * dirty takes the monitor too: before that commit the key joins the set and a later round deletes
 * it; after it, {@link #markDirty} finds the tier healthy and deletes the key itself (and a tag
 * invalidation or clear that found the tier unusable runs on it, {@link #wholeTier}). So every key
 * written or invalidated during the outage or the recovery is deleted before the tier serves, or by
 * its writer right after. While the tier is degraded nothing else writes to it (in-flight
 * operations that found it healthy before the failure aside), so a key deleted by a round stays
 * deleted. A round that fails puts back what it took (deleted again next time: harmless) and moves
 * the retry time as a failed call did. Rounds shrink while deletes outpace the writers; a recovery
 * still finding new keys after {@value #MAX_RECOVERY_ROUNDS} rounds ends as a failed retry, and the
 * health check names it ("recovery outrun by writes").
 *
 * <h2>Probing a tier nobody calls</h2>
 *
 * A cache answered from L1 may not call a degraded tier for a long time after its retry time; its
 * health check, {@code isDegraded()} and the {@code degraded} gauges would then report an outage
 * that may have ended, with a retry time in the past. So each of them, once the retry time has
 * passed, starts the recovery a call would run ({@link #probeIfDue}: the same {@code recover}, on a
 * thread {@code cairn-cache-probe-<cache>-<tier>} started for it) and the health check, {@code
 * isDegraded()} and {@code tierStats()} wait for it at most {@value #PROBE_WAIT_MS} ms after it
 * started (the gauges do not wait: they report what the last probe found). This is the same probe a
 * call starts: at most one runs per tier, started by whoever finds the retry time passed first, and
 * the others wait for it within that bound (the calls do not wait for a probe they did not start).
 * So {@code isDegraded()} answers without waiting when no retry is due or when the running one
 * started more than {@value #PROBE_WAIT_MS} ms ago (a hung backend): it then reports the tier
 * degraded. A probe that does not finish in time (a hung backend) leaves the tier degraded and the
 * health check reports it, naming the probe that timed out and when it started; no second probe
 * starts until it ends. The health check reads the outage's state without this tier's monitor, and
 * the monitor is never held while the backend is asked, so a hung recovery cannot hang it. A failed
 * probe moves the retry time as a failed call does; the health check says who started the last
 * failed retry ("by a call", "by a probe").
 *
 * <p>Argument errors ({@link IllegalArgumentException}, e.g. a key longer than the store allows)
 * are the caller's and are rethrown, not treated as tier failures. Thread-safe.
 */
final class StoreTier {
  private static final Logger log = LoggerFactory.getLogger(StoreTier.class);
  static final int MAX_DIRTY = 10_000;

  /** The disk check runs after every {@code max-bytes / this} bytes written (at least 64 KiB). */
  static final int DISK_CHECKS_PER_BOUND = 32;

  static final long MIN_DISK_CHECK_STEP = 64 * 1024;

  /** Share of {@code max-bytes} on disk above which the disk check compacts the backend. */
  static final double COMPACT_AT = 0.9;

  /**
   * Share of {@code max-bytes} in use (files minus free pages) above which the budget of an engine
   * that reuses free pages is lowered back to {@link #DISK_TARGET}; the band between leaves room
   * for the WAL's swing between checkpoints (about 0.47 MB with SQLite's wal-autocheckpoint-pages =
   * 100).
   */
  static final double SHRINK_AT = 0.8;

  /** Share of {@code max-bytes} the compacted files settle at (headroom for the next steps). */
  static final double DISK_TARGET = 0.7;

  private static final int CLEAR_BATCH = 1000;

  /**
   * Longest wait of a health check (and of {@code isDegraded()}, {@code tierStats()}, and of the
   * call that started it) for a probe of a degraded tier, counted from the probe's start (see
   * "Probing a tier nobody calls"): below the 1 s that health endpoints are commonly given
   * (Kubernetes' default probe timeout). A call waits for the probe it started no longer than a
   * health check would, once per retry.
   */
  static final long PROBE_WAIT_MS = 500;

  /**
   * Most rounds of one recovery (see "Recovery off the callers' threads"). Each round deletes the
   * keys written or invalidated during the one before, so rounds shrink while deletes outpace the
   * writers (from {@value #MAX_DIRTY} keys, halving each round: 14 rounds to none); a recovery that
   * still finds new keys after this many is outrun by them and ends as a failed retry, named in the
   * health check.
   */
  static final int MAX_RECOVERY_ROUNDS = 16;

  /** Row written and deleted by a recovery with nothing to delete, in {@code cache.<name>.meta}. */
  static final String PROBE_KEY = "probe";

  /** A live entry read from the tier: its stored form and expiry (epoch ms, 0 = none). */
  record Found(StoredValue stored, long expiresAtMillis, int storedBytes) {}

  /** Returned by {@link #read} when the tier cannot be used. Compared by identity. */
  static final Found UNAVAILABLE = new Found(null, 0, 0);

  /** Returned by {@link #read} for an entry that is dead (tag invalidated) or undecodable. */
  static final Found DEAD = new Found(null, 0, 0);

  private final String cacheName;
  private final StorageBackend backend;
  private final KeyValueStore store;
  private final KeyValueStore tagStore;
  private final KeyValueStore metaStore; // the probe row (see "Degradation")
  private final TagTable tags;
  private final TierBound bound; // null: bounded by TTL only
  // Whether the bound's index may answer a read of a key it lacks (see "Keys a bounded tier does
  // not hold"): never on a backend other processes write; otherwise once a rebuild saw every key.
  private final boolean missesFromIndex;
  private volatile boolean indexHoldsEveryKey;
  private final Duration maxTtl; // null: no cap
  private final Clock clock;
  private final Duration retryInitial;
  private final Duration retryMax;
  private final LongAdder errors = new LongAdder();
  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();
  private final LongAdder evictions = new LongAdder();
  private final LongAdder compactions = new LongAdder();

  // The disk check (see "Bound on disk"): bytes written since the last one, its monitor, the
  // last measurement (-1: none yet or the backend reports none), and whether the backend can say.
  private final AtomicLong sinceDiskCheck = new AtomicLong();
  private final Object diskCheck = new Object();
  private volatile long diskBytes = -1;
  private volatile boolean diskUnknown;
  private volatile boolean diskChecking; // a check runs: writers wait for it (see write)
  private int unmeasured; // checks in a row that got no size, while none ever did (under diskCheck)
  private long usedAtShrink; // bytes in use when the budget was last lowered (under diskCheck)

  /** Checks without a size, none ever measured, after which the backend is taken to have none. */
  static final int UNMEASURED_CHECKS = 3;

  /**
   * Share of {@code max-bytes} a write-ahead log may take before writers are held back (see "A WAL
   * held by a reader" in the class comment); in normal operation a bounded SQLite tier's WAL stays
   * near a tenth of it (0.47 MB of 4 MiB with {@code wal-autocheckpoint-pages = 100}).
   */
  static final double WAL_SHARE = 0.15;

  /**
   * Share of {@code max-bytes} (database + WAL) above which a WAL over its share holds writers. The
   * headroom above it takes the writes already in flight when the hold starts and what the files
   * grow between two WAL probes (a few writes near the thresholds, see {@link
   * #WAL_BYTES_PER_WRITE}), plus the database's own growth meanwhile: 0.9 left too little on
   * SQLite's schema v5, whose rows are ~13 % larger than v4's (TierWalHoldTest peaked at 1.103 of
   * the bound).
   */
  static final double WAL_HOLD_AT = 0.85;

  /** Data bytes written between two looks at the WAL's size (two {@code stat} calls). */
  static final long WAL_PROBE_STEP = 8 * 1024;

  /**
   * Most WAL bytes one write is taken to append while checkpoints cannot restart the WAL: whole
   * pages (the entry's leaf, the expiry index's, each eviction's delete), 20-35 KB measured in
   * TierWalHoldTest against ~330 data bytes. Near the hold's thresholds the WAL is looked at again
   * before this many bytes a write can have taken it past them: at {@value #WAL_PROBE_STEP} data
   * bytes alone (~25 writes), the hold started with the WAL at up to 1.24 MB against a 0.63 MB
   * threshold on a loaded machine, and the files passed the bound by 12%.
   */
  static final long WAL_BYTES_PER_WRITE = 40 * 1024;

  /**
   * First and longest pause of one write while the WAL is held (it doubles from one to the other).
   */
  static final long WAL_PAUSE_MIN_MS = 20;

  static final long WAL_PAUSE_MAX_MS = 250;

  // A WAL held by a reader (see the class comment): the engine's files, known from its stats
  // (SQLite: "file" and "wal_bytes"; null: the engine has no WAL file to watch), the data bytes
  // written since the last look, whether that look found the WAL held, and the writers' queue.
  private volatile Path dbFile;
  private volatile Path walFile;
  private volatile long walNormal; // the WAL's size between checkpoints (wal_autocheckpoint pages)
  private final AtomicLong sinceWalProbe = new AtomicLong();
  private volatile boolean walHeld;
  // writes until the next look at the WAL, counted down by each write (see afterWrite)
  private final AtomicLong walWritesLeft = new AtomicLong();
  private final Object walQueue = new Object();
  private long walPauseMillis; // under walQueue
  private long walHeldSince = -1; // System.nanoTime() when held, under walQueue; -1: not held
  private volatile long walAtHold; // the largest WAL size a hold started at (tests)
  private final LongAdder walPauses = new LongAdder();

  private volatile boolean degraded;
  private volatile long retryAt;
  // What the health check says of the outage, replaced (under this) at each change: read without
  // the monitor, which a recovery hung on the backend holds. null: not degraded.
  private volatile Outage outage;
  // the running or last probe (see "Probing a tier nobody calls"); null: none yet
  private final AtomicReference<Probe> probe = new AtomicReference<>();
  // how long a call that starts a probe, and the health check, wait for it (see PROBE_WAIT_MS)
  private volatile long probeWaitMillis = PROBE_WAIT_MS;
  private volatile boolean closed; // no probe starts once set (close)
  // guarded by this
  private long backoffMillis;
  private final Set<ByteBuffer> dirty = new HashSet<>();
  private boolean dirtyAll;
  private String lastError = "";
  private long degradedSince;
  private long lastRetryAt = -1; // clock millis of the last failed recovery; -1: none yet
  private String lastRetryBy = "";
  private Runnable onDegraded = () -> {};
  private Runnable onRecovered = () -> {};

  StoreTier(
      String cacheName,
      StorageBackend backend,
      TierSettings settings,
      Clock clock,
      Duration initial,
      Duration max) {
    this.cacheName = cacheName;
    this.backend = backend;
    this.store = backend.keyValue(TieredCache.namespace(cacheName));
    this.tagStore = backend.keyValue(TagTable.namespace(cacheName));
    this.tags = new TagTable(tagStore);
    this.metaStore = backend.keyValue(TierChain.metaNamespace(cacheName));
    this.bound =
        settings.maxEntries() > 0 || settings.maxBytes() > 0
            ? new TierBound(settings.maxEntries(), settings.maxBytes())
            : null;
    this.missesFromIndex =
        bound != null && !backend.capabilities().contains(Capability.MULTI_PROCESS);
    this.maxTtl = settings.maxTtl().isZero() ? null : settings.maxTtl();
    this.clock = clock;
    this.retryInitial = initial;
    this.retryMax = max;
  }

  /**
   * An outage as the health check reports it: failing since {@code since} (clock millis) with
   * {@code lastError}, retried next at {@code retryAt}; the last failed retry at {@code
   * lastRetryAt} (-1: none yet) by {@code lastRetryBy} ("a call", "a probe").
   */
  record Outage(long since, String lastError, long retryAt, long lastRetryAt, String lastRetryBy) {}

  /**
   * A recovery attempt off the callers' threads, started at {@code startedAt} (clock millis) and
   * {@code startedNanos} (for the wait's bound); {@code done} completes when it has ended.
   */
  record Probe(long startedAt, long startedNanos, CompletableFuture<Void> done) {}

  /** Called (outside this tier's monitor) when the tier turns degraded and when it recovers. */
  void listen(Runnable degradedListener, Runnable recoveredListener) {
    this.onDegraded = degradedListener;
    this.onRecovered = recoveredListener;
  }

  /** The backend's name: the tier's name in settings, metrics and messages. */
  String name() {
    return backend.name();
  }

  StorageBackend backend() {
    return backend;
  }

  boolean degraded() {
    return degraded;
  }

  long errors() {
    return errors.sum();
  }

  long hits() {
    return hits.sum();
  }

  long misses() {
    return misses.sum();
  }

  long evictions() {
    return evictions.sum();
  }

  TierBound bound() {
    return bound;
  }

  /**
   * The live entry of {@code key}; null if absent or expired; {@link #DEAD} if present but
   * invalidated by a tag or not readable as a cache entry (the caller drops it as a write); {@link
   * #UNAVAILABLE} if the tier cannot be used.
   */
  Found read(byte[] key) {
    if (!usable()) {
      return UNAVAILABLE;
    }
    TierBound.Node indexed = null;
    if (bound != null) {
      indexed = bound.node(key);
      if (indexed == null && indexHoldsEveryKey) {
        misses.increment();
        return null; // not in this tier: no read (see "Keys a bounded tier does not hold")
      }
    }
    try {
      Optional<Entry> e = store.getEntry(key);
      if (e.isEmpty()) {
        misses.increment();
        return null;
      }
      StoredValue v;
      try {
        v = StoredValue.decode(e.get().value());
      } catch (IllegalArgumentException bad) {
        misses.increment();
        return DEAD;
      }
      if (v.tags().length > 0 && !tags.live(v)) {
        misses.increment();
        return DEAD;
      }
      hits.increment();
      if (indexed != null) {
        TierBound.touch(indexed);
      }
      return new Found(v, e.get().expiresAtMillis(), e.get().value().length);
    } catch (IllegalArgumentException e) {
      throw e;
    } catch (RuntimeException e) {
      failed(e, null, false);
      return UNAVAILABLE;
    }
  }

  /** Marks {@code key} recently used, as a read would (an L1 eviction of a key the tier holds). */
  void touch(byte[] key) {
    if (bound != null) {
      bound.touch(key);
    }
  }

  /**
   * Writes {@code value} with {@code entryTags} (or, when degraded, remembers the key as dirty).
   * {@code ttl} null: no expiry; the tier's {@code max-ttl} caps it. Evicts what the bound asks.
   */
  void write(byte[] key, String[] entryTags, byte[] value, Duration ttl) {
    if (!usable()) {
      markDirty(key);
      return;
    }
    try {
      awaitChecks();
      byte[] stored = new StoredValue(entryTags, tags.current(entryTags), value).encode();
      putStored(key, stored, capped(ttl));
    } catch (IllegalArgumentException e) {
      throw e;
    } catch (RuntimeException e) {
      failed(e, key, false);
    }
  }

  /**
   * Largest sum of stored bytes written as one transaction by {@link #writeCopies}; copies beyond
   * it go into the next one (a transaction is capped by the backend's {@code max-batch-bytes}, and
   * a large one holds the backend's other writers up for its whole commit).
   */
  static final int COPY_BATCH_BYTES = 1 << 20;

  /**
   * Writes copies of values read from a tier below (the fill thread's batch, see {@code
   * UpwardFills}), each for its remaining life at {@code now}, as one transaction per {@value
   * #COPY_BATCH_BYTES} bytes: each copy's put followed by the deletes of what the bound evicts for
   * it, in order, so the outcome is that of the writes one by one (a key copied twice ends with the
   * later copy; a key evicted by a later copy is gone). Indexing happens before the commit (the
   * index may hold a key not yet stored: a read of it only reads the backend); evicted keys leave
   * the index before they are deleted, as in {@link #write}. An untagged copy is written in the
   * bytes it was read in; a tagged one is stored with this tier's generations of its tags. The
   * caller holds the write sequence's check for every key; expired copies are skipped.
   */
  void writeCopies(List<? extends TierChain.Copy> copies, long now) {
    List<TierChain.Copy> live = new ArrayList<>(copies.size());
    for (TierChain.Copy c : copies) {
      if (c.expiresAt() == 0 || c.expiresAt() > now) {
        live.add(c);
      }
    }
    if (live.isEmpty()) {
      return;
    }
    if (!usable()) {
      live.forEach(c -> markDirty(c.k()));
      return;
    }
    int from = 0;
    while (from < live.size()) {
      int to = from;
      long bytes = 0;
      List<byte[]> stored = new ArrayList<>();
      while (to < live.size() && (to == from || bytes < COPY_BATCH_BYTES)) {
        StoredValue sv = live.get(to).sv();
        byte[] b =
            sv.tags().length == 0
                ? sv.encode()
                : new StoredValue(sv.tags(), tags.current(sv.tags()), sv.value()).encode();
        stored.add(b);
        bytes += b.length;
        to++;
      }
      List<TierChain.Copy> part = live.subList(from, to);
      try {
        awaitChecks();
        if (part.size() == 1) {
          putStored(part.get(0).k(), stored.get(0), ttl(part.get(0), now));
        } else {
          putStoredBatch(part, stored, now);
        }
      } catch (IllegalArgumentException e) {
        throw e;
      } catch (RuntimeException e) {
        failed(e, null, false);
        part.forEach(c -> markDirty(c.k()));
        return; // the rest are copies too: a later read goes one tier deeper
      }
      from = to;
    }
  }

  private Duration ttl(TierChain.Copy c, long now) {
    return capped(c.expiresAt() == 0 ? null : Duration.ofMillis(c.expiresAt() - now));
  }

  /** The transaction of {@link #writeCopies}: puts, each followed by its evictions' deletes. */
  private void putStoredBatch(List<TierChain.Copy> part, List<byte[]> stored, long now) {
    List<List<byte[]>> victims = new ArrayList<>(part.size());
    long total = 0;
    for (int i = 0; i < part.size(); i++) {
      if (bound != null) {
        long size = (long) part.get(i).k().length + stored.get(i).length;
        total += size;
        victims.add(bound.written(part.get(i).k(), size));
      } else {
        victims.add(List.of());
      }
    }
    String namespace = TieredCache.namespace(cacheName);
    int[] deleted = {0};
    backend.inTransaction(
        tx -> {
          Transaction.KeyValueWriter w = tx.keyValue(namespace);
          deleted[0] = 0;
          for (int i = 0; i < part.size(); i++) {
            Duration t = ttl(part.get(i), now);
            if (t == null) {
              w.put(part.get(i).k(), stored.get(i));
            } else {
              w.put(part.get(i).k(), stored.get(i), t);
            }
            for (byte[] victim : victims.get(i)) {
              w.delete(victim);
              deleted[0]++;
            }
          }
          return null;
        });
    evictions.add(deleted[0]);
    if (bound != null) {
      afterWrite(total);
    }
  }

  /**
   * Waits for a running disk check, and for a reader holding the WAL (see the class comment),
   * before a write.
   */
  private void awaitChecks() {
    if (diskChecking) {
      // A disk check reads the backend's size while holding a read transaction (SQLite counts
      // its rows): writes meanwhile pile up in SQLite's WAL, which cannot restart under a
      // reader (2.4 MB of WAL beside a 2.6 MB database for a 4 MiB bound). Wait for it.
      synchronized (diskCheck) {
        // nothing: the check ran under this monitor
      }
    }
    if (walHeld) {
      awaitWal();
    }
  }

  /** One stored entry: the put, then what the bound evicts for it and the bound's checks. */
  private void putStored(byte[] key, byte[] stored, Duration t) {
    if (t == null) {
      store.put(key, stored);
    } else {
      store.put(key, stored, t);
    }
    if (bound != null) {
      long size = (long) key.length + stored.length;
      evict(bound.written(key, size));
      afterWrite(size);
    }
  }

  /** After {@code size} bytes were written to a bounded tier: the WAL probe and the disk check. */
  private void afterWrite(long size) {
    probeWal(size);
    if (bound.maxBytes() > 0 && !diskUnknown) {
      long step = Math.max(MIN_DISK_CHECK_STEP, bound.maxBytes() / DISK_CHECKS_PER_BOUND);
      if (sinceDiskCheck.addAndGet(size) >= step) {
        // Writers crossing the step while a check (and its compaction) runs wait for it:
        // otherwise they would grow the files past the bound meanwhile.
        synchronized (diskCheck) {
          if (sinceDiskCheck.get() >= step) {
            sinceDiskCheck.set(0);
            diskChecking = true;
            try {
              checkDisk();
            } finally {
              diskChecking = false;
            }
          }
        }
      }
    }
  }

  /**
   * After a commit that wrote {@code size} data bytes (0: an eviction's delete): looks at the WAL
   * when due (see "A WAL held by a reader" in the class comment) and sets whether it is held.
   */
  private void probeWal(long size) {
    if (walFile != null
        && (sinceWalProbe.addAndGet(size) >= WAL_PROBE_STEP
            || walWritesLeft.decrementAndGet() <= 0)) {
      sinceWalProbe.set(0);
      long wal = fileSize(walFile);
      long db = fileSize(dbFile);
      long walAt = (long) walHeldAt();
      long filesAt = (long) (bound.maxBytes() * WAL_HOLD_AT);
      walHeld = wal > walAt && db + wal > filesAt;
      // The next look comes before the WAL can have passed both thresholds, at WAL_BYTES_PER_WRITE
      // a write: far from them, every WAL_PROBE_STEP data bytes as before; near them (a tier at
      // its bound, its WAL at its usual size), every few writes.
      walWritesLeft.set(
          Math.max(1, Math.max(walAt - wal, filesAt - db - wal) / WAL_BYTES_PER_WRITE));
    }
  }

  /**
   * Whether the WAL is over its share of {@code max-bytes} and the database and WAL together over
   * {@value #WAL_HOLD_AT} of it: checkpoints are being held back (a reader's snapshot), and the
   * files are about to pass the bound.
   */
  private boolean walOver() {
    long max = bound.maxBytes();
    long wal = fileSize(walFile);
    return wal > walHeldAt() && fileSize(dbFile) + wal > max * WAL_HOLD_AT;
  }

  /** The WAL size above which it is taken to be held by a reader (see the class comment). */
  double walHeldAt() {
    return Math.max(bound.maxBytes() * WAL_SHARE, walNormal * 1.5);
  }

  /** Whether the WAL is over {@link #walHeldAt()} now (false for engines without one). */
  private boolean walHeldNow() {
    return walFile != null && fileSize(walFile) > walHeldAt();
  }

  /**
   * The WAL's usual size: {@code wal_autocheckpoint} pages of {@code page_size} (what SQLite lets
   * it reach before a checkpoint), 0 if the stats do not say. A WAL half as large again is held.
   */
  static long walNormal(BackendStats s) {
    try {
      return Math.multiplyExact(
          Long.parseLong(s.properties().getOrDefault("wal_autocheckpoint", "0")),
          Long.parseLong(s.properties().getOrDefault("page_size", "0")));
    } catch (NumberFormatException | ArithmeticException e) {
      return 0;
    }
  }

  private static long fileSize(Path p) {
    try {
      return Files.size(p);
    } catch (IOException | RuntimeException e) {
      return 0; // absent (no WAL yet, or just truncated): nothing held
    }
  }

  /**
   * While the WAL is held (see the class comment), writers pass one at a time, each after a pause
   * that doubles from {@value #WAL_PAUSE_MIN_MS} ms up to {@value #WAL_PAUSE_MAX_MS} ms: a write
   * still goes through after its pause, since only a commit lets SQLite checkpoint and restart its
   * WAL once the reader has gone. Each episode is logged (info) when it ends, with its length.
   */
  private void awaitWal() {
    synchronized (walQueue) {
      if (!walOver()) {
        walHeld = false;
        walPauseMillis = 0;
        if (walHeldSince != -1) {
          log.info(
              "Cache '{}': tier '{}': writes were slowed for {} ms while a reader held the WAL"
                  + " (it kept checkpoints from restarting it) with the files near max-bytes",
              cacheName,
              name(),
              (System.nanoTime() - walHeldSince) / 1_000_000);
          walHeldSince = -1;
        }
        return;
      }
      if (walHeldSince == -1) {
        walHeldSince = System.nanoTime();
        long wal = fileSize(walFile);
        walAtHold = Math.max(walAtHold, wal);
        log.warn(
            "Cache '{}': tier '{}': a reader holds the SQLite WAL (checkpoints cannot restart it)"
                + " and the files are near max-bytes (WAL {} B, database {} B, max-bytes {} B):"
                + " writes to this tier are slowed (at most about 4 a second) until the reader"
                + " ends; metric tiers.{}.wal-pauses",
            cacheName,
            name(),
            wal,
            fileSize(dbFile),
            bound.maxBytes(),
            name());
      }
      walPauseMillis = Math.min(WAL_PAUSE_MAX_MS, Math.max(WAL_PAUSE_MIN_MS, walPauseMillis * 2));
      walPauses.increment();
      try {
        Thread.sleep(walPauseMillis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt(); // the write goes ahead; the caller sees the flag
      }
    }
  }

  /** The largest WAL size at which writers began to be held back (0: never; for tests). */
  long walAtHold() {
    return walAtHold;
  }

  /** Writes that paused because the WAL was held (for tests and metrics). */
  long walPauses() {
    return walPauses.sum();
  }

  private void evict(List<byte[]> victims) {
    for (byte[] victim : victims) {
      store.delete(victim);
      evictions.increment();
    }
  }

  /**
   * Measures the backend's files and keeps them within {@code max-bytes} (see "Bound on disk" in
   * the class comment): above the engine's compaction point it compacts the backend and then scales
   * the bound's byte budget so that the compacted files settle at the engine's settling point;
   * below that point, it lets the budget grow back (at most doubling per check, up to {@code
   * max-bytes}). Runs on the writing thread that crossed the step.
   */
  void checkDisk() {
    Size m = measure();
    if (m.disk() < 0) {
      // A backend that has reported a size once reports none only for a moment: RocksDB's walk of
      // its directory fails when a file vanishes under it (obsolete files are deleted on RocksDB's
      // own threads after a compaction). Switching the disk check off for good on such a moment
      // let a 4 MiB tier grow to 11.2 MB of files (a CI run of TierBoundTest): this check is
      // skipped instead and the next step measures again. Only a backend that never reported a
      // size (memory) turns the check off, after a few tries.
      if (diskBytes < 0 && ++unmeasured >= UNMEASURED_CHECKS) {
        diskUnknown = true; // e.g. memory: the bound stays on the data bytes
      }
      return;
    }
    unmeasured = 0;
    long max = bound.maxBytes();
    long budget = bound.budget();
    long wanted;
    if (m.free() >= 0) {
      wanted = reusingFreePages(m, max, budget);
    } else {
      Footprint f = Footprint.of(backend.type());
      long disk = m.disk();
      if (disk > max * f.compactAt()) {
        backend.compact(Progress.NONE); // WAL truncated, free pages / dead versions reclaimed
        compactions.increment();
        disk = measure().disk();
        // only a compacted size tells what the data costs on disk: before it, free pages and dead
        // versions that the next compaction removes would make the budget shrink for nothing
        wanted = disk <= 0 ? budget : (long) (budget * (max * f.settle() / disk));
      } else if (disk < max * f.settle()) {
        wanted = disk <= 0 ? budget * 2 : (long) (budget * (max * f.settle() / disk));
      } else {
        wanted = budget;
      }
      m = new Size(disk, -1);
    }
    diskBytes = m.disk();
    applyBudget(Math.min(wanted, budget * 2));
  }

  /**
   * Sets the bound's byte budget to {@code bytes} and deletes what it evicts, one delete at a time
   * through the WAL hold (see "A WAL held by a reader" in the class comment): when the budget
   * drops, hundreds of keys go at once (1,600 for a 4 MiB SQLite tier whose budget fell by a
   * quarter), each delete its own commit, and a reader holding the WAL meanwhile kept every one of
   * those commits in it. The writers wait for the disk check that calls this, so while the WAL is
   * held the tier makes one commit per pause, as writers do.
   */
  void applyBudget(long bytes) {
    for (byte[] victim : bound.budget(bytes)) {
      if (walHeld) {
        awaitWal();
      }
      store.delete(victim);
      evictions.increment();
      probeWal(0);
    }
  }

  /**
   * The disk check of an engine that reports its free pages and reuses them in place (SQLite): the
   * bytes in use (files minus free pages, WAL included) are what the data costs, and the budget is
   * scaled so that they settle at {@value #DISK_TARGET} of {@code max-bytes}. An eviction leaves
   * free pages that the next writes fill, so the files stop growing at the largest size in use
   * (plus one step) without any compaction. Compacting during a storm is what passed the bound:
   * SQLite's incremental vacuum moves the pages behind the free ones through the WAL, which grew to
   * 3.96 MB beside a 3.5 MB database for a 4 MiB bound (1.79x, TierBoundTest). So the backend is
   * compacted only when its files are over {@code max-bytes} (a bound lowered since the last run, a
   * WAL grown by a long reader), where giving free pages back is the only way down.
   */
  private long reusingFreePages(Size m, long max, long budget) {
    if (walHeldNow()) {
      // A reader holds the WAL (see the class comment): the files measured include what it keeps
      // from restarting. Neither compact (the vacuum's pages would go into that WAL, and its
      // checkpoint waits for the reader) nor lower the budget on it (the evictions' deletes would
      // grow it further, and the data would be evicted for a WAL that shrinks once the reader
      // is gone): the writers' hold bounds the files meanwhile.
      return budget;
    }
    if (m.disk() > max && m.free() > 0) {
      backend.compact(Progress.NONE);
      compactions.increment();
      Size after = measure();
      if (after.disk() >= 0) {
        m = after.free() >= 0 ? after : new Size(after.disk(), 0);
      }
    }
    long used = m.disk() - m.free();
    if (used <= 0) {
      return budget * 2;
    }
    if (used < max * DISK_TARGET) {
      usedAtShrink = 0;
      return (long) (budget * (max * DISK_TARGET / used));
    }
    // Lowered only while the bytes in use pass SHRINK_AT and have grown since the budget was last
    // lowered: an eviction frees space inside pages before it frees whole pages (keys evicted in
    // another order than the B-tree's), so the bytes in use can stay where they are for a while
    // after it; lowering the budget again at every check meanwhile evicted nearly everything
    // (77 KB kept of a 2 MiB bound by a tier reopened with 2 MiB after 4 MiB; see
    // benchmarks/RESULTS-cache-tiers.md).
    if (used > max * SHRINK_AT && used > usedAtShrink) {
      usedAtShrink = used;
      return (long) (budget * (max * DISK_TARGET / used));
    }
    return budget;
  }

  /**
   * A measurement of the backend's files: {@code disk} bytes (-1: none reported), of which {@code
   * free} are free pages the engine reuses in place (-1: the engine reports none).
   */
  record Size(long disk, long free) {}

  /** The backend's size on disk; -1 if it reports none, even on a second try right after. */
  private Size measure() {
    BackendStats s = backend.stats();
    if (s.diskBytes() < 0) {
      s = backend.stats();
    }
    if (walFile == null && s.properties().containsKey("wal_bytes")) {
      String file = s.properties().get("file");
      if (file != null) {
        walNormal = walNormal(s);
        dbFile = Path.of(file);
        walFile = Path.of(file + "-wal"); // SQLite's name for it
      }
    }
    return new Size(s.diskBytes(), s.diskBytes() < 0 ? -1 : freeBytes(s));
  }

  /**
   * Free pages inside the files (SQLite's {@code freelist_count} times {@code page_size}), -1 when
   * the backend does not report them (RocksDB, memory).
   */
  static long freeBytes(BackendStats s) {
    String pages = s.properties().get("freelist_count");
    String size = s.properties().get("page_size");
    if (pages == null || size == null) {
      return -1;
    }
    try {
      return Math.multiplyExact(Long.parseLong(pages), Long.parseLong(size));
    } catch (NumberFormatException | ArithmeticException e) {
      return -1; // not a number: treated as not reported (the check then compacts as for others)
    }
  }

  /**
   * Where an engine's files are compacted and where they settle, as shares of {@code max-bytes},
   * for engines that do not report free pages (see {@link #reusingFreePages} for SQLite). RocksDB
   * keeps every write (deletes included) in its WAL and in files awaiting compaction, and while
   * compacting holds the old files beside the new ones (measured: 5.4 MB of files for 4 MiB when
   * compacted at 90%), so it is compacted at 45% and settles at 25%; others are taken as they
   * report.
   */
  record Footprint(double compactAt, double settle) {
    static Footprint of(String backendType) {
      return backendType.equals("rocksdb")
          ? new Footprint(0.45, 0.25)
          : new Footprint(COMPACT_AT, DISK_TARGET);
    }
  }

  long diskBytes() {
    return diskBytes;
  }

  long compactions() {
    return compactions.sum();
  }

  private Duration capped(Duration ttl) {
    if (maxTtl == null) {
      return ttl;
    }
    return ttl == null || ttl.compareTo(maxTtl) > 0 ? maxTtl : ttl;
  }

  /** Deletes (or, when degraded, remembers the key as dirty). */
  void delete(byte[] key) {
    if (!usable()) {
      markDirty(key);
      return;
    }
    try {
      store.delete(key);
      if (bound != null) {
        bound.removed(key);
      }
    } catch (IllegalArgumentException e) {
      throw e;
    } catch (RuntimeException e) {
      failed(e, key, false);
    }
  }

  /**
   * Moves {@code tag} to a new generation in this tier (or, when degraded or failing, marks the
   * whole tier dirty: it is cleared before it serves again).
   */
  void invalidateTag(String tag) {
    wholeTier(() -> tags.bump(tag));
  }

  /** Deletes every entry and tag row (or, when degraded, marks the whole namespace dirty). */
  void clear() {
    wholeTier(this::deleteAll);
  }

  /**
   * Runs {@code op}, a change to the whole tier, or, while the tier is degraded, marks the whole
   * namespace dirty. A tier found unusable may have recovered (on the probe thread) before the
   * mark: the mark is then too late for that recovery, so {@code op} runs on the recovered tier
   * instead, as {@link #markDirty} does for one key. A failure of {@code op} marks the whole tier
   * dirty.
   */
  private void wholeTier(Runnable op) {
    if (!usable()) {
      synchronized (this) {
        if (degraded) {
          dirtyAll = true;
          dirty.clear();
          return;
        }
      }
    }
    try {
      op.run();
    } catch (RuntimeException e) {
      failed(e, null, true);
    }
  }

  /**
   * Streams up to {@code max} entries in key order to {@code sink} (raw store entries; nothing is
   * collected). Stops quietly (after marking the tier failed) if the store fails.
   */
  boolean scan(long max, Consumer<Entry> sink) {
    if (!usable()) {
      return false;
    }
    long n = 0;
    try (CloseableIterator<Entry> it = store.scan(null, null)) {
      while (n < max && it.hasNext()) {
        sink.accept(it.next());
        n++;
      }
      return !it.hasNext();
    } catch (IllegalArgumentException e) {
      throw e;
    } catch (PersistenceException e) {
      failed(e, null, false);
      return false;
    }
  }

  /** The store's estimate of its entry count (0 when unavailable). */
  long approximateCount() {
    try {
      return usable() ? store.approximateCount() : 0;
    } catch (RuntimeException e) {
      failed(e, null, false);
      return 0;
    }
  }

  /** Decodes a scanned entry if it is live here (tags current); else null. */
  StoredValue liveValue(Entry e) {
    try {
      StoredValue v = StoredValue.decode(e.value());
      return v.tags().length == 0 || tags.live(v) ? v : null;
    } catch (IllegalArgumentException bad) {
      return null;
    }
  }

  /** Rebuilds the bound's index from the stored entries (streamed); no-op when unbounded. */
  void rebuildIndex() {
    if (bound == null) {
      return;
    }
    indexHoldsEveryKey = false; // until the scan below has seen every stored key
    long errorsBefore = errors.sum();
    bound.clear();
    List<byte[]> victims = new ArrayList<>();
    boolean complete =
        scan(
            Long.MAX_VALUE,
            e -> victims.addAll(bound.written(e.key(), (long) e.key().length + e.value().length)));
    // a bound lowered since the last run: evict down to it now
    for (byte[] v : victims) {
      try {
        store.delete(v);
        evictions.increment();
      } catch (RuntimeException ex) {
        failed(ex, v, false);
      }
    }
    // no failure meanwhile (on any thread): a failed write may have left a key outside the index
    indexHoldsEveryKey = complete && missesFromIndex && !degraded && errors.sum() == errorsBefore;
  }

  /** Physically removes expired entries; returns how many (0 when unavailable). */
  long purgeExpired() {
    if (!usable()) {
      return 0;
    }
    try {
      long n = store.purgeExpired();
      if (n > 0 && bound != null) {
        rebuildIndex(); // the store does not say which keys it removed
      }
      return n;
    } catch (RuntimeException e) {
      failed(e, null, false);
      return 0;
    }
  }

  /** Deletes every entry and tag row; returns how many rows. */
  private long deleteAll() {
    long n = 0;
    for (KeyValueStore s : List.of(store, tagStore)) {
      while (true) {
        List<byte[]> keys = new ArrayList<>(CLEAR_BATCH);
        try (CloseableIterator<Entry> it = s.scan(null, null)) {
          while (it.hasNext() && keys.size() < CLEAR_BATCH) {
            keys.add(it.next().key());
          }
        }
        if (keys.isEmpty()) {
          break;
        }
        for (byte[] k : keys) {
          s.delete(k);
        }
        n += keys.size();
      }
    }
    tags.reload();
    if (bound != null) {
      bound.clear();
    }
    return n;
  }

  /** Forgets the tag generations read so far (another instance may have moved them). */
  void reloadTags() {
    tags.reload();
  }

  /**
   * Whether a call may use the tier now (see "Recovery off the callers' threads"): always while it
   * is healthy; while degraded, not before the retry time; after it, the call starts the recovery
   * on a probe thread and waits for it at most {@link #probeWaitMillis} after its start, and a call
   * that finds a recovery already running does not wait at all.
   */
  private boolean usable() {
    if (!degraded) {
      return true;
    }
    if (clock.millis() < retryAt) {
      return false;
    }
    Probe started = startProbe("a call");
    if (started != null) {
      awaitProbe(started);
    }
    return !degraded;
  }

  /**
   * The recovery (see "Degradation" and "Recovery off the callers' threads"): rounds that each take
   * the dirty keys (or the whole-namespace mark) under this tier's monitor and delete them without
   * it, until a round finds nothing new; the tier turns healthy under the monitor in that same
   * check. Runs on a probe thread only, so at most one runs per tier. {@code by}: who started it,
   * for messages. True if it recovered the tier.
   */
  private boolean recover(String by) {
    if (!degraded) {
      return false;
    }
    long now = clock.millis();
    if (now < retryAt) {
      return false;
    }
    long deleted = 0;
    long dropped = 0; // dirty keys deleted; -1 once a round cleared the whole namespace
    boolean asked = false; // a round has reached the backend (deletes or the probe row)
    int rounds = 0;
    while (true) {
      List<ByteBuffer> taken;
      boolean wipe;
      synchronized (this) {
        if (asked && !dirtyAll && dirty.isEmpty()) {
          // Commit point. Everything marked dirty up to here was taken by a round and deleted; a
          // call marking a key from now on finds the tier healthy and deletes the key itself
          // (markDirty, wholeTier), so no older value of it can be served.
          degraded = false;
          outage = null;
          backoffMillis = 0;
          lastRetryAt = -1;
          break;
        }
        if (rounds == MAX_RECOVERY_ROUNDS) {
          String error =
              "recovery outrun by writes: after "
                  + rounds
                  + " rounds of deleting the keys written or invalidated meanwhile, "
                  + (dirtyAll ? "a tag invalidation or clear" : dirty.size() + " more key(s)")
                  + " arrived during the last round";
          lastRetryAt = now;
          lastRetryBy = by;
          scheduleRetry(error, now);
          log.debug("Cache '{}': tier '{}' not recovered: {}", cacheName, backend.name(), error);
          return false;
        }
        wipe = dirtyAll;
        taken = wipe ? List.of() : new ArrayList<>(dirty);
        dirtyAll = false;
        dirty.clear();
      }
      rounds++;
      try {
        if (wipe) {
          deleted += deleteAll();
          dropped = -1;
        } else {
          for (ByteBuffer k : taken) {
            store.delete(k.array());
            if (bound != null) {
              bound.removed(k.array());
            }
            deleted++;
          }
          dropped = dropped < 0 ? -1 : dropped + taken.size();
        }
        if (deleted == 0) {
          // nothing above asked the backend anything: a write (what fails on a full disk) does
          byte[] p = PROBE_KEY.getBytes(java.nio.charset.StandardCharsets.UTF_8);
          metaStore.put(p, new byte[0]);
          metaStore.delete(p);
        }
        asked = true;
      } catch (RuntimeException e) {
        giveBack(wipe, taken);
        errors.increment();
        synchronized (this) {
          lastRetryAt = now;
          lastRetryBy = by;
          scheduleRetry(e.toString(), now);
        }
        log.debug(
            "Cache '{}': tier '{}' still failing: {}", cacheName, backend.name(), e.toString());
        return false;
      }
    }
    log.info(
        "Cache '{}': tier on backend '{}' recovered after {} ms (retried by {}, {} round(s)); {}"
            + " written during the outage were dropped from it",
        cacheName,
        backend.name(),
        now - degradedSince,
        by,
        rounds,
        dropped < 0 ? "all entries" : dropped + " key(s)");
    return true;
  }

  /**
   * Returns what a failed recovery round took to the dirty set (some may be deleted already: they
   * are deleted again by the next recovery, which is harmless).
   */
  private synchronized void giveBack(boolean wipe, List<ByteBuffer> taken) {
    if (!wipe && !dirtyAll) {
      dirty.addAll(taken);
    }
    if (wipe || dirtyAll || dirty.size() > MAX_DIRTY) {
      dirtyAll = true;
      dirty.clear();
    }
  }

  /**
   * Starts a probe (the recovery a call would run, on a thread of its own) if the tier is degraded,
   * its retry time has passed and no probe runs; returns the running probe (this one or an earlier
   * one still running), or null if none runs. See "Probing a tier nobody calls".
   */
  Probe probeIfDue() {
    Probe started = startProbe("a probe");
    if (started != null) {
      return started;
    }
    Probe last = probe.get();
    return degraded && last != null && !last.done().isDone() ? last : null;
  }

  /**
   * Starts the recovery on a probe thread if the tier is degraded, its retry time has passed, no
   * probe runs and the tier is not closed; returns that probe, else null. {@code by}: who asked ("a
   * call", "a probe"), for messages.
   */
  private Probe startProbe(String by) {
    if (!degraded || closed) {
      return null;
    }
    Probe last = probe.get();
    if (last != null && !last.done().isDone()) {
      return null;
    }
    if (clock.millis() < retryAt) {
      return null;
    }
    Probe p = new Probe(clock.millis(), System.nanoTime(), new CompletableFuture<>());
    if (!probe.compareAndSet(last, p)) {
      return null; // another thread started one just now
    }
    Thread t =
        new Thread(
            () -> {
              try {
                if (recover(by)) {
                  onRecovered.run();
                }
              } catch (RuntimeException | Error e) {
                // recover handles storage failures; anything else is a bug, named here
                log.error(
                    "Cache '{}': probe of tier '{}' failed unexpectedly", cacheName, name(), e);
              } finally {
                p.done().complete(null);
              }
            },
            "cairn-cache-probe-" + cacheName + "-" + name());
    t.setDaemon(true); // a probe hung on a backend must not keep the JVM up
    t.start();
    return p;
  }

  /**
   * Waits for {@code p} until {@link #probeWaitMillis} ({@value #PROBE_WAIT_MS} but in tests) after
   * it started (not at all once that has passed); true if it has ended.
   */
  boolean awaitProbe(Probe p) {
    long left = p.startedNanos() + probeWaitMillis * 1_000_000 - System.nanoTime();
    try {
      if (left > 0) {
        p.done().get(left, TimeUnit.NANOSECONDS);
      }
    } catch (TimeoutException e) {
      // reported by health(): the probe is still running
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // the caller reports what is known now
    } catch (ExecutionException e) {
      throw new IllegalStateException("probe futures complete normally", e);
    }
    return p.done().isDone();
  }

  /**
   * Sets how long a call, the health check, {@code isDegraded()} and {@code tierStats()} wait for a
   * probe (tests: long enough that a probe of a tier that answers ends within it on a starved
   * machine, so that the wait decides nothing).
   */
  void probeWaitForTest(long millis) {
    probeWaitMillis = millis;
  }

  /** No probe starts after this (the cache is closing; its backends may close next). */
  void close() {
    closed = true;
  }

  private void markDirty(byte[] key) {
    synchronized (this) {
      if (degraded) {
        if (dirtyAll) {
          return;
        }
        if (dirty.size() >= MAX_DIRTY) {
          dirtyAll = true;
          dirty.clear();
        } else {
          dirty.add(ByteBuffer.wrap(key.clone()));
        }
        return;
      }
    }
    // The tier recovered between the caller's check and now: the skipped write must not leave an
    // older value in the tier, so delete the key now.
    try {
      store.delete(key);
      if (bound != null) {
        bound.removed(key);
      }
    } catch (IllegalArgumentException e) {
      throw e;
    } catch (RuntimeException e) {
      failed(e, key, false);
    }
  }

  private void failed(RuntimeException e, byte[] writtenKey, boolean all) {
    // a write or eviction that failed half-way may leave a stored key outside the index: read the
    // backend for every key until the next complete rebuild
    indexHoldsEveryKey = false;
    errors.increment();
    boolean first;
    synchronized (this) {
      first = !degraded;
      long now = clock.millis();
      if (first) {
        degradedSince = now;
        backoffMillis = 0;
        lastRetryAt = -1;
        scheduleRetry(e.toString(), now);
      } else {
        // an operation that found the tier usable before it turned degraded: only a failed
        // recovery probe moves the retry further out, else a few writes in flight at the moment of
        // the outage would push the first retry to retry-max
        lastError = e.toString();
        publishOutage();
      }
      degraded = true; // after the outage is published: health() never sees one without the other
      if (all) {
        dirtyAll = true;
        dirty.clear();
      }
    }
    if (writtenKey != null) {
      markDirty(writtenKey);
    }
    if (first) {
      log.warn(
          "Cache '{}': tier on backend '{}' (store '{}') failed ({}); serving from the other tiers"
              + " and the loader, retrying it in {} ms. Further failures are not logged until it"
              + " recovers.",
          cacheName,
          backend.name(),
          store.name(),
          e instanceof PersistenceException ? e.getMessage() : e.toString(),
          backoffMillis);
      onDegraded.run();
    }
  }

  private synchronized void scheduleRetry(String error, long now) {
    backoffMillis =
        backoffMillis == 0
            ? retryInitial.toMillis()
            : Math.min(retryMax.toMillis(), Math.max(1, backoffMillis) * 2);
    retryAt = now + backoffMillis;
    lastError = error;
    publishOutage();
  }

  private synchronized void publishOutage() {
    outage = new Outage(degradedSince, lastError, retryAt, lastRetryAt, lastRetryBy);
  }

  /**
   * The tier's health as it is known now, without this tier's monitor. The caller starts a probe
   * first if one is due ({@link #probeIfDue}, {@link #awaitProbe}); a probe still running is
   * reported as timed out.
   */
  HealthCheck.Result health() {
    // published before the tier turns degraded and cleared after it has recovered (the dirty keys
    // deleted): between the two it is the outage, whatever the degraded flag says at this moment
    Outage o = outage;
    if (o == null) {
      return HealthCheck.Result.healthy("tier '" + backend.name() + "' in use");
    }
    StringBuilder m =
        new StringBuilder("cache '")
            .append(cacheName)
            .append("' degraded: tier on backend '")
            .append(backend.name())
            .append("' (store '")
            .append(store.name())
            .append("') failing since ")
            .append(Instant.ofEpochMilli(o.since()))
            .append(" (last error: ")
            .append(o.lastError())
            .append("); serving from the other tiers and the loader");
    Probe p = probe.get();
    boolean hung = p != null && !p.done().isDone();
    if (hung) {
      m.append("; probe timed out: a retry started at ")
          .append(Instant.ofEpochMilli(p.startedAt()))
          .append(" has not answered after ")
          .append((System.nanoTime() - p.startedNanos()) / 1_000_000)
          .append(" ms (the backend may be hung; no other retry starts until it ends)");
    } else {
      if (o.lastRetryAt() >= 0) {
        m.append("; last retry (by ")
            .append(o.lastRetryBy())
            .append(") failed at ")
            .append(Instant.ofEpochMilli(o.lastRetryAt()));
      } else {
        m.append("; not retried yet");
      }
      m.append("; next retry at ").append(Instant.ofEpochMilli(o.retryAt()));
    }
    return HealthCheck.Result.builder()
        .unhealthy()
        .withMessage(m.toString())
        .withDetail("degraded", true)
        .withDetail("tier", backend.name())
        .withDetail("errors", errors.sum())
        .withDetail("probe-timed-out", hung)
        .build();
  }
}
