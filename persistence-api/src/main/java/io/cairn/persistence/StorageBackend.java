package io.cairn.persistence;

import com.codahale.metrics.health.HealthCheck;
import java.util.Set;
import java.util.SortedSet;

/**
 * One open storage engine instance, named in configuration. Hands out key-value namespaces, logs
 * and snapshot sets; all of them live in the backend's data directory and share its durability.
 *
 * <h2>Rules every implementation must follow</h2>
 *
 * <ul>
 *   <li><b>Thread safety.</b> All methods may be called from any thread. Store accessors return the
 *       same (or an equivalent) store object for the same name; stores are created on first use and
 *       exist until deleted by maintenance.
 *   <li><b>Names.</b> Store names match {@code [A-Za-z0-9][A-Za-z0-9._-]{0,127}}; others throw
 *       {@link IllegalArgumentException} (see {@link io.cairn.persistence.spi.ArgumentChecks}).
 *   <li><b>Exclusive open.</b> A durable backend locks its data directory for its lifetime. A
 *       second open, in this or another process, throws {@link BackendLockedException}.
 *   <li><b>Transactions.</b> See {@link #inTransaction}: inside the work, write only through the
 *       {@link Transaction} view; a write through a store obtained from the backend itself on the
 *       thread running the work throws {@link IllegalStateException}, on every backend.
 *   <li><b>What a concurrent reader sees.</b> A single write is visible to other threads, whole, as
 *       soon as it returns (often a little earlier). The writes of one transaction, one {@link
 *       KeyValueStore#putAll} or one {@link LogStore#appendAll} become visible to other threads all
 *       at once, after they commit: a reader that sees one of them (a key's new value, a log
 *       record, a log's advanced {@link LogStore#nextOffset()}) and then reads another sees that
 *       one too. A single read is a consistent point in time for what it returns; two reads are two
 *       points in time, unless both are made inside one {@link #readTransaction} (a snapshot
 *       spanning several calls, on backends with {@link Capability#SNAPSHOT_READS}).
 *   <li><b>Scans</b> are not snapshots; see {@link KeyValueStore#scan}.
 *   <li><b>Caps.</b> One transaction, {@code putAll} or {@code appendAll} holds at most {@code
 *       max-batch-entries} writes (default 100,000) and {@code max-batch-bytes} bytes of keys,
 *       values and payloads (default 128 MiB), both set per backend in configuration. A bigger one
 *       throws {@link IllegalArgumentException} naming the cap and its key, and nothing of it is
 *       written.
 *   <li><b>Arguments</b> are checked before anything is touched: an invalid store name (also {@code
 *       null}), key, TTL, version or offset is an {@link IllegalArgumentException}, a null key,
 *       value or payload a {@link NullPointerException}, each with a message naming what was wrong.
 *   <li><b>Close.</b> {@link #close()} is idempotent and returns once every operation in flight has
 *       finished or failed. An operation running while the backend closes either completes normally
 *       (and is then as durable as any other) or throws {@link BackendClosedException} having
 *       written nothing — never another exception and never half a batch. Every use afterwards,
 *       also of stores, iterators and snapshot streams handed out before, throws {@link
 *       BackendClosedException}. Close releases every native handle, connection, lock and thread.
 * </ul>
 */
public interface StorageBackend extends AutoCloseable {
  /** Instance name from configuration (the key under {@code cairn.backends}). */
  String name();

  /** Provider type, e.g. {@code memory}, {@code sqlite}, {@code rocksdb}. */
  String type();

  /** The durability this instance was opened with. */
  Durability durability();

  /** Optional capabilities this backend has. */
  Set<Capability> capabilities();

  /** The key-value namespace {@code namespace}, created on first use. */
  KeyValueStore keyValue(String namespace);

  /** The log {@code name}, created on first use. */
  LogStore log(String name);

  /** The snapshot set {@code name}, created on first use. */
  SnapshotStore snapshots(String name);

