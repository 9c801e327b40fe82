package io.cairn.persistence.spi;

import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The expiry index {@link EngineBackend} keeps beside every key-value namespace, so that {@code
 * purgeExpired} reads the expired entries only, never the whole namespace. The engine knows nothing
 * of it: to the engine these are ordinary stores and records, written in the same atomic batches as
 * the entries they index.
 *
 * <h2>Layout (stores the base reserves: names start with {@code _}, which no user name may)</h2>
 *
 * <pre>
 * store (KEY_VALUE, "_expiry." + N)   the index of key-value namespace N
 *   expiresAt i64 big-endian | user key      'E' (empty body)
 * store (KEY_VALUE, "_cairn")         the base's own facts
 *   "expiry-index"                           'F' | format i32 (1)
 * </pre>
 *
 * Index keys sort by (expiry instant, user key): expiry instants are positive, so big-endian bytes
 * in unsigned order are numeric order, and the expired records of a namespace at instant {@code t}
 * are exactly the range {@code [empty, t + 1)}. An entry with a TTL (expiresAt != 0) has an index
 * record under its expiry, written in the entry's own engine batch, holding the entry's write
 * stripe (the index key contains the user key, so concurrent batches never share an index key
 * either). A record whose entry is gone or expires at another instant is <em>stale</em>: a put
 * writes blindly, without reading the entry it replaces ({@link VersionSequence}), so it leaves
 * that entry's record behind; writes that read the entry anyway (compare-and-set, deletes, purge,
 * transactions for the keys they read) delete its record in their batch. Reserved stores are never
 * listed by {@link EngineBackend#stores()}, never counted in stats, never resealed (they hold no
 * sealed bytes); user keys appear in them as in the namespace itself.
 *
 * <h2>Recovery rule: the index is built once, at open, from the entries</h2>
 *
 * When a backend opens and the marker {@code "expiry-index"} is absent (an engine holding data
 * written before the index existed, or a fresh one), the base (1) deletes every record of every
 * index store, (2) scans every namespace and writes the index record of each entry with a TTL, a
 * page per batch, (3) writes the marker, at {@code FULL} (unless the backend runs at {@code NONE}),
 * which also makes the batches before it durable. The marker is the commit point: a crash or a
 * failed write anywhere before it leaves the marker absent, so the next open starts again from (1);
 * nothing else writes while it runs (it is part of opening). With the marker present the index is
 * trusted and only repaired: {@code purgeExpired} deletes an index record whose entry is gone or
 * has another expiry (a stale record; re-indexing the entry under its real one) and never deletes
 * an entry that is live by its own expiry; {@code verify} reports an entry with a TTL that has no
 * record (every write of such an entry writes one: it is damage) and a record that fails its
 * checks, not a stale record. Data written again by a base older than the index (a downgrade)
 * leaves entries unindexed: such entries are still hidden once expired, but only an overwrite or
 * delete of them (or an open without the marker) brings them back under {@code purgeExpired}.
 */
final class ExpiryIndex {
  private static final Logger LOG = LoggerFactory.getLogger(ExpiryIndex.class);

  /** Names of stores the base reserves start with this; no user store name may. */
  static final String RESERVED = "_";

  /** {@link #RESERVED} as a character, for {@link EngineRecords#isBookkeeping}. */
  static final char RESERVED_CHAR = '_';

  static final String PREFIX = RESERVED + "expiry.";
  static final StoreId META = new StoreId(StoreKind.KEY_VALUE, RESERVED + "cairn");
  static final byte[] MARKER = "expiry-index".getBytes(StandardCharsets.US_ASCII);
  static final int FORMAT = 1;

  private ExpiryIndex() {}

  /** Whether {@code id} is one of the base's own stores, never shown to users. */
  static boolean reserved(StoreId id) {
    return id.name().startsWith(RESERVED);
  }

  /** The index store of key-value namespace {@code namespace}. */
  static StoreId storeOf(String namespace) {
    return new StoreId(StoreKind.KEY_VALUE, PREFIX + namespace);
  }

  /** The namespace {@code id} indexes, or null if it is no index store. */
  static String namespaceOf(StoreId id) {
    return id.kind() == StoreKind.KEY_VALUE && id.name().startsWith(PREFIX)
        ? id.name().substring(PREFIX.length())
        : null;
  }

