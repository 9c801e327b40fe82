package io.cairn.backend.rocksdb;

import io.cairn.persistence.StorageEngineException;
import io.cairn.persistence.StoreKind;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;

/**
 * The catalog of a {@link RocksDbBackend}: the meta column family's layout version, the store
 * catalog ({@code kind/name} to store id, see {@link Layout}) and the backend-wide sequences read
 * from it at open (next store id, KV versions, snapshot save ids). Thread-safe: the catalog map is
 * guarded by its own lock, the version sequence by an atomic counter and a block lock.
 */
final class RocksCatalog {
  private static final long VERSION_BLOCK = 1 << 16;

  private final RocksEngine engine;
  private final Object catalogLock = new Object();
  private final Map<String, Integer> catalog = new TreeMap<>(); // "kind/name" -> sid
  private int nextStoreId = 1;
  private final AtomicLong versionCounter = new AtomicLong(1);
  private volatile long versionLimit = 1; // exclusive bound persisted in next-version
  private final Object versionLock = new Object();

  /** The next snapshot save id; snapshot stores take ids under its monitor. */
  final AtomicLong nextSaveId = new AtomicLong(1);

  RocksCatalog(RocksEngine engine) {
    this.engine = engine;
  }

  /**
   * Checks the layout version (writing it into a new database), then reads the sequences and the
   * catalog. Called while opening, before any store exists.
   */
  void load() throws RocksDBException {
    byte[] version = engine.db.get(engine.metaCf, Layout.LAYOUT_VERSION_KEY);
    if (version == null) {
      try (WriteBatch b = new WriteBatch()) {
        b.put(engine.metaCf, Layout.LAYOUT_VERSION_KEY, Layout.intBytes(Layout.LAYOUT_VERSION));
        engine.db.write(engine.writeOptions(), b);
      }
    } else if (version.length == 4
        && Layout.getInt(version, 0) == Layout.LAYOUT_VERSION_UNTIMED_LOGS) {
      upgradeToTimedLogs();
    } else if (version.length != 4 || Layout.getInt(version, 0) != Layout.LAYOUT_VERSION) {
      throw new StorageEngineException(
          engine.describe
              + " holds Cairn RocksDB layout version "
              + (version.length == 4 ? Layout.getInt(version, 0) : -1)
              + " but this Cairn reads version "
              + Layout.LAYOUT_VERSION
              + "; open it with the Cairn version that wrote it, or migrate it with"
              + " 'cairn migrate'. Nothing was changed.",
          null);
    }
    byte[] nextSid = engine.db.get(engine.metaCf, Layout.NEXT_STORE_ID_KEY);
    nextStoreId = nextSid == null ? 1 : Layout.getInt(nextSid, 0);
    byte[] nextVersion = engine.db.get(engine.metaCf, Layout.NEXT_VERSION_KEY);
    long versionStart = nextVersion == null ? 1 : Layout.getLong(nextVersion, 0);
    versionCounter.set(versionStart);
    versionLimit = versionStart; // the first write reserves a fresh block
    byte[] nextSave = engine.db.get(engine.metaCf, Layout.NEXT_SAVE_ID_KEY);
    nextSaveId.set(nextSave == null ? 1 : Layout.getLong(nextSave, 0));
    try (RocksIterator it = engine.db.newIterator(engine.metaCf, engine.readOptions)) {
      for (it.seek(Layout.CATALOG_PREFIX);
          it.isValid() && Layout.startsWith(it.key(), Layout.CATALOG_PREFIX);
          it.next()) {
        String entry =
            new String(
                it.key(),
                Layout.CATALOG_PREFIX.length,
                it.key().length - Layout.CATALOG_PREFIX.length,
                StandardCharsets.US_ASCII);
        catalog.put(entry, Layout.getInt(it.value(), 0));
      }
      it.status();
    }
  }

  /**
   * Layout 1 to 2 (see {@link Layout}): marks every existing log's next offset as the first one
   * carrying an append time and sets the new version, in one batch. Rewrites no record.
   */
  private void upgradeToTimedLogs() throws RocksDBException {
    byte[] logPrefix = Layout.concat(Layout.CATALOG_PREFIX, Layout.ascii("log/"));
    try (WriteBatch b = new WriteBatch();
        RocksIterator it = engine.db.newIterator(engine.metaCf, engine.readOptions)) {
      for (it.seek(logPrefix); it.isValid() && Layout.startsWith(it.key(), logPrefix); it.next()) {
        int sid = Layout.getInt(it.value(), 0);
        long next = RocksLogStore.positions(engine, sid, engine.readOptions)[1];
        b.put(engine.metaCf, Layout.logTimedFromKey(sid), Layout.longBytes(next));
      }
      it.status();
      b.put(engine.metaCf, Layout.LAYOUT_VERSION_KEY, Layout.intBytes(Layout.LAYOUT_VERSION));
      engine.db.write(engine.writeOptions(), b);
    }
  }

  /**
   * The next KV version from the backend-wide sequence. Versions are handed out from a block whose
   * exclusive bound is already written to {@code next-version}; crossing the bound writes the next
   * block's bound first (under this backend's durability, before the caller's own write), so after
   * any crash or restart the sequence resumes above every version that can be on disk. Called
   * inside the guard, under the key's stripe lock (or the exclusive transaction lock), so that one
   * key's versions increase in commit order.
   */
  long nextVersion() throws RocksDBException {
    long v = versionCounter.getAndIncrement();
    if (v >= versionLimit) {
      synchronized (versionLock) {
        while (v >= versionLimit) {
          long limit = Math.max(versionLimit, v + 1) + VERSION_BLOCK;
          engine.db.put(
              engine.metaCf,
              engine.writeOptions(),
              Layout.NEXT_VERSION_KEY,
              Layout.longBytes(limit));
          versionLimit = limit;
        }
      }
    }
    return v;
  }