  /**
   * Runs {@code work} in a transaction spanning any key-value namespaces and logs of this backend:
   * all its writes commit together, durably per {@link #durability()}, or none do. If {@code work}
   * throws, nothing is committed and the exception propagates unchanged.
   *
   * <p>The rule, the same on every backend:
   *
   * <ul>
   *   <li>Write only through the {@link Transaction} view passed to {@code work}. A write through a
   *       store obtained from this backend ({@link #keyValue}, {@link #log}, {@link #snapshots}:
   *       put, delete, compare-and-set, putAll, purgeExpired, append, appendAll, truncateBefore,
   *       snapshot save, delete and retainLatest), and {@link #compact}, on the thread running
   *       {@code work} throws {@link IllegalStateException} naming the store and the view to use
   *       ({@code tx.keyValue(..)} / {@code tx.log(..)}); nothing is written. Snapshots are not
   *       transactional: save them before or after.
   *   <li>Reads through the backend's own stores inside {@code work} see committed state only, not
   *       the transaction's own writes; read through the view to see those.
   *   <li>Transactions do not nest: calling {@code inTransaction} of this backend from inside
   *       {@code work} throws {@link IllegalStateException}.
   *   <li>Other threads see none of the writes before the commit and all of them after it (see
   *       "What a concurrent reader sees" above).
   *   <li>At most {@code max-batch-entries} writes and {@code max-batch-bytes} bytes: the write
   *       that would pass a cap throws {@link IllegalArgumentException}; letting it propagate
   *       aborts the transaction.
   * </ul>
   */
  <T> T inTransaction(Transaction.Work<T> work);

  /**
   * Runs {@code work} with a read-only view of one consistent committed state of this backend,
   * across any key-value namespaces and logs. Only backends with {@link Capability#SNAPSHOT_READS}.
   *
   * <p>The rules, the same on every backend that has the capability:
   *
   * <ul>
   *   <li><b>What the reader sees.</b> The snapshot is taken when {@code readTransaction} is
   *       called, before {@code work} runs. Every read of the view, scans included, sees exactly
   *       the writes committed before that instant: a single write, {@code putAll}, {@code
   *       appendAll} or transaction that returned before the call is seen; one that started after
   *       it is not; one committing at the same time is seen whole or not at all, across all its
   *       namespaces and logs. So a sum over many keys, or a count of KV entries against a log's
   *       {@code nextOffset()}, holds in the snapshot whatever writers do meanwhile. Expiry is
   *       judged at the instant of the snapshot (by the backend's clock): an entry live then stays
   *       visible for the whole work.
   *   <li><b>Writers are not blocked</b> by an open read transaction, and its reads are not blocked
   *       by them: writes and transactions on other threads commit while {@code work} runs (and
   *       stay invisible to it). Taking the snapshot costs each backend what its engine allows:
   *       RocksDB an engine snapshot (no wait on either side); SQLite a deferred read transaction
   *       on a reader connection of the WAL database (no wait on either side; the connection is
   *       held for the whole work, so it counts against {@code readers}, and the WAL cannot be
   *       checkpointed past it, so {@link #compact} waits for it: keep the work short); memory (and
   *       any backend on {@code EngineBackend}) what its engine's {@code StorageEngine.snapshot()}
   *       documents: memory records each store's map under its engine's exclusive lock (waits for a
   *       batch being applied, never for a transaction's work; cost proportional to the number of
   *       stores), and the first write to a store while a snapshot holds it copies that store's map
   *       once (proportional to its entries), never waiting for the work.
   *   <li><b>Read only.</b> The view has no write methods. On the thread running {@code work}, a
   *       write through a store obtained from this backend (any write the transaction rule of
   *       {@link #inTransaction} names), {@link #compact}, {@link #inTransaction} and a nested
   *       {@code readTransaction} throw {@link IllegalStateException} and write nothing. Calling
   *       {@code readTransaction} from inside {@link #inTransaction} work throws {@link
   *       IllegalStateException} too (the snapshot would not show the transaction's own writes;
   *       read through the {@link Transaction} view instead). Snapshot sets are not in the view.
   *   <li><b>Threads.</b> Any thread may run read transactions, several at once. The view and what
   *       it hands out (readers, scan iterators) are valid only inside {@code work} and only on the
   *       thread running it: other use throws {@link IllegalStateException}; iterators still open
   *       when the work ends are closed.
   *   <li><b>Errors.</b> Arguments are checked as for the stores ({@link IllegalArgumentException},
   *       {@link NullPointerException}). {@link UnsupportedOperationException} without the
   *       capability (before {@code work} runs); {@link BackendClosedException} when the backend is
   *       closed: at the call, or from a read of the view after {@link #close()} began (close may
   *       wait for the work to end instead: RocksDB does); {@link StoreCorruptedException} and
   *       {@link StorageEngineException} from reads as for the stores. An exception thrown by
   *       {@code work} propagates unchanged; nothing needs undoing.
   * </ul>
   *
   * @return what {@code work} returned
   * @throws UnsupportedOperationException if the backend lacks {@link Capability#SNAPSHOT_READS}
   */
  default <T> T readTransaction(Transaction.ReadWork<T> work) {
    throw new UnsupportedOperationException(
        type()
            + " backend '"
            + name()
            + "' has no snapshot reads (Capability.SNAPSHOT_READS): read the stores directly,"
            + " or read inside inTransaction() for a consistent view that holds writers up");
  }

