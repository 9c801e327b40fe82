package io.cairn.backend.rocksdb;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The on-disk layout of the RocksDB backend before the shared base, layout version {@value
 * #LAYOUT_VERSION} (and 1): no longer written, read only by {@link Layout2Migration}, which moves a
 * directory of this layout to layout 4 ({@link RocksStorageEngine}) at its first writable open.
 * Kept as the reference of what that migration reads.
 *
 * <pre>
 * One RocksDB database per backend, in the backend's data directory, with six column families.
 * Integers are big-endian so that RocksDB's bytewise order is numeric order. A store is named in
 * keys by its 4-byte store id (sid), assigned once from a counter and recorded in the catalog, so
 * keys stay short and every store's keys form one contiguous range.
 *
 * column family "default" (meta)
 *   "layout-version"              -> int32   (2; 1 is upgraded at open, see below; any other
 *                                            value refuses to open)
 *   "next-store-id"               -> int32   next sid to hand out (ids start at 1)
 *   "next-save-id"                -> int64   next snapshot save id to hand out
 *   "next-version"                -> int64   exclusive bound of the KV versions reserved so far
 *   "store/" kind "/" name        -> int32   catalog: kind is kv | log | snapshot
 *   "log-first/" sid              -> int64   first retained offset of log sid (absent = 0)
 *   "log-next/" sid               -> int64   next offset of log sid, written in the same batch as
 *                                            every append (absent in logs written before it was
 *                                            introduced: then last record + 1)
 *   "log-timed-from/" sid         -> int64   first offset whose record carries its append time;
 *                                            written by the upgrade from layout 1 (= the log's
 *                                            next offset then) and by an import whose first
 *                                            records have no append time (= the offset after
 *                                            them, by the layout-2 importer); absent = 0 (a log created
 *                                            under layout 2: every record carries it)
 *
 * column family "kv"
 *   sid key                       -> version:int64 expiresAtMillis:int64 value-bytes
 *                                    (expiresAt 0 = no expiry; value sealed by the Encryption hook)
 * column family "kv-expiry"        (expiry index, only for entries with a TTL)
 *   sid expiresAtMillis:int64 key -> empty
 *
 * column family "log"
 *   sid offset:int64              -> appendedAtMillis:int64 payload (sealed)   offsets >= the log's
 *                                    log-timed-from; below it (records written under layout 1):
 *                                    payload (sealed) only, read with append time -1 (not
 *                                    recorded). The time is epoch millis by the backend clock.
 *
 * column family "snapshot"         (committed snapshot metadata)
 *   sid version:int64             -> saveId:int64 size:int64 crc32c:int64 createdAt:int64
 *                                    chunks:int32
 * column family "snapshot-chunk"   (snapshot data, addressed by save, not by store)
 *   saveId:int64 chunkNo:int32    -> chunk bytes (sealed); chunk i holds plaintext bytes
 *                                    [i*chunkSize, (i+1)*chunkSize) of the snapshot
 * </pre>
 *
 * <h2>Checksums</h2>
 *
 * The KV framing carries no checksum of its own, on purpose: every byte Cairn stores, key and value
 * and the version/expiry header alike, is covered by RocksDB's CRC-32C block checksum in SST files
 * (verified on every block read; {@code verify_checksums} is never turned off) and by the
 * per-record CRC in the WAL. A flipped bit in a key, a value or a header therefore fails the read
 * of its block with {@link io.cairn.persistence.StoreCorruptedException}; it can never make a read
 * return another key's value or a wrong version ({@code RocksDbChecksumCoverageTest}). Snapshot
 * data additionally carries the CRC-32C of its plaintext, checked at the end of every load.
 * Memtables are in memory only and not checksummed.
 *
 * <h2>Commit points and recovery</h2>
 *
 * <ul>
 *   <li><b>KV.</b> A write is one RocksDB WriteBatch: the entry plus, when it has a TTL, its
 *       expiry-index entry. Versions come from one backend-wide sequence, reserved in blocks: the
 *       block's bound is written to {@code next-version} (same WAL, earlier sequence number) before
 *       any version in it is used, and a reopened backend continues from that bound, so a surviving
 *       entry's version is always below it and every later write gets a strictly greater one. An
 *       import (which brings its own versions) writes a bound above the highest imported version in
 *       the batch of the imported entries. A plain put therefore writes blindly (no read);
 *       compare-and-set and delete read the current entry under the key's stripe lock (in the
 *       layout-2 backend). A blind put leaves the replaced entry's expiry-index entry behind; the
 *       sweeper deletes index entries whose expiry no longer matches their entry.
 *   <li><b>Log offsets.</b> The next offset is stored in {@code log-next}, in the same batch as the
 *       records it covers; on open it is the largest of {@code log-next}, {@code last record + 1}
 *       and {@code log-first}. So records lost at the tail (damage) leave a gap below {@code
 *       log-next} that reads and {@code verify} report, and their offsets are never handed out
 *       again. {@code truncateBefore(t)} is one batch that deletes the record range {@code [first,
 *       t)} and writes {@code log-first = t}, so after truncating everything and restarting, the
 *       next append still gets {@code t}: offsets are never reused. A crash under weak durability
 *       can lose only an unacknowledged tail.
 *   <li><b>Snapshots.</b> {@code save} takes a fresh save id (persisted in {@code next-save-id}
 *       with the first chunk batch), writes the chunks, then commits with ONE batch that writes the
 *       metadata entry and deletes the chunks of the save it replaces. Until that batch, no reader
 *       can see the save. Chunks of a save that no metadata names (a crash mid-save) are garbage
 *       and are deleted at open and by {@code compact()}. The CRC-32C of the plaintext is checked
 *       on every load by {@link io.cairn.persistence.spi.Checksums#verifying}.
 *   <li><b>Atomic flush.</b> {@code atomic_flush} is on, so with the WAL disabled ({@code
 *       durability = none}) the column families are flushed together and a crash never leaves, for
 *       example, snapshot metadata without its chunks.
 * </ul>
 *
 * Compatible changes (new column families, new meta keys) keep the version; anything that changes
 * how an existing key or value is read bumps it and needs a migration.
 *
 * <h2>Layout 1 to 2 (log append times)</h2>
 *
 * Layout 1 stored a log record's value as the sealed payload alone. Layout 2 prefixes new records
 * with their append time; an older Cairn would read that prefix as payload, so the version is
 * bumped (layout 1 code refuses layout 2). The upgrade rewrites no record: one batch writes {@code
 * log-timed-from/sid = next offset} for every log in the catalog and {@code layout-version = 2}, so
 * it is atomic, and the records below each mark keep reading as "append time not recorded".
 */
final class Layout {
  private Layout() {}

  /** Version of this layout, stored under {@code layout-version}. */
  static final int LAYOUT_VERSION = 2;

  /** The layout upgraded at open to {@link #LAYOUT_VERSION} (see "Layout 1 to 2"). */
  static final int LAYOUT_VERSION_UNTIMED_LOGS = 1;

  static final String CF_KV = "kv";
  static final String CF_KV_EXPIRY = "kv-expiry";
  static final String CF_LOG = "log";
  static final String CF_SNAPSHOT = "snapshot";
  static final String CF_SNAPSHOT_CHUNK = "snapshot-chunk";

  static final byte[] LAYOUT_VERSION_KEY = ascii("layout-version");
  static final byte[] NEXT_STORE_ID_KEY = ascii("next-store-id");
  static final byte[] NEXT_SAVE_ID_KEY = ascii("next-save-id");
  static final byte[] NEXT_VERSION_KEY = ascii("next-version");
  static final byte[] CATALOG_PREFIX = ascii("store/");
  static final byte[] LOG_FIRST_PREFIX = ascii("log-first/");
  static final byte[] LOG_NEXT_PREFIX = ascii("log-next/");
  static final byte[] LOG_TIMED_FROM_PREFIX = ascii("log-timed-from/");

  /** Bytes of the KV value header: version and expiry. */
  static final int KV_HEADER = 16;

  /** Bytes of a snapshot metadata value. */
  static final int SNAPSHOT_META = 36;

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  static byte[] catalogKey(String kind, String name) {
    return concat(CATALOG_PREFIX, ascii(kind + "/" + name));
  }

  static byte[] logFirstKey(int sid) {
    byte[] k = Arrays.copyOf(LOG_FIRST_PREFIX, LOG_FIRST_PREFIX.length + 4);
    putInt(k, LOG_FIRST_PREFIX.length, sid);
    return k;
  }

  static byte[] logTimedFromKey(int sid) {
    byte[] k = Arrays.copyOf(LOG_TIMED_FROM_PREFIX, LOG_TIMED_FROM_PREFIX.length + 4);
    putInt(k, LOG_TIMED_FROM_PREFIX.length, sid);
    return k;
  }

  static byte[] logNextKey(int sid) {
    byte[] k = Arrays.copyOf(LOG_NEXT_PREFIX, LOG_NEXT_PREFIX.length + 4);
    putInt(k, LOG_NEXT_PREFIX.length, sid);
    return k;
  }

  /** {@code sid} alone: the prefix of every key of the store. */
  static byte[] sidPrefix(int sid) {
    byte[] k = new byte[4];
    putInt(k, 0, sid);
    return k;
  }

  static byte[] kvKey(int sid, byte[] key) {
    byte[] k = new byte[4 + key.length];
    putInt(k, 0, sid);
    System.arraycopy(key, 0, k, 4, key.length);
    return k;
  }

  static byte[] userKey(byte[] kvKey) {
    return Arrays.copyOfRange(kvKey, 4, kvKey.length);
  }

  static byte[] logKey(int sid, long offset) {
    byte[] k = new byte[12];
    putInt(k, 0, sid);
    putLong(k, 4, offset);
    return k;
  }

  static long logOffset(byte[] logKey) {
    return getLong(logKey, 4);
  }

  static long snapshotVersion(byte[] key) {
    return getLong(key, 4);
  }

  static byte[] savePrefix(long saveId) {
    return longBytes(saveId);
  }

  /** Whether {@code key} starts with {@code prefix}. */
  static boolean startsWith(byte[] key, byte[] prefix) {
    return key.length >= prefix.length
        && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
  }

  static boolean inStore(byte[] key, int sid) {
    return key.length >= 4 && getInt(key, 0) == sid;
  }

  static byte[] concat(byte[] a, byte[] b) {
    byte[] r = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }

  static byte[] intBytes(int v) {
    byte[] b = new byte[4];
    putInt(b, 0, v);
    return b;
  }

  static byte[] longBytes(long v) {
    byte[] b = new byte[8];
    putLong(b, 0, v);
    return b;
  }

  static void putInt(byte[] b, int off, int v) {
    b[off] = (byte) (v >>> 24);
    b[off + 1] = (byte) (v >>> 16);
    b[off + 2] = (byte) (v >>> 8);
    b[off + 3] = (byte) v;
  }

  static void putLong(byte[] b, int off, long v) {
    for (int i = 7; i >= 0; i--) {
      b[off + i] = (byte) v;
      v >>>= 8;
    }
  }

  static int getInt(byte[] b, int off) {
    return ((b[off] & 0xFF) << 24)
        | ((b[off + 1] & 0xFF) << 16)
        | ((b[off + 2] & 0xFF) << 8)
        | (b[off + 3] & 0xFF);
  }

  static long getLong(byte[] b, int off) {
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = (v << 8) | (b[off + i] & 0xFF);
    }
    return v;
  }
}
