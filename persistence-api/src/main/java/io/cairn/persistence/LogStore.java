package io.cairn.persistence;

import java.util.List;

/**
 * An append-only sequence of records addressed by offset. Obtained from {@link
 * StorageBackend#log(String)}.
 *
 * <h2>Rules every implementation must follow</h2>
 *
 * <ul>
 *   <li><b>Offsets.</b> The first record of a new log has offset 0. Offsets are gap-free and
 *       strictly increasing in append order, and are assigned by the store. An offset is never
 *       reused: not after {@link #truncateBefore}, not after restart, not after a crash (a crash
 *       may lose an unacknowledged tail under weak durability; the offsets of lost records are then
 *       handed out again only because they were never acknowledged).
 *   <li><b>Thread safety.</b> All methods may be called concurrently. Concurrent appends get
 *       distinct offsets; a reader never sees a gap below {@link #nextOffset()}.
 *   <li><b>Atomicity.</b> {@link #appendAll} is atomic and its records get consecutive offsets.
 *   <li><b>Bounded reads.</b> {@link #read} returns at most {@code maxRecords} records, so replay
 *       of a huge log never needs the whole log in memory.
 *   <li><b>Durability.</b> As {@link KeyValueStore}: an append that returned is as durable as the
 *       backend's {@link Durability} promises.
 *   <li><b>Errors.</b> As {@link KeyValueStore}. Records are checked where the engine allows; a
 *       corrupt record throws {@link StoreCorruptedException}, never returns garbage.
 * </ul>
 */
public interface LogStore {
  /** The log's name. */
  String name();

  /** Appends one record and returns its offset. */
  long append(byte[] payload);

  /**
   * Appends records atomically with consecutive offsets and returns the offset of the first.
   * Appending an empty list returns {@link #nextOffset()} and writes nothing. At most the backend's
   * {@code max-batch-entries} records and {@code max-batch-bytes} bytes (see {@link
   * StorageBackend}); more throws {@link IllegalArgumentException} and appends nothing.
   */
  long appendAll(List<byte[]> payloads);

  /**
   * Up to {@code maxRecords} records starting at {@code fromOffset} (or at {@link #firstOffset()}
   * if that is greater), in offset order; empty at or past the end. {@code maxRecords} must be
   * positive and {@code fromOffset} non-negative, else {@link IllegalArgumentException}.
   */
  List<LogRecord> read(long fromOffset, int maxRecords);

  /** Offset of the oldest retained record; equals {@link #nextOffset()} when the log is empty. */
  long firstOffset();

  /** Offset the next append will receive. */
  long nextOffset();

  /**
   * Discards records with offset below {@code offset} (clamped to {@link #nextOffset()}); returns
   * how many were removed. Later appends continue at {@link #nextOffset()}: offsets are not reused.
   * A negative {@code offset} throws {@link IllegalArgumentException}.
   */
  long truncateBefore(long offset);
}
