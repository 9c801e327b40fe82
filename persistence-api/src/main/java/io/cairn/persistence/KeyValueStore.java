package io.cairn.persistence;

import java.time.Duration;
import java.util.Collection;
import java.util.Optional;

/**
 * A namespace of byte-array keys and values with per-key versions and optional TTL. Obtained from
 * {@link StorageBackend#keyValue(String)}.
 *
 * <h2>Rules every implementation must follow</h2>
 *
 * <ul>
 *   <li><b>Thread safety.</b> All methods may be called concurrently from any thread.
 *   <li><b>Versions.</b> Every successful write returns the entry's new version, a positive number.
 *       A key that is absent (never written, deleted or expired) has version 0. Each write of a
 *       live key returns a strictly greater version than the one it replaced, also across restarts.
 *       The numbering is the backend's: it may count per key from 1 or draw from one backend-wide
 *       sequence (every backend built on the SPI's base, memory included, and RocksDB and SQLite,
 *       which can then write without reading first), so versions need not be consecutive and a new
 *       key need not start at 1. Versions are assigned by the store, not by a JVM-local counter in
 *       the API, so they stay correct across restarts and, for a networked backend, across
 *       processes. After a delete or expiry a new write may get a lower version than the old entry
 *       had; callers that must detect delete-and-recreate compare values, not versions.
 *   <li><b>TTL.</b> An entry whose expiry instant has passed (by the backend's clock) is invisible
 *       at once to every read, scan and compare-and-set, even before {@link #purgeExpired()}
 *       removes it. A write without TTL clears any earlier TTL. <b>One rule for {@code null}:</b> a
 *       {@code null} TTL means "no expiry" wherever a TTL is taken ({@link #put(byte[], byte[],
 *       Duration)}, {@link #compareAndSet}, and the same methods of {@link
 *       Transaction.KeyValueWriter}); {@code put(k, v, null)} is {@code put(k, v)}.
 *   <li><b>Ordering.</b> {@link #scan} returns keys in unsigned lexicographic byte order.
 *   <li><b>Atomicity.</b> Each single-key operation is atomic. {@link #putAll} is atomic as a
 *       whole: after a crash either all of it is visible or none.
 *   <li><b>Durability.</b> When a write returns it is as durable as the backend's {@link
 *       Durability} promises. A write that throws did not happen, except that a failure while
 *       committing may be indistinguishable from a crash just before returning.
 *   <li><b>Inputs.</b> Keys are 1 to 4096 bytes, values at most 64 MiB unless the backend documents
 *       otherwise, TTLs positive and at most {@link #MAX_TTL}; {@code null} keys and values throw
 *       {@link NullPointerException}, out-of-range arguments (an overlong TTL, a negative version)
 *       {@link IllegalArgumentException}, in both cases before anything is written. Arrays passed
 *       in may be reused by the caller after the call returns.
 *   <li><b>Errors.</b> {@link BackendClosedException} after the backend is closed, {@link
 *       VersionConflictException} from compare-and-set, {@link StoreCorruptedException} when data
 *       fails a check, {@link StorageEngineException} for engine failures.
 * </ul>
 */
public interface KeyValueStore {
  /** Largest key accepted, in bytes. */
  int MAX_KEY_BYTES = 4096;

  /** Largest value accepted by default, in bytes. */
  int MAX_VALUE_BYTES = 64 * 1024 * 1024;

  /**
   * Longest TTL accepted (10,000 years): long enough for any real expiry, short enough that the
   * expiry instant in milliseconds cannot overflow. Longer TTLs throw {@link
   * IllegalArgumentException}; write without a TTL for an entry that never expires.
   */
  Duration MAX_TTL = Duration.ofDays(3_652_500);

  /** The namespace name. */
  String name();

  /** The live entry for {@code key}, or empty if it is absent or expired. */
  Optional<Entry> getEntry(byte[] key);

  /** The live value for {@code key}, or {@code null} if it is absent or expired. */
  default byte[] get(byte[] key) {
    return getEntry(key).map(Entry::value).orElse(null);
  }

  /** Writes {@code value} without expiry and returns the new version. */
  long put(byte[] key, byte[] value);