  /**
   * Writes {@code batch}, which holds imported entries with versions up to {@code highest}, with a
   * {@code next-version} bound above them in the same batch, and moves the sequence past them, so
   * every later version is greater than every imported one, also after a crash or restart ({@link
   * RocksImporter}). Holds the block lock while writing, so no reservation of {@link #nextVersion}
   * can write a bound in between that this one would lower.
   */
  void writeAbove(WriteBatch batch, long highest) throws RocksDBException {
    synchronized (versionLock) {
      versionCounter.accumulateAndGet(highest + 1, Math::max);
      long limit = Math.max(versionLimit, highest + 1);
      batch.put(engine.metaCf, Layout.NEXT_VERSION_KEY, Layout.longBytes(limit));
      engine.db.write(engine.writeOptions(), batch);
      versionLimit = limit;
    }
  }

  /** The store id of a store, creating its catalog entry on first use. */
  int storeId(StoreKind kind, String name) {
    String entry = kind.shortName() + "/" + name;
    synchronized (catalogLock) {
      Integer sid = catalog.get(entry);
      if (sid != null) {
        return sid;
      }
      int id = nextStoreId;
      engine.call(
          "create store",
          kind.shortName() + ":" + name,
          () -> {
            try (WriteBatch b = new WriteBatch()) {
              b.put(engine.metaCf, Layout.catalogKey(kind.shortName(), name), Layout.intBytes(id));
              b.put(engine.metaCf, Layout.NEXT_STORE_ID_KEY, Layout.intBytes(id + 1));
              engine.db.write(engine.writeOptions(), b);
            }
            return null;
          });
      nextStoreId = id + 1;
      catalog.put(entry, id);
      return id;
    }
  }

  Map<String, Integer> entries() {
    synchronized (catalogLock) {
      return new LinkedHashMap<>(catalog);
    }
  }

  /** The names of the stores of one kind in the catalog, in catalog order. */
  List<String> names(StoreKind kind) {
    String prefix = kind.shortName() + "/";
    List<String> names = new ArrayList<>();
    for (String entry : entries().keySet()) {
      if (entry.startsWith(prefix)) {
        names.add(entry.substring(prefix.length()));
      }
    }
    return names;
  }

  /**
   * Checks the catalog against the data: every store id that holds data in a column family must be
   * named by a catalog entry of the matching kind (otherwise the entry was lost and the data is
   * unreachable: opening the store by name would silently start an empty one), no two entries share
   * an id, and every id is below {@code next-store-id}. Visits one key per store and column family.
   */
  long verify(List<String> problems) {
    Map<String, Integer> entries = entries();
    int limit;
    synchronized (catalogLock) {
      limit = nextStoreId;
    }
    Map<Integer, String> byId = new TreeMap<>();
    for (Map.Entry<String, Integer> e : entries.entrySet()) {
      String other = byId.putIfAbsent(e.getValue(), e.getKey());
      if (other != null) {
        problems.add(
            engine.describe
                + ": catalog entries '"
                + other
                + "' and '"
                + e.getKey()
                + "' both claim store id "
                + e.getValue());
      }
      if (e.getValue() >= limit) {
        problems.add(
            engine.describe
                + ": catalog entry '"
                + e.getKey()
                + "' has store id "
                + e.getValue()
                + " but next-store-id is "
                + limit);
      }
    }
    long checked = entries.size();
    Map<String, ColumnFamilyHandle> families = new LinkedHashMap<>();
    families.put("kv", engine.kvCf);
    families.put("kv-expiry", engine.expiryCf);
    families.put("log", engine.logCf);
    families.put("snapshot", engine.snapCf);
    for (Map.Entry<String, ColumnFamilyHandle> f : families.entrySet()) {
      String kind = f.getKey().equals("kv-expiry") ? "kv" : f.getKey();
      for (int sid : storeIdsIn(f.getValue(), f.getKey())) {
        checked++;
        String entry = byId.get(sid);
        if (entry == null || !entry.startsWith(kind + "/")) {
          problems.add(
              engine.describe
                  + ": column family '"
                  + f.getKey()
                  + "' holds data of store id "
                  + sid
                  + (entry == null
                      ? ", which no catalog entry names: the catalog entry of a " + kind
                      : ", which the catalog names as '" + entry + "', not a " + kind)
                  + " store was lost and its data is unreachable; restore from a backup");
        }
      }
    }
    return checked;
  }

  /** The distinct store ids with keys in {@code cf}: one seek per store. */
  private List<Integer> storeIdsIn(ColumnFamilyHandle cf, String cfName) {
    return engine.call(
        "verify",
        "column family " + cfName,
        () -> {
          List<Integer> ids = new ArrayList<>();
          try (RocksIterator it = engine.db.newIterator(cf, engine.readOptions)) {
            it.seekToFirst();
            while (it.isValid()) {
              byte[] k = it.key();
              if (k.length < 4) {
                it.next();
                continue;
              }
              int sid = Layout.getInt(k, 0);
              ids.add(sid);
              if (sid == -1) {
                break;
              }
              it.seek(Layout.sidEnd(sid));
            }
            it.status();
          }
          return ids;
        });
  }
}