  /** The index key of an entry of {@code userKey} expiring at {@code expiresAt} (> 0). */
  static byte[] key(long expiresAt, byte[] userKey) {
    return ByteBuffer.allocate(8 + userKey.length).putLong(expiresAt).put(userKey).array();
  }

  /** The exclusive upper bound of the index keys of entries expired at {@code now}. */
  static byte[] expiredBefore(long now) {
    return ByteBuffer.allocate(8).putLong(now == Long.MAX_VALUE ? now : now + 1).array();
  }

  static long expiryOf(byte[] indexKey) {
    return ByteBuffer.wrap(indexKey, 0, 8).getLong();
  }

  static byte[] userKeyOf(byte[] indexKey) {
    return Arrays.copyOfRange(indexKey, 8, indexKey.length);
  }

  /** The value of an index record: a frame with no body, for its checksum. */
  static byte[] value(RecordFrame frame, StoreId index, byte[] indexKey) {
    return frame.end(frame.begin(RecordFrame.EXPIRY, 0), index, indexKey);
  }

  /** Checks an index record's key and frame; throws {@link StoreCorruptedException} if bad. */
  static void check(RecordFrame frame, StoreId index, byte[] indexKey, byte[] value, String where) {
    frame.open(RecordFrame.EXPIRY, index, indexKey, value, where);
    if (indexKey.length < 9 || expiryOf(indexKey) <= 0) {
      throw frame.corrupt(index, where, "is not an expiry instant followed by a key");
    }
  }

  /**
   * Builds the index if the marker is absent (see the recovery rule above); called once while the
   * backend opens, before anything else can write.
   */
  static void ensureBuilt(EngineBackend b) {
    StorageEngine engine = b.engine();
    byte[] marker = engine.get(META, MARKER);
    if (marker != null) {
      int format =
          b.frame.open(RecordFrame.FORMAT, META, MARKER, marker, "the index marker").getInt();
      if (format != FORMAT) {
        throw new StoreCorruptedException(
            b
                + ": the expiry index has format "
                + format
                + ", this version of Cairn reads format "
                + FORMAT
                + "; open it with the version that wrote it");
      }
      return;
    }
    long started = System.nanoTime();
    List<StoreId> stores = new ArrayList<>(engine.stores());
    long total =
        stores.stream().filter(id -> id.kind() == StoreKind.KEY_VALUE && !reserved(id)).count();
    int namespaces = 0;
    long scanned = 0;
    long indexed = 0;
    for (StoreId id : stores) {
      if (namespaceOf(id) != null) {
        clear(b, id); // left by a build that did not finish: start again
      }
    }
    for (StoreId id : stores) {
      if (id.kind() == StoreKind.KEY_VALUE && !reserved(id)) {
        namespaces++;
        long[] counts = b.kvStore(id.name()).buildIndex();
        scanned += counts[0];
        indexed += counts[1];
        if (counts[0] > 0) {
          LOG.info(
              "{}: expiry index: namespace '{}' done ({} of {} namespaces, {} entries, {} with a"
                  + " TTL)",
              b,
              id.name(),
              namespaces,
              total,
              counts[0],
              counts[1]);
        }
      }
    }
    ByteBuffer body = b.frame.begin(RecordFrame.FORMAT, 4).putInt(FORMAT);
    engine.write(
        List.of(new StorageEngine.Write(META, MARKER, b.frame.end(body, META, MARKER))),
        b.importDurability());
    if (scanned > 0) {
      LOG.info(
          "{}: built the expiry index once (data written before it existed): {} entries with a"
              + " TTL indexed of {} scanned in {} key-value namespaces, in {} ms",
          b,
          indexed,
          scanned,
          namespaces,
          (System.nanoTime() - started) / 1_000_000);
    }
  }

  private static void clear(EngineBackend b, StoreId index) {
    while (true) {
      List<StorageEngine.Record> page =
          b.engine().range(index, new byte[0], null, EngineBackend.page());
      if (page.isEmpty()) {
        return;
      }
      List<StorageEngine.Write> batch = new ArrayList<>(page.size());
      for (StorageEngine.Record r : page) {
        batch.add(new StorageEngine.Write(index, r.key(), null));
      }
      b.commit(batch);
    }
  }
}