  /**
   * Writes {@code value} expiring {@code ttl} after now (by the backend's clock) and returns the
   * new version.
   *
   * @param ttl positive and at most {@link #MAX_TTL}, or {@code null} for no expiry (then this is
   *     {@link #put(byte[], byte[])})
   * @throws IllegalArgumentException if {@code ttl} is zero, negative or longer than {@link
   *     #MAX_TTL}; nothing is written
   */
  long put(byte[] key, byte[] value, Duration ttl);

  /**
   * Writes {@code value} only if the current version equals {@code expectedVersion} (0 = the key
   * must be absent or expired). Returns the new version.
   *
   * @param ttl expiry of the new value (positive, at most {@link #MAX_TTL}), or {@code null} for
   *     none
   * @throws VersionConflictException if the version differs; nothing is written
   */
  long compareAndSet(byte[] key, long expectedVersion, byte[] value, Duration ttl);

  /** Deletes {@code key}; returns whether a live entry was removed. */
  boolean delete(byte[] key);

  /**
   * Deletes {@code key} only if it is live with version {@code expectedVersion}.
   *
   * <p>There must be something to delete: {@code expectedVersion} 0 never matches. An absent (or
   * expired) key always conflicts, with {@link VersionConflictException#actualVersion()} 0, and so
   * does {@code expectedVersion} 0 for a live key. To delete whatever is there, use {@link
   * #delete}.
   *
   * @throws VersionConflictException if the key is absent or its version differs; nothing is
   *     deleted
   * @throws IllegalArgumentException if {@code expectedVersion} is negative
   */
  void compareAndDelete(byte[] key, long expectedVersion);

  /**
   * Writes all entries atomically, without expiry. If a key appears twice, the later one wins. Each
   * written key's version increases as for {@link #put(byte[], byte[])}. Other threads see all of
   * the entries or none. At most the backend's {@code max-batch-entries} entries and {@code
   * max-batch-bytes} bytes (see {@link StorageBackend}); more throws {@link
   * IllegalArgumentException} and writes nothing.
   */
  void putAll(Collection<KeyValue> entries);

  /**
   * Live entries with {@code fromInclusive <= key < toExclusive} in unsigned byte order. Either
   * bound may be {@code null} for unbounded. The iterator streams: it never loads the whole range
   * into memory. Must be closed.
   *
   * <p>What a scan promises while others write (every backend meets this; some do better, none is
   * required to):
   *
   * <ul>
   *   <li>keys come in strictly increasing unsigned order, each key at most once;
   *   <li>every entry that was live, with the same value, for the whole iteration is returned with
   *       that value;
   *   <li>an entry written, deleted or expiring during the iteration may or may not appear, with
   *       its old or its new value, but never a value it never had;
   *   <li>a scan is not a snapshot: it may show some writes of a transaction or putAll committed
   *       during the iteration and not others. For a consistent view of several keys, scan inside
   *       one {@link StorageBackend#readTransaction} (a snapshot that does not hold writers up, on
   *       backends with {@link Capability#SNAPSHOT_READS}), or read inside one {@link
   *       StorageBackend#inTransaction} through the view (which holds writers up).
   * </ul>
   *
   * <p>What each bundled backend does beyond that (not part of the contract): RocksDB iterates one
   * engine snapshot pinned when the scan is created, so its scans are consistent; SQLite reads
   * pages of 256 rows, each page one point in time, so a scan can tear between pages; memory walks
   * the live skip list, so a scan can tear between any two entries.
   */
  CloseableIterator<Entry> scan(byte[] fromInclusive, byte[] toExclusive);

  /** Live entries whose key starts with {@code prefix}, in key order. Must be closed. */
  default CloseableIterator<Entry> scanPrefix(byte[] prefix) {
    return scan(prefix, io.cairn.persistence.spi.Bytes.prefixUpperBound(prefix));
  }

  /**
   * Physically removes entries whose expiry has passed and returns how many were removed. Safe to
   * call concurrently with other operations; bounded batches, so it never blocks writers for long.
   */
  long purgeExpired();

  /**
   * Number of live entries (may count expired-but-not-purged entries as live if exact is costly).
   */
  long approximateCount();
}