  /**
   * Every store that holds data, sorted: each key-value namespace with a live or expired entry,
   * each log that was ever appended to (also when truncated empty: its offsets are data), and each
   * snapshot set with a snapshot, whether written directly or through a transaction. A store that
   * was only looked up may be listed too; a store holding data is never missing.
   */
  SortedSet<StoreId> stores();

  /** Sizes and engine facts for operators. May take time proportional to the number of stores. */
  BackendStats stats();

  /**
   * Checks everything the engine can check (page checksums, structure, every snapshot's checksum)
   * and reports problems rather than throwing for them. Read-only; safe while the backend is in
   * use.
   */
  VerifyReport verify(Progress progress);

  /** Reclaims space: purges expired entries, compacts or vacuums the engine's files. */
  void compact(Progress progress);

  /**
   * Writes a consistent copy of the whole backend into the empty or absent directory {@code target}
   * while the backend stays in use; opening a backend of the same type on {@code target} gives the
   * data as of one instant. Only backends with {@link Capability#CHECKPOINT}.
   *
   * @throws UnsupportedOperationException if the backend lacks {@link Capability#CHECKPOINT}
   */
  default void checkpoint(java.nio.file.Path target, Progress progress) {
    throw new UnsupportedOperationException(
        type() + " backend '" + name() + "' cannot take online checkpoints");
  }

  /**
   * Re-encrypts, in place, every stored value, log payload and snapshot chunk that was not sealed
   * with the encryption hook's current primary key ({@link
   * io.cairn.persistence.spi.Encryption#sealedWithPrimary}), so that an older key can be revoked.
   * What a read returns does not change: keys, versions, expiry instants (expired entries are
   * re-sealed too, not purged), log offsets and positions, snapshot versions, sizes, checksums and
   * creation times stay exactly as they were. It is a maintenance operation below the public write
   * path (a put would change versions, and log records are immutable).
   *
   * <ul>
   *   <li><b>Concurrency.</b> The backend stays in use: the work is done in small batches, each
   *       atomic and excluding writers only while it runs; a record rewritten meanwhile by a writer
   *       is sealed with the primary already and is left alone.
   *   <li><b>Resumable and idempotent.</b> A record already sealed with the primary is skipped, so
   *       after a crash or {@code kill -9} running it again continues where it stopped; a finished
   *       run rewrites nothing the second time. No cursor is kept.
   *   <li><b>Failures.</b> A record that fails to open (altered, moved, or under a key the hook
   *       does not have) throws {@link StoreCorruptedException} naming the store and the key,
   *       offset or chunk; batches committed before it stay committed (they are correct), and
   *       nothing of the failed batch is written.
   *   <li>Progress is reported per store ({@code phase} = the store, {@code done} = records
   *       checked, {@code total} = -1).
   * </ul>
   *
   * <p>With encryption off it checks nothing and returns an empty report. Every backend with {@link
   * Capability#ENCRYPTION} implements it.
   *
   * @throws UnsupportedOperationException if the backend lacks {@link Capability#ENCRYPTION}
   */
  default ResealReport reseal(Progress progress) {
    throw new UnsupportedOperationException(
        type() + " backend '" + name() + "' does not encrypt, so it cannot re-encrypt");
  }

  /**
   * A backend-specific service beyond the three store kinds, for subsystems that can use an
   * engine's own mechanism when it has one (for example row leases or change notifications on a
   * shared database server). Each extension type documents its own contract in its Javadoc; a
   * subsystem asks for it and falls back to the portable store API (or refuses, naming the missing
   * extension) when the answer is empty.
   *
   * <p>Thread safety: may be called from any thread; the same instance is returned for the life of
   * the backend. The returned service is closed with the backend, never by the caller.
   *
   * @return the backend's implementation of {@code type}, or empty if it offers none (the default)
   */
  default <T> java.util.Optional<T> extension(Class<T> type) {
    java.util.Objects.requireNonNull(type, "type");
    return java.util.Optional.empty();
  }

  /**
   * A quick, non-blocking liveness check used by the registry's health check. The default reports
   * healthy; backends report unhealthy when, for example, the disk is full or the engine is in a
   * background error state.
   */
  default HealthCheck.Result health() {
    return HealthCheck.Result.healthy(type() + " backend '" + name() + "' is open");
  }

  /**
   * Releases everything. Idempotent. Waits for operations in flight to finish or fail with {@link
   * BackendClosedException} (see "Close" above).
   */
  @Override
  void close();
}
