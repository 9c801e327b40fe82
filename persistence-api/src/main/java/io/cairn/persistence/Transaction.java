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
 *
 * <p>For reads only, {@link StorageBackend#readTransaction} gives a {@link ReadView} of one
 * consistent snapshot that does not hold writers up.
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

  /** Work run inside a read transaction ({@link StorageBackend#readTransaction}). */
  @FunctionalInterface
  interface ReadWork<T> {
    T run(ReadView view);
  }

  /**
   * The view given to {@link StorageBackend#readTransaction}: reads of any key-value namespace and
   * log of the backend, all from one consistent committed state (the rules are there). It has no
   * write methods. The view and everything obtained from it (readers, scan iterators) are valid
   * only inside the work and only on the thread running it; other use throws {@link
   * IllegalStateException}. Scan iterators still open when the work ends are closed.
   */
  interface ReadView {
    /** Snapshot reads of namespace {@code namespace}; an unused namespace reads as empty. */
    KeyValueReader keyValue(String namespace);

    /** Snapshot reads of log {@code name}; an unused log reads as empty at offset 0. */
    LogReader log(String name);
  }

  /**
   * Key-value reads inside a read transaction; semantics as in {@link KeyValueStore}, except that
   * every read, scans included, sees the read transaction's snapshot, and an entry's expiry is
   * judged at the instant the snapshot was taken.
   */
  interface KeyValueReader {
    /** The entry live in the snapshot, or empty. */
    Optional<Entry> getEntry(byte[] key);

    /** The value live in the snapshot, or {@code null}. */
    default byte[] get(byte[] key) {
      return getEntry(key).map(Entry::value).orElse(null);
    }

    /**
     * Entries of the snapshot with {@code fromInclusive <= key < toExclusive} (either bound {@code
     * null} for unbounded), in unsigned key order, streamed. Unlike {@link KeyValueStore#scan} this
     * scan is a snapshot: it shows a commit whole or not at all. Close it (the read transaction
     * closes it at the latest).
     */
    CloseableIterator<Entry> scan(byte[] fromInclusive, byte[] toExclusive);

    /** Entries of the snapshot whose key starts with {@code prefix}. */
    default CloseableIterator<Entry> scanPrefix(byte[] prefix) {
      return scan(prefix, io.cairn.persistence.spi.Bytes.prefixUpperBound(prefix));
    }
  }

  /** Log reads inside a read transaction; semantics as in {@link LogStore}, on the snapshot. */
  interface LogReader {
    /** As {@link LogStore#read}: records of the snapshot from {@code fromOffset}. */
    List<LogRecord> read(long fromOffset, int maxRecords);

    /** First retained offset in the snapshot. */
    long firstOffset();

    /** Next offset in the snapshot: every record below it (and at or above first) is readable. */
    long nextOffset();
  }
}
