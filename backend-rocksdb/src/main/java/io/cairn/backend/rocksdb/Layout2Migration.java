package io.cairn.backend.rocksdb;

import io.cairn.persistence.Durability;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.spi.EngineRecords;
import io.cairn.persistence.spi.StorageEngine;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.FlushOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Migrates a directory of layout 1 or 2 ({@link Layout}, the rocksdb backend before the shared
 * base) straight to layout 4 ({@link RocksStorageEngine}) at open, crash-safe. Straight to 4, not
 * through layout 3: the copy writes every record anyway, so routing each to its column family as it
 * is written costs nothing, where 2 to 3 to 4 would move the bookkeeping records a second time
 * ({@link Layout3Migration}) behind a second commit point.
 *
 * <h2>Steps and commit point</h2>
 *
 * <ol>
 *   <li>Empties column families {@code records} and {@code base} (one range delete each): what a
 *       crashed earlier attempt wrote there is never read, because the layout version still says 2.
 *   <li>Copies every store into {@code records} and {@code base} (each record to the family {@link
 *       RocksStorageEngine#familyOf} names) in pages (WriteBatches of at most {@link #PAGE_RECORDS}
 *       records or {@link #PAGE_BYTES} bytes): key-value entries with their version and expiry, log
 *       records with their append time ({@code 'L'} untimed below layout 2's {@code
 *       log-timed-from}, all of them for layout 1) and each log's position ({@code first} = {@code
 *       log-first}, {@code next} = the largest of {@code log-next}, last record + 1 and {@code
 *       first}, so a lost tail stays a gap verify names), snapshot manifests (generation = the save
 *       id) and their chunks. Sealed bytes are copied verbatim: layout 2 sealed with the same
 *       {@link io.cairn.persistence.spi.AssociatedData} as the base (value: namespace and key;
 *       payload: log and offset; chunk: set, version and index), so no key is needed. The layout-2
 *       column families are only read. Every record is made by the spi's {@link EngineRecords} (the
 *       base's own framing and keys), so the base's record format has one definition; a value it
 *       refuses (a version below 1, say) stops the migration as damage.
 *   <li>Flushes every memtable (waiting), so the copy is in SST files whatever the durability.
 *   <li><b>Commit point:</b> one batch writes {@code layout-version = 4} and deletes layout 2's
 *       meta keys (catalog, log positions, sequences), WAL fsynced (flushed at {@code none}). A
 *       crash before it leaves layout 2 complete and the next open starts again at step 1; after
 *       it, layout 4 is complete.
 *   <li>Drops the six layout-2 column families except {@code default}. A crash before that leaves
 *       them beside layout 4; the next open drops them ({@link #dropOldFamilies}).
 * </ol>
 *
 * Not copied, rebuilt by the base at its first open instead: the expiry index (layout 2's {@code
 * kv-expiry}; the base's own index is built when its marker is absent) and the catalog of logs and
 * snapshot sets ({@code StoreCatalog}). Layout 2's {@code next-version} bound is carried into the
 * base's own bound record ({@link #copyVersionBound}), so versions keep growing above every
 * migrated one whichever version rule the base runs (per key today, a backend-wide sequence with
 * helper seqput's blind put).
 */
final class Layout2Migration {
  private static final Logger LOG = LoggerFactory.getLogger(Layout2Migration.class);

  static final int PAGE_RECORDS = 1000;
  static final int PAGE_BYTES = 4 << 20;

  /** Test hook: called after each page is written, with the pages written so far; null outside. */
  static volatile java.util.function.IntConsumer afterPage;

  /** Test hook: called after the commit point, before the old families are dropped. */
  static volatile Runnable afterCommit;

  private final RocksStorageEngine e;
  private final EngineRecords frames; // the base's records, framed as the base frames them
  private final int fromVersion;
  private final MigrationBatches pages;
  private long copied;

  private Layout2Migration(RocksStorageEngine e, int fromVersion) {
    this.e = e;
    this.frames = new EngineRecords(e.context.name(), e.checksumsRecords());
    this.fromVersion = fromVersion;
    this.pages =
        new MigrationBatches(
            e,
            PAGE_RECORDS,
            PAGE_BYTES,
            written -> {
              java.util.function.IntConsumer hook = afterPage;
              if (hook != null) {
                hook.accept(written);
              }
            });
  }

  /** Runs the steps of the class comment; caller is opening (no other call runs). */
  static void run(RocksStorageEngine e, int fromVersion) throws RocksDBException {
    long started = System.nanoTime();
    Layout2Migration m = new Layout2Migration(e, fromVersion);
    try {
      m.copy();
    } finally {
      m.pages.close();
    }
    try (FlushOptions fo = new FlushOptions().setWaitForFlush(true)) {
      e.db.flush(fo, e.allCfs); // step 3: the copy is in SST files, whatever the durability
    }
    m.commit();
    Runnable hook = afterCommit;
    if (hook != null) {
      hook.run();
    }
    dropOldFamilies(e);
    LOG.info(
        "{}: migrated layout {} to layout {}: {} records in {} pages, {} ms",
        e.describe,
        fromVersion,
        RocksStorageEngine.LAYOUT_VERSION,
        m.copied,
        m.pages.written(),
        (System.nanoTime() - started) / 1_000_000);
  }

  /**
   * Drops layout 2's column families (all but {@code default}, {@code records} and {@code base});
   * the engine then uses only those three. Run after the commit point, also at the open after a
   * crash that came between the commit point and the drop.
   */
  static void dropOldFamilies(RocksStorageEngine e) throws RocksDBException {
    List<ColumnFamilyHandle> kept = new ArrayList<>();
    for (ColumnFamilyHandle h : e.allCfs) {
      String name = new String(h.getName(), StandardCharsets.UTF_8);
      if (name.equals("default")
          || name.equals(RocksStorageEngine.CF_RECORDS)
          || name.equals(RocksStorageEngine.CF_BASE)) {
        kept.add(h);
      } else {
        e.db.dropColumnFamily(h); // the handle stays valid until the engine closes it
      }
    }
    e.allCfs = List.copyOf(kept);
  }

  private void copy() throws RocksDBException {
    // step 1: whatever an earlier attempt wrote (keys start with kind 1..3)
    try (WriteBatch clear = new WriteBatch()) {
      clear.deleteRange(e.records(), new byte[] {0}, new byte[] {(byte) 0xFF});
      clear.deleteRange(e.base(), new byte[] {0}, new byte[] {(byte) 0xFF});
      e.db.write(e.writeOptions(), clear);
    }
    for (Map.Entry<StoreId, Integer> s : catalog().entrySet()) {
      StoreId id = s.getKey();
      int sid = s.getValue();
      switch (id.kind()) {
        case KEY_VALUE -> copyKeyValue(id, sid);
        case LOG -> copyLog(id, sid);
        case SNAPSHOT -> copySnapshots(id, sid);
      }
    }
    copyVersionBound();
    pages.write();
  }

  /** Layout 2's catalog: every store with its sid, in key order. */
  private Map<StoreId, Integer> catalog() throws RocksDBException {
    Map<StoreId, Integer> out = new LinkedHashMap<>();
    try (RocksIterator it = e.db.newIterator(e.metaCf, e.readOptions)) {
      for (it.seek(Layout.CATALOG_PREFIX);
          it.isValid() && Layout.startsWith(it.key(), Layout.CATALOG_PREFIX);
          it.next()) {
        String entry =
            new String(
                it.key(),
                Layout.CATALOG_PREFIX.length,
                it.key().length - Layout.CATALOG_PREFIX.length,
                StandardCharsets.US_ASCII);
        int slash = entry.indexOf('/');
        String kind = slash < 0 ? "" : entry.substring(0, slash);
        StoreKind k =
            switch (kind) {
              case "kv" -> StoreKind.KEY_VALUE;
              case "log" -> StoreKind.LOG;
              case "snapshot" -> StoreKind.SNAPSHOT;
              default ->
                  throw new StoreCorruptedException(
                      e.describe
                          + ": layout "
                          + fromVersion
                          + " catalog entry 'store/"
                          + entry
                          + "' names no store kind; nothing was migrated (the directory is"
                          + " unchanged). Run 'cairn verify' with type rocksdb.");
            };
        out.put(new StoreId(k, entry.substring(slash + 1)), Layout.getInt(it.value(), 0));
      }
      it.status();
    }
    return out;
  }

  private void copyKeyValue(StoreId id, int sid) throws RocksDBException {
    try (RocksIterator it = e.db.newIterator(e.family(Layout.CF_KV), e.readOptions)) {
      for (it.seek(Layout.sidPrefix(sid));
          it.isValid() && Layout.inStore(it.key(), sid);
          it.next()) {
        byte[] v = it.value();
        if (v.length < Layout.KV_HEADER) {
          throw damaged(id, "an entry of " + v.length + " bytes (at least 16 expected)");
        }
        byte[] key = Layout.userKey(it.key());
        long version = Layout.getLong(v, 0);
        long expiresAt = Layout.getLong(v, 8);
        byte[] sealed = Arrays.copyOfRange(v, Layout.KV_HEADER, v.length);
        put(id, () -> frames.entry(id.name(), key, version, expiresAt, sealed));
      }
      it.status();
    }
  }

  /**
   * Layout 2's position of log {@code sid}: {@code first} = {@code log-first} (0 when absent),
   * {@code next} = the largest of {@code log-next}, the last record + 1 and {@code first}.
   */
  private long[] positions(int sid) throws RocksDBException {
    byte[] f = e.db.get(e.metaCf, e.readOptions, Layout.logFirstKey(sid));
    long first = f == null ? 0 : Layout.getLong(f, 0);
    byte[] n = e.db.get(e.metaCf, e.readOptions, Layout.logNextKey(sid));
    long next = Math.max(first, n == null ? 0 : Layout.getLong(n, 0));
    try (RocksIterator it = e.db.newIterator(e.family(Layout.CF_LOG), e.readOptions)) {
      it.seekForPrev(Layout.logKey(sid, Long.MAX_VALUE));
      if (it.isValid() && Layout.inStore(it.key(), sid)) {
        next = Math.max(next, Layout.logOffset(it.key()) + 1);
      }
      it.status();
    }
    return new long[] {first, next};
  }

  private void copyLog(StoreId id, int sid) throws RocksDBException {
    long[] pos = positions(sid);
    long timedFrom = Long.MAX_VALUE; // layout 1: no record carries its append time
    if (fromVersion == Layout.LAYOUT_VERSION) {
      byte[] t = e.db.get(e.metaCf, e.readOptions, Layout.logTimedFromKey(sid));
      timedFrom = t == null ? 0 : Layout.getLong(t, 0);
    }
    try (RocksIterator it = e.db.newIterator(e.family(Layout.CF_LOG), e.readOptions)) {
      for (it.seek(Layout.logKey(sid, pos[0]));
          it.isValid() && Layout.inStore(it.key(), sid);
          it.next()) {
        long offset = Layout.logOffset(it.key());
        byte[] v = it.value();
        boolean timed = offset >= timedFrom;
        if (timed && v.length < 8) {
          throw damaged(
              id, "record " + offset + " has no append time (" + v.length + " bytes, 8 needed)");
        }
        // [appendedAt i64 |] sealed payload
        long appendedAt = timed ? Layout.getLong(v, 0) : LogRecord.NOT_RECORDED;
        byte[] sealed = timed ? Arrays.copyOfRange(v, 8, v.length) : v;
        put(id, () -> frames.logRecord(id.name(), offset, appendedAt, sealed));
      }
      it.status();
    }
    if (pos[1] > 0) {
      put(id, () -> frames.logPosition(id.name(), pos[0], pos[1]));
    }
  }

  private void copySnapshots(StoreId id, int sid) throws RocksDBException {
    try (RocksIterator it = e.db.newIterator(e.family(Layout.CF_SNAPSHOT), e.readOptions)) {
      for (it.seek(Layout.sidPrefix(sid));
          it.isValid() && Layout.inStore(it.key(), sid);
          it.next()) {
        long version = Layout.snapshotVersion(it.key());
        byte[] meta = it.value();
        if (meta.length != Layout.SNAPSHOT_META) {
          throw damaged(
              id, "the manifest of version " + version + " has " + meta.length + " bytes");
        }
        long saveId = Layout.getLong(meta, 0);
        int chunks = copyChunks(id, version, saveId);
        int expected = Layout.getInt(meta, 32);
        if (chunks != expected) {
          throw damaged(
              id,
              "snapshot version "
                  + version
                  + " has "
                  + chunks
                  + " chunks where its manifest says "
                  + expected);
        }
        // saveId (= generation) size crc32c createdAt chunks
        long size = Layout.getLong(meta, 8);
        long crc32c = Layout.getLong(meta, 16);
        long createdAt = Layout.getLong(meta, 24);
        put(
            id,
            () ->
                frames.snapshotManifest(
                    id.name(), version, saveId, size, crc32c, createdAt, expected));
      }
      it.status();
    }
  }

  private int copyChunks(StoreId id, long version, long saveId) throws RocksDBException {
    int n = 0;
    try (RocksIterator it = e.db.newIterator(e.family(Layout.CF_SNAPSHOT_CHUNK), e.readOptions)) {
      byte[] end = Layout.savePrefix(saveId + 1);
      for (it.seek(Layout.savePrefix(saveId));
          it.isValid() && java.util.Arrays.compareUnsigned(it.key(), end) < 0;
          it.next()) {
        int index = Layout.getInt(it.key(), 8);
        if (index != n) {
          throw damaged(id, "snapshot version " + version + " lacks chunk " + n);
        }
        byte[] v = it.value();
        put(id, () -> frames.snapshotChunk(id.name(), version, saveId, index, v));
        n++;
      }
      it.status();
    }
    return n;
  }

  /**
   * Layout 2's {@code next-version} (the exclusive bound of the versions it reserved: every stored
   * version is below it) as the base's own bound: {@code (KEY_VALUE, "_cairn")} key {@code
   * "next-version"}, {@code 'V' | bound i64} (helper seqput's {@code VersionSequence}, h-seqput
   * 24ef1cc, not on main yet). A base with the sequence then continues above every migrated version
   * without scanning them; a base without it ignores the record (its reserved store is read by key
   * only). Absent in layout 1 and in a directory that never wrote an entry: nothing to carry.
   */
  private void copyVersionBound() throws RocksDBException {
    byte[] bound = e.db.get(e.metaCf, e.readOptions, Layout.NEXT_VERSION_KEY);
    if (bound == null) {
      return;
    }
    StoreId boundStore = frames.versionBound(1).store(); // the base's, named if damaged
    if (bound.length != 8 || Layout.getLong(bound, 0) < 1) {
      throw damaged(
          boundStore, "layout 2's next-version is " + bound.length + " bytes, not a bound >= 1");
    }
    long next = Layout.getLong(bound, 0);
    put(boundStore, () -> frames.versionBound(next));
  }

  /**
   * Adds the record {@code build} makes ({@link EngineRecords}: the base's own framing and keys,
   * byte for byte) to the page. A value {@code EngineRecords} refuses (a version below 1, a
   * negative expiry, offset, size or count: damage, since layout 2 never wrote one) stops the
   * migration as {@link #damaged} data of {@code id}.
   */
  private void put(StoreId id, Supplier<StorageEngine.Write> build) throws RocksDBException {
    StorageEngine.Write w;
    try {
      w = build.get();
    } catch (IllegalArgumentException refused) {
      throw damaged(id, refused.getMessage());
    }
    byte[] key = EngineKeys.key(w.store(), w.key());
    byte[] value = w.value();
    pages.batch().put(e.familyOf(w.store(), w.key()), key, value);
    copied++;
    pages.added(key.length + value.length);
  }

  /** Step 4: the layout version and the removal of layout 2's meta keys, one synced batch. */
  private void commit() throws RocksDBException {
    try (WriteBatch b = new WriteBatch()) {
      for (byte[] p :
          List.of(
              Layout.CATALOG_PREFIX,
              Layout.LOG_FIRST_PREFIX,
              Layout.LOG_NEXT_PREFIX,
              Layout.LOG_TIMED_FROM_PREFIX)) {
        b.deleteRange(e.metaCf, p, io.cairn.persistence.spi.Bytes.prefixUpperBound(p));
      }
      b.delete(e.metaCf, Layout.NEXT_STORE_ID_KEY);
      b.delete(e.metaCf, Layout.NEXT_SAVE_ID_KEY);
      b.delete(e.metaCf, Layout.NEXT_VERSION_KEY);
      b.put(
          e.metaCf, Layout.LAYOUT_VERSION_KEY, Layout.intBytes(RocksStorageEngine.LAYOUT_VERSION));
      e.db.write(e.syncedWriteOptions(), b);
    }
    if (e.context.durability() == Durability.NONE) {
      try (FlushOptions fo = new FlushOptions().setWaitForFlush(true)) {
        e.db.flush(fo, e.allCfs); // WAL off: the commit point is durable once flushed
      }
    }
  }

  private StoreCorruptedException damaged(StoreId id, String what) {
    return new StoreCorruptedException(
        e.describe
            + ": migrating layout "
            + fromVersion
            + " to "
            + RocksStorageEngine.LAYOUT_VERSION
            + " stopped at "
            + id
            + ": "
            + what
            + ". Nothing was changed (layout "
            + fromVersion
            + " stays complete): run 'cairn verify' with the Cairn version that wrote it (before"
            + " layout 3) to see the damage, or restore from a backup.");
  }
}
