package io.cairn.persistence;

import java.io.InputStream;
import java.util.List;
import java.util.Optional;

/**
 * Versioned, checksummed blobs for state snapshots. Obtained from {@link
 * StorageBackend#snapshots(String)}.
 *
 * <h2>Rules every implementation must follow</h2>
 *
 * <ul>
 *   <li><b>Streaming.</b> {@link #save} reads its input in chunks and {@link #load} returns a
 *       stream that reads chunks lazily. On a backend with {@link Capability#LARGE_SNAPSHOTS}
 *       (SQLite, RocksDB) a snapshot larger than the heap must work. A backend without it keeps
 *       snapshots on the heap and states the largest it accepts; a save beyond that throws {@link
 *       IllegalArgumentException} naming the limit, stores nothing and leaves the previous snapshot
 *       of that version intact (the memory backend: {@code max-snapshot-bytes}, by default a
 *       quarter of the maximum heap).
 *   <li><b>Atomic save.</b> A snapshot becomes visible (in {@link #list}, {@link #latest}, {@link
 *       #load}) only once completely stored; a crash mid-save leaves no trace of it but possibly
 *       garbage that the next open or {@link StorageBackend#compact} removes. Saving a version that
 *       exists replaces it atomically.
 *   <li><b>Checksums.</b> Every snapshot carries a CRC-32C of its data. The stream from {@link
 *       #load} verifies it and throws {@link StoreCorruptedException} at the end of the data
 *       (before reporting end-of-stream) if it does not match, and on any chunk it cannot read. A
 *       caller must read to end-of-stream before trusting what it read.
 *   <li><b>Thread safety.</b> All methods may be called concurrently; concurrent saves of different
 *       versions are allowed.
 *   <li><b>Errors.</b> As {@link KeyValueStore}; {@link #load} of an unknown version throws {@link
 *       java.util.NoSuchElementException}.
 * </ul>
 */
public interface SnapshotStore {
  /** The snapshot set's name. */
  String name();

  /**
   * Stores the bytes of {@code data} (read to its end, not closed) as snapshot {@code version},
   * which must be non-negative. Returns the stored metadata once the snapshot is durable.
   */
  SnapshotInfo save(long version, InputStream data);

  /** Convenience for small snapshots held in memory. */
  default SnapshotInfo save(long version, byte[] data) {
    return save(version, new java.io.ByteArrayInputStream(data));
  }

  /** Metadata of the highest version, if any. */
  Optional<SnapshotInfo> latest();

  /** Opens snapshot {@code version} for reading; the caller closes the stream. */
  InputStream load(long version);

  /** All snapshots, ascending by version. */
  List<SnapshotInfo> list();

  /** Deletes snapshot {@code version}; returns whether it existed. */
  boolean delete(long version);

  /** Deletes all but the {@code n} highest versions ({@code n >= 1}); returns how many went. */
  int retainLatest(int n);
}
