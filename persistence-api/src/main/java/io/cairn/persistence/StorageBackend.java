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
 *       {@link IllegalArgumentException} (see {@link io.cairn.persistence.spi.StoreNames}).
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
 *       points in time (there is no read snapshot spanning several calls).
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
