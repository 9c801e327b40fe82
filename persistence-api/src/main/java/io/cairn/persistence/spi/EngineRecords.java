package io.cairn.persistence.spi;

import io.cairn.persistence.LogRecord;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * The records {@link EngineBackend} stores, built from their parts: for an engine that migrates
 * data it wrote in an older format of its own (before its backend ran on the base) into the base's
 * layout (see {@link EngineBackend}'s class comment), in whatever transaction its engine offers.
 * Each method returns the {@link StorageEngine.Write} the base itself would make for the same
 * entry, record, position, manifest or chunk, byte for byte (framing and checksum included), so the
 * base reads it as its own.
 *
 * <p>Values, payloads and chunks are passed <em>sealed</em>: as the {@link Sealer} of a backend of
 * the same name sealed them, bound by {@link AssociatedData} to their store and key (or offset, or
 * snapshot version and chunk index). An engine whose older format sealed through {@link Sealer}
 * copies them unchanged; nothing is opened or sealed again here.
 *
 * <p>What the migration must also know: the expiry index is not written here: the base builds it
 * once at the next open (its marker is absent in a migrated engine; see {@link ExpiryIndex}); so is
 * the catalog of logs and snapshot sets ({@link StoreCatalog}). The version sequence's bound
 * ({@link #versionBound}) should be written when the older format reserved versions backend-wide:
 * without it the base finds the highest stored version once at open, which may lie below versions
 * handed out for entries deleted since (a caller's compare-and-set with such a version could then
 * match a new entry). A log needs its position record ({@link #logPosition}) besides its records. A
 * snapshot's chunks and its manifest share one generation, unique within the set. Thread-safe
 * (immutable).
 */
public final class EngineRecords {
  private final RecordFrame frame;

  /**
   * Whether {@code key} of {@code store} is one of the base's bookkeeping records: every record of
   * the base's own stores (names starting with {@code _}: the version sequence's bound, the
   * catalog, format markers, the expiry indexes; see {@link EngineBackend}) and every log's
   * position (the empty key of a {@link StoreKind#LOG} store). The base rewrites these fixed keys
   * in many batches (a log's position in every append), so in an engine with sorted files they
   * would land in every file and make every file's key range overlap every other's: such an engine
   * may keep them apart from the data (the RocksDB engine keeps them in a column family of their
   * own) so that data written in key order goes to files with disjoint ranges. Every other record
   * (key-value entries of user namespaces, log records, snapshot manifests and chunks) is data.
   *
   * <p>Cheap enough for every get and put: one character and one length compared. The answer
   * depends only on the arguments, never on what is stored, so an engine may route a record by it
   * without reading anything.
   */
  public static boolean isBookkeeping(StoreId store, byte[] key) {
    String name = store.name();
    return (!name.isEmpty() && name.charAt(0) == ExpiryIndex.RESERVED_CHAR)
        || (key.length == 0 && store.kind() == StoreKind.LOG);
  }

  /**
   * @param backend the backend instance name (for messages of the base's checks)
   * @param engineChecksums the engine's {@link StorageEngine#checksumsRecords()}: without them each
   *     record carries the base's CRC-32C trailer
   */
  public EngineRecords(String backend, boolean engineChecksums) {
    this.frame = new RecordFrame(Objects.requireNonNull(backend, "backend"), engineChecksums);
  }

  /**
   * The entry of {@code key} in key-value namespace {@code namespace}: {@code version} (at least
   * 1), expiry instant in epoch millis ({@code 0} = never), sealed value.
   */
  public StorageEngine.Write entry(
      String namespace, byte[] key, long version, long expiresAtMillis, byte[] sealed) {
    if (version < 1 || expiresAtMillis < 0) {
      throw new IllegalArgumentException(
          "an entry needs a version >= 1 and an expiry >= 0, got "
              + version
              + ", "
              + expiresAtMillis);
    }
    StoreId id = new StoreId(StoreKind.KEY_VALUE, namespace);
    byte[] k = key.clone();
    return new StorageEngine.Write(
        id, k, frame.entry(version, expiresAtMillis, sealed, RecordFrame.Store.of(id), k));
  }

  /**
   * The record at {@code offset} of log {@code log}, appended at {@code appendedAtMillis} ({@link
   * LogRecord#NOT_RECORDED} for a record whose time was never stored), with its sealed payload.
   */
  public StorageEngine.Write logRecord(
      String log, long offset, long appendedAtMillis, byte[] sealed) {
    if (offset < 0 || appendedAtMillis < LogRecord.NOT_RECORDED) {
      throw new IllegalArgumentException(
          "a log record needs an offset >= 0 and an append time >= -1, got "
              + offset
              + ", "
              + appendedAtMillis);
    }
    StoreId id = new StoreId(StoreKind.LOG, log);
    byte[] k = BaseLogStore.key(offset);
    return new StorageEngine.Write(id, k, frame.logRecord(appendedAtMillis, sealed, id, k));
  }

  /**
   * The position of log {@code log}: offsets below {@code first} are truncated, {@code next} is the
   * offset of the next append (records from {@code first} to {@code next - 1} must all exist; a
   * missing one is a gap the base's reads refuse and verify names).
   */
  public StorageEngine.Write logPosition(String log, long first, long next) {
    if (first < 0 || next < first) {
      throw new IllegalArgumentException(
          "a log position needs 0 <= first <= next, got " + first + ", " + next);
    }
    StoreId id = new StoreId(StoreKind.LOG, log);
    byte[] k = new byte[0];
    ByteBuffer buf = frame.begin(RecordFrame.POSITION, 16);
    buf.putLong(first).putLong(next);
    return new StorageEngine.Write(id, k, frame.end(buf, id, k));
  }

  /**
   * The manifest of snapshot {@code version} of set {@code set} (the commit point of a save): its
   * chunks' {@code generation}, the plaintext size and CRC-32C of the whole data, creation instant,
   * number of chunks.
   */
  public StorageEngine.Write snapshotManifest(
      String set,
      long version,
      long generation,
      long size,
      long crc32c,
      long createdAt,
      int chunks) {
    if (size < 0 || chunks < 0) {
      throw new IllegalArgumentException(
          "a manifest needs size >= 0 and chunks >= 0, got " + size + ", " + chunks);
    }
    StoreId id = new StoreId(StoreKind.SNAPSHOT, set);
    byte[] k = BaseSnapshotStore.manifestKey(version);
    ByteBuffer buf = frame.begin(RecordFrame.MANIFEST, 36);
    buf.putLong(generation).putLong(size).putLong(crc32c).putLong(createdAt).putInt(chunks);
    return new StorageEngine.Write(id, k, frame.end(buf, id, k));
  }

  /** Chunk {@code index} (from 0) of snapshot {@code version}, generation {@code generation}. */
  public StorageEngine.Write snapshotChunk(
      String set, long version, long generation, int index, byte[] sealed) {
    if (index < 0) {
      throw new IllegalArgumentException("a chunk index is >= 0, got " + index);
    }
    StoreId id = new StoreId(StoreKind.SNAPSHOT, set);
    byte[] k = BaseSnapshotStore.chunkKey(version, generation, index);
    ByteBuffer buf = frame.begin(RecordFrame.CHUNK, sealed.length);
    buf.put(sealed);
    return new StorageEngine.Write(id, k, frame.end(buf, id, k));
  }

  /**
   * The bound of the base's backend-wide version sequence ({@link VersionSequence}): every version
   * the older format handed out must be below {@code bound}; the base's next version is {@code
   * bound} or above.
   */
  public StorageEngine.Write versionBound(long bound) {
    if (bound < 1) {
      throw new IllegalArgumentException("a version bound is >= 1, got " + bound);
    }
    ByteBuffer body = frame.begin(RecordFrame.SEQUENCE, 8).putLong(bound);
    return new StorageEngine.Write(
        ExpiryIndex.META,
        VersionSequence.KEY.clone(),
        frame.end(body, ExpiryIndex.META, VersionSequence.KEY));
  }

  /**
   * {@code w} with its checksum trailer made to fail: for a record whose older format already
   * failed its own check, so the migration never turns damaged data into data that passes (the base
   * then refuses it on every read and verify names it).
   *
   * @throws IllegalStateException if the engine checksums records itself (no trailer to fail)
   */
  public StorageEngine.Write damaged(StorageEngine.Write w) {
    if (!frame.hasCrc()) {
      throw new IllegalStateException(
          "the engine checksums records itself: a damaged record cannot be marked by the frame");
    }
    if (w.isDelete() || w.value().length < 6) {
      throw new IllegalArgumentException("not a framed record: " + w);
    }
    byte[] v = w.value().clone();
    for (int i = v.length - 4; i < v.length; i++) {
      v[i] = (byte) ~v[i];
    }
    return new StorageEngine.Write(w.store(), w.key(), v);
  }
}
