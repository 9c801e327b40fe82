package io.cairn.persistence;

import java.io.InputStream;
import java.util.List;

/**
 * Writes stores exactly as another backend held them: entries with their versions and expiry
 * instants, log records at their offsets with their append times, snapshots with their versions and
 * creation times. The public store API assigns all of these itself, so an exact copy (export,
 * import, {@code cairn migrate}) needs this primitive. A backend offers it through {@link
 * StorageBackend#extension(Class) extension(Importer.class)}; a backend without it cannot be the
 * target of an import (the caller says so, naming the backend).
 *
 * <h2>Contract</h2>
 *
 * <ul>
 *   <li><b>Only into empty stores.</b> The first call of a session on a store checks that the store
 *       holds nothing (no entry, expired ones included; no record and no offset ever used; no
 *       snapshot) and throws {@link IllegalStateException} naming the backend and the store
 *       otherwise, writing nothing. Later calls of the same session on that store add to it.
 *   <li><b>Atomic per call.</b> Each call is one atomic write of the backend: after a crash either
 *       all of its items are there or none. A session is not atomic as a whole: if an import fails
 *       part way, the calls that returned stay written. Import into a fresh backend and discard it
 *       when the import fails (what {@code cairn import} and {@code cairn migrate} do).
 *   <li><b>Durable at finish.</b> When {@link Session#finish()} returns, everything the session
 *       wrote survives a crash as at durability {@code full}, also on a backend configured with
 *       {@code normal}; a backend configured with durability {@code none} promises nothing more
 *       than it does for any write.
 *   <li><b>Versions afterwards.</b> A write through the store API after an import gets a version
 *       greater than the imported version of that key (and, on backends with one version sequence,
 *       greater than every imported version).
 *   <li><b>Threads.</b> {@link #begin()} may be called from any thread; a session is used by one
 *       thread at a time. Other writers may run meanwhile but must not write the stores being
 *       imported (the emptiness check is made once, at the first call on each store).
 * </ul>
 *
 * Arguments are checked like the store API's (names, key and value sizes) before anything is
 * written; a bad one throws {@link IllegalArgumentException} naming the store and item.
 */
public interface Importer {
  /** Starts an import session. */
  Session begin();

  /** One import; see {@link Importer} for the rules. Not thread-safe. */
  interface Session extends AutoCloseable {
    /**
     * Puts {@code entries} into key-value store {@code namespace} with exactly their {@link
     * Entry#version()} (at least 1) and {@link Entry#expiresAtMillis()} (0 = never; an instant in
     * the past is kept and the entry is invisible, as it was in the source).
     */
    void putEntries(String namespace, List<Entry> entries);

    /**
     * Appends {@code records} to log {@code log} at exactly their offsets, with their append times
     * ({@link LogRecord#NOT_RECORDED} is kept as such). The first record imported into the log sets
     * its first offset (offsets below it count as truncated); every record after it must have the
     * next offset, without gaps, across calls.
     */
    void appendRecords(String log, List<LogRecord> records);

    /**
     * Starts log {@code log}, which must be empty, at {@code offset} (at least 1): first and next
     * offset are both {@code offset}, as in a log whose records below it were all truncated away.
     * This is how an exact copy recreates a log that holds no record but has used offsets (a
     * drained queue's log, a fully truncated journal), so that whatever counts on its offsets (a
     * queue's floor, a snapshot's offset) stays true. Only as the session's first call on that log;
     * records imported afterwards continue at {@code offset}.
     */
    void startLog(String log, long offset);

    /**
     * Saves snapshot {@code version} of {@code set} from {@code data} (read to its end, not closed)
     * with creation time {@code createdAtMillis}.
     *
     * @return the stored snapshot's description
     */
    SnapshotInfo saveSnapshot(String set, long version, long createdAtMillis, InputStream data);

    /** Makes everything this session wrote durable, then ends it. */
    void finish();

    /** Ends the session; what earlier calls wrote stays (see "Atomic per call"). Idempotent. */
    @Override
    void close();
  }
}
