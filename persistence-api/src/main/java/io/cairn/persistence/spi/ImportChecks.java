package io.cairn.persistence.spi;

import io.cairn.persistence.Entry;
import io.cairn.persistence.Importer;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.StoreKind;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The argument rules of an {@link Importer} call, written once for every backend's importer and
 * checked before anything is written. A broken rule throws {@link IllegalArgumentException} in one
 * shape: {@code Cannot import into <store> of <backend>: <item>: <problem>; nothing of this call
 * was written}, where the item is the entry's or record's index in the call.
 *
 * <ul>
 *   <li>Entries: key and value as the store API allows them; version from 1 to {@link #MAX_VERSION}
 *       (a later write needs a version above it); expiry 0 (never) or an instant; no key twice in
 *       one call (which would be kept is not defined by the contract).
 *   <li>Records: payload and offset as the store API allows them; contiguous offsets, starting at
 *       the session's next offset of that log once the session has written to it.
 *   <li>Snapshots: a valid version, a creation time that is not negative, data present.
 * </ul>
 */
public final class ImportChecks {
  /** Highest version an import may carry: a write after the import needs a version above it. */
  public static final long MAX_VERSION = Long.MAX_VALUE - 1;

  private ImportChecks() {}

  /**
   * Checks a {@link Importer.Session#putEntries} call.
   *
   * @param backend the backend as it describes itself in messages
   * @return the highest version among {@code entries}, 0 when there is none
   */
  public static long entries(Object backend, String namespace, List<Entry> entries) {
    ArgumentChecks.check(StoreKind.KEY_VALUE, namespace);
    Objects.requireNonNull(entries, "entries");
    String store = "kv:" + namespace;
    Set<ByteBuffer> keys = new HashSet<>();
    long highest = 0;
    for (int i = 0; i < entries.size(); i++) {
      Entry e = entries.get(i);
      if (e == null) {
        throw refused(store, backend, "entry " + i + " is null", null);
      }
      try {
        ArgumentChecks.checkKey(e.key());
        ArgumentChecks.checkValue(e.value());
      } catch (IllegalArgumentException | NullPointerException bad) {
        throw refused(store, backend, "entry " + i + ": " + bad.getMessage(), bad);
      }
      if (e.version() < 1 || e.version() > MAX_VERSION || e.expiresAtMillis() < 0) {
        throw refused(
            store,
            backend,
            "entry "
                + i
                + " has version "
                + e.version()
                + " and expiry "
                + e.expiresAtMillis()
                + " (versions are 1 to "
                + MAX_VERSION
                + ", expiry is 0 or an epoch-millis instant)",
            null);
      }
      if (!keys.add(ByteBuffer.wrap(e.key()))) {
        throw refused(store, backend, "entry " + i + " repeats a key of this call", null);
      }
      highest = Math.max(highest, e.version());
    }
    return highest;
  }

  /**
   * Checks an {@link Importer.Session#appendRecords} call.
   *
   * @param nextOffset the offset the session expects next in this log, or a negative number when
   *     this is the session's first call on it (the first record then sets where the log starts)
   */
  public static void records(Object backend, String log, List<LogRecord> records, long nextOffset) {
    ArgumentChecks.check(StoreKind.LOG, log);
    Objects.requireNonNull(records, "records");
    String store = "log:" + log;
    long next = nextOffset;
    for (int i = 0; i < records.size(); i++) {
      LogRecord r = records.get(i);
      if (r == null) {
        throw refused(store, backend, "record " + i + " is null", null);
      }
      try {
        ArgumentChecks.checkPayload(r.payload());
        ArgumentChecks.checkOffset("offset", r.offset());
      } catch (IllegalArgumentException | NullPointerException bad) {
        throw refused(store, backend, "record " + i + ": " + bad.getMessage(), bad);
      }
      if (next >= 0 && r.offset() != next) {
        throw refused(
            store,
            backend,
            "record "
                + i
                + " has offset "
                + r.offset()
                + " where the import's next offset is "
                + next
                + " (records must be contiguous)",
            null);
      }
      next = r.offset() + 1;
    }
  }

  /**
   * Checks an {@link Importer.Session#startLog} call.
   *
   * @param started whether the session already wrote to (or started) this log
   */
  public static void logStart(Object backend, String log, long offset, boolean started) {
    ArgumentChecks.check(StoreKind.LOG, log);
    String store = "log:" + log;
    if (offset < 1) {
      throw refused(store, backend, "a log is started at offset 1 or later, not " + offset, null);
    }
    if (started) {
      throw refused(store, backend, "startLog must be the session's first call on the log", null);
    }
  }

  /** Checks an {@link Importer.Session#saveSnapshot} call. */
  public static void snapshot(
      Object backend, String set, long version, long createdAtMillis, InputStream data) {
    ArgumentChecks.check(StoreKind.SNAPSHOT, set);
    String store = "snapshot:" + set;
    try {
      ArgumentChecks.checkSnapshotVersion(version);
    } catch (IllegalArgumentException bad) {
      throw refused(store, backend, "snapshot " + version + ": " + bad.getMessage(), bad);
    }
    Objects.requireNonNull(data, "data");
    if (createdAtMillis < 0) {
      throw refused(
          store,
          backend,
          "snapshot " + version + " has a negative creation time " + createdAtMillis,
          null);
    }
  }

  /** The one shape of a refused import call. */
  public static IllegalArgumentException refused(
      String store, Object backend, String problem, Throwable cause) {
    return new IllegalArgumentException(
        "Cannot import into "
            + store
            + " of "
            + backend
            + ": "
            + problem
            + "; nothing of this call was written",
        cause);
  }
}
