package io.cairn.persistence;

/**
 * Optional properties of a backend. The TCK skips (never fails) contract tests whose capability a
 * backend does not declare.
 */
public enum Capability {
  /**
   * Acknowledged writes survive closing and reopening the backend (and a crash, per durability).
   */
  DURABLE,
  /** The backend can take a consistent online copy of itself while in use. */
  CHECKPOINT,
  /**
   * Stores of this backend may be opened by several processes at once (a networked backend).
   * Subsystems that keep an index of a store in one process's memory must not run on such a backend
   * unless it offers a server-side service for them through {@link StorageBackend#extension}: the
   * durable queue needs {@link LeasedQueueStore} and refuses to open without it.
   *
   * <p>Subsystems that keep state in memory then assume other writers: the route table appends only
   * at the version it has seen (compare-and-append in a transaction) and follows the log; the
   * tiered cache drops L1 copies that other instances' writes made stale. Both use the backend's
   * {@link ChangeNotifications} extension when it offers one.
   */
  MULTI_PROCESS,
  /**
   * Snapshots are kept off the Java heap and streamed in chunks on save and load, so a snapshot may
   * be larger than the heap (SQLite, RocksDB). A backend without it keeps snapshots on the heap and
   * documents the largest it accepts (the memory backend: {@code max-snapshot-bytes}); a bigger
   * save throws {@link IllegalArgumentException} and stores nothing.
   */
  LARGE_SNAPSHOTS,
  /**
   * The backend honours the {@link io.cairn.persistence.spi.Encryption} hook of its context: every
   * value, log payload and snapshot chunk is sealed before it reaches the engine and opened after,
   * bound to its place by {@link io.cairn.persistence.spi.AssociatedData}, and one that fails to
   * open throws {@link StoreCorruptedException} naming the store and key or offset. Every backend
   * built on {@link io.cairn.persistence.spi.EngineBackend} has it. {@link PersistenceRegistry}
   * refuses to give an enabled hook to a backend without it (it would store plaintext silently).
   * Such a backend also implements {@link StorageBackend#reseal} (re-encryption under the primary
   * key, so an old key can be revoked).
   */
  ENCRYPTION,
  /**
   * {@link StorageBackend#readTransaction} works: several reads, across key-value namespaces and
   * logs, see one consistent committed state, without blocking writers (SQLite, RocksDB, memory,
   * and any {@link io.cairn.persistence.spi.EngineBackend} whose engine offers snapshots). A
   * backend without it throws {@link UnsupportedOperationException} from {@code readTransaction}.
   */
  SNAPSHOT_READS
}
