package io.cairn.persistence;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The view given to {@link StorageBackend#inTransaction}: writes through it to any key-value
 * namespace or log of that backend commit together or not at all.
 *
 * <p>Reads through the view see the transaction's own writes. Offsets and versions returned inside
 * the transaction are final if it commits. The view and everything obtained from it are valid only
 * inside the callback and only on the thread running it. Other writers to the same backend wait
 * until the transaction ends (backends serialise transactions), so keep the work short and do no
 * slow I/O inside.
 *
 * <p>Inside the work, write only through this view: a write through a store obtained from the
 * backend itself throws {@link IllegalStateException} on every backend, and reads through such a
 * store see committed state only (see {@link StorageBackend#inTransaction}). Other threads see the
 * transaction's writes all at once, after it commits, never some of them.
 *
 * <p>A transaction holds at most the backend's {@code max-batch-entries} writes and {@code
 * max-batch-bytes} bytes (defaults 100,000 and 128 MiB); the write that would pass a cap throws
 * {@link IllegalArgumentException}.
 */
public interface Transaction {
  /** Transactional view of namespace {@code namespace}. */
  KeyValueWriter keyValue(String namespace);

  /** Transactional view of log {@code name}. */
  LogWriter log(String name);

  /** Key-value operations inside a transaction; semantics as in {@link KeyValueStore}. */
  interface KeyValueWriter {
    Optional<Entry> getEntry(byte[] key);

    long put(byte[] key, byte[] value);

    /**
     * @param ttl expiry, or {@code null} for none (the rule of {@link KeyValueStore}: the same on
     *     the store and here)
     */
    long put(byte[] key, byte[] value, Duration ttl);

    /**
     * @param ttl expiry, or {@code null} for none
     * @throws VersionConflictException on mismatch; the caller may let it abort the transaction
     */
    long compareAndSet(byte[] key, long expectedVersion, byte[] value, Duration ttl);

    boolean delete(byte[] key);
  }

  /** Log operations inside a transaction; semantics as in {@link LogStore}. */
  interface LogWriter {
    long append(byte[] payload);

    long appendAll(List<byte[]> payloads);

    /** Offset the next append in this transaction will receive. */
    long nextOffset();
  }

  /** Work run inside a transaction. */
  @FunctionalInterface
  interface Work<T> {
    T run(Transaction tx);
  }
}
