package io.cairn.backend.rocksdb;

import io.cairn.persistence.Progress;
import io.cairn.persistence.ResealReport;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.spi.Sealer;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * {@link io.cairn.persistence.StorageBackend#reseal} for RocksDB: rewrites, in place, the sealed
 * part of every value in column families {@code kv}, {@code log} and {@code snapshot-chunk} (layout
 * in {@link Layout}) that is not sealed with the primary key. Keys, the KV header (version, expiry;
 * expired entries are re-sealed, not purged), {@code kv-expiry}, log positions and snapshot
 * metadata are not touched. The framing carries no checksum of its own (RocksDB's block and WAL
 * checksums cover every byte), so there is none to recompute.
 *
 * <p>Each page of at most {@value #PAGE} records is read without a lock, then read again and
 * rewritten in ONE {@link WriteBatch} while holding {@code txLock} exclusively: single KV and log
 * writes (which hold it shared) and transactions are excluded for that moment only, so a value
 * written or a record truncated meanwhile is judged as it is now and never overwritten with an
 * older value or brought back. Snapshot saves and deletions do not take {@code txLock}; chunks are
 * never rewritten with other content under the same key (save ids are unique), and a chunk
 * re-sealed just as its snapshot is deleted stays as a chunk of no snapshot, which open and {@code
 * compact()} delete like any left by a crashed save. Records under the primary are skipped, so a
 * run stopped at any point (also {@code kill -9}: a batch is atomic in the WAL) is resumed by
 * running it again; no cursor is kept.
 */
final class RocksReseal {
  private static final int PAGE = 256;

  private final RocksDbBackend b;
  private final Sealer sealer;
  private final Progress progress;

  private RocksReseal(RocksDbBackend b, Progress progress) {
    this.b = b;
    this.sealer = Sealer.of(b.name(), b.encryption);
    this.progress = progress;
  }

  static ResealReport run(RocksDbBackend b, Progress progress) {
    if (b.inTransactionHere()) {
      throw new IllegalStateException(
          "reseal() of "
              + b.describe
              + " was called inside inTransaction(): run it outside; nothing was written");
    }
    RocksReseal r = new RocksReseal(b, progress);
    TreeMap<StoreId, ResealReport.Counts> counts = new TreeMap<>();
    if (!r.sealer.enabled()) {
      return new ResealReport(b.name(), counts);
    }
    for (StoreId id : b.stores()) {
      counts.put(id, r.store(id));
    }
    return new ResealReport(b.name(), counts);
  }

  private ResealReport.Counts store(StoreId id) {
    String name = id.name();
    return switch (id.kind()) {
      case KEY_VALUE -> {
        int sid = b.kv(name).sid;
        yield range(
            id,
            b.kvCf,
            Layout.sidPrefix(sid),
            Layout.sidEnd(sid),
            (k, v) -> {
              byte[] sealed = Layout.kvPayload(v);
              return sealer.needsReseal(sealed)
                  ? Layout.kvValue(
                      Layout.kvVersion(v),
                      Layout.kvExpiresAt(v),
                      sealer.resealValue(name, Layout.userKey(k), sealed))
                  : null;
            });
      }
      case LOG -> {
        RocksLogStore log = b.logStore(name);
        yield range(
            id,
            b.logCf,
            Layout.sidPrefix(log.sid),
            Layout.sidEnd(log.sid),
            (k, v) -> log.resealed(Layout.logOffset(k), v));
      }
      case SNAPSHOT -> {
        int sid = ((RocksSnapshotStore) b.snapshots(name)).sid;
        List<long[]> saves = new ArrayList<>(); // {version, saveId}
        b.forEach(
            "reseal",
            "snapshot set '" + name + "'",
            b.snapCf,
            Layout.sidPrefix(sid),
            Layout.sidEnd(sid),
            (k, v) -> saves.add(new long[] {Layout.snapshotVersion(k), Layout.getLong(v, 0)}));
        long checked = 0;
        long resealed = 0;
        for (long[] save : saves) {
          long version = save[0];
          ResealReport.Counts c =
              range(
                  id,
                  b.chunkCf,
                  Layout.chunkKey(save[1], 0),
                  Layout.chunkKey(save[1], -1), // chunk numbers are below 0xFFFFFFFF unsigned
                  (k, v) ->
                      sealer.needsReseal(v)
                          ? sealer.resealChunk(name, version, Layout.getInt(k, 8), v)
                          : null);
          checked += c.checked();
          resealed += c.resealed();
        }
        yield new ResealReport.Counts(checked, resealed);
      }
    };
  }

  /** Re-seals the records of {@code cf} in [from, to); {@code reseal} gives null to skip one. */
  private ResealReport.Counts range(
      StoreId id, ColumnFamilyHandle cf, byte[] from, byte[] to, Resealer reseal) {
    long checked = 0;
    long resealed = 0;
    byte[] start = from;
    while (true) {
      List<byte[]> keys = new ArrayList<>(PAGE);
      b.forEach(
          "reseal",
          id.toString(),
          cf,
          start,
          to,
          (k, v) -> {
            keys.add(k);
            return keys.size() < PAGE;
          });
      if (!keys.isEmpty()) {
        resealed += rewrite(id, cf, keys, reseal);
      }
      checked += keys.size();
      progress.report(id.toString(), checked, -1);
      if (keys.size() < PAGE) {
        return new ResealReport.Counts(checked, resealed);
      }
      byte[] last = keys.get(keys.size() - 1);
      start = java.util.Arrays.copyOf(last, last.length + 1); // the next key after it
    }
  }

  private long rewrite(StoreId id, ColumnFamilyHandle cf, List<byte[]> keys, Resealer reseal) {
    return b.call(
        "reseal",
        id.toString(),
        () -> {
          b.txLock.lockExclusive();
          try (WriteBatch batch = new WriteBatch()) {
            long n = 0;
            for (byte[] k : keys) {
              byte[] now = b.db.get(cf, k); // as it is now: writers are excluded
              byte[] fresh = now == null ? null : reseal.apply(k, now);
              if (fresh != null) {
                batch.put(cf, k, fresh);
                n++;
              }
            }
            if (n > 0) {
              b.db.write(b.writeOptions(), batch);
            }
            return n;
          } finally {
            b.txLock.unlockExclusive();
          }
        });
  }

  /** The re-sealed value of a record, or null when it is sealed with the primary already. */
  @FunctionalInterface
  private interface Resealer {
    byte[] apply(byte[] key, byte[] value) throws RocksDBException;
  }
}
