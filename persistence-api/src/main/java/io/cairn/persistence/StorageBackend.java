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
 *   <li><b>Close.</b> {@link #close()} waits for in-flight operations or fails them with {@link
 *       BackendClosedException}, releases every native handle, connection, lock and thread, and is
 *       idempotent. Any use afterwards throws {@link BackendClosedException}.
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
   * throws, nothing is committed and the exception propagates unchanged. Transactions do not nest.
   */
  <T> T inTransaction(Transaction.Work<T> work);

  /** Every store that holds data, sorted. */
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
   * A quick, non-blocking liveness check used by the registry's health check. The default reports
   * healthy; backends report unhealthy when, for example, the disk is full or the engine is in a
   * background error state.
   */
  default HealthCheck.Result health() {
    return HealthCheck.Result.healthy(type() + " backend '" + name() + "' is open");
  }

  /** Releases everything. Idempotent. */
  @Override
  void close();
}
