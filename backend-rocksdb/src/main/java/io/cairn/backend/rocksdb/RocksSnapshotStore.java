package io.cairn.backend.rocksdb;

import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.SnapshotInfo;
import io.cairn.persistence.SnapshotStore;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.spi.Checksums;
import io.cairn.persistence.spi.ChunkedInputStream;
import io.cairn.persistence.spi.Sealer;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.zip.CRC32C;
import org.rocksdb.WriteBatch;

/**
 * A snapshot set: metadata under {@code sid + version} in column family {@code snapshot}, data as
 * chunks of {@code snapshot-chunk-size} under {@code saveId + chunkNo} in {@code snapshot-chunk}. A
 * save writes its chunks under a fresh save id and becomes visible with one batch that writes the
 * metadata and drops the replaced save's chunks (see {@link Layout}). Loading reads one chunk at a
 * time, so neither direction needs the snapshot in memory.
 */
final class RocksSnapshotStore implements SnapshotStore {
  private final RocksDbBackend b;
  private final String name;
  final int sid;
  private final Object commitLock = new Object();

  RocksSnapshotStore(RocksDbBackend b, String name, int sid) {
    this.b = b;
    this.name = name;
    this.sid = sid;
  }

  @Override
  public String name() {
    return name;
  }

  private String where(long version) {
    return "snapshot:" + name + " version " + version;
  }

  @Override
  public SnapshotInfo save(long version, InputStream data) {
    return save(version, data, -1);
  }

  /**
   * Saves with creation time {@code createdAt}, or the backend clock's time of the commit when
   * negative (an import passes the source's time, see {@link RocksImporter}).
   */
  SnapshotInfo save(long version, InputStream data, long createdAt) {
    if (version < 0) {
      throw new IllegalArgumentException("Snapshot version must be >= 0, got " + version);
    }
    Objects.requireNonNull(data, "data");
    long saveId = allocateSaveId();
    b.savesInFlight.add(saveId);
    boolean committed = false;
    try {
      CRC32C crc = new CRC32C();
      byte[] buf = new byte[b.config.snapshotChunkSize()];
      long size = 0;
      int chunks = 0;
      while (true) {
        int n = readFully(data, buf, version);
        if (n == 0) {
          break;
        }
        crc.update(buf, 0, n);
        size += n;
        int chunkNo = chunks++;
        byte[] sealed =
            Sealer.of(b.name(), b.encryption)
                .sealChunk(name, version, chunkNo, Arrays.copyOf(buf, n));
        b.call(
            "save",
            where(version) + " chunk " + chunkNo,
            () -> {
              b.db.put(b.chunkCf, b.writeOptions(), Layout.chunkKey(saveId, chunkNo), sealed);
              return null;
            });
        if (n < buf.length) {
          break;
        }
      }
      long created = createdAt < 0 ? b.clock.millis() : createdAt;
      SnapshotInfo info = new SnapshotInfo(version, size, crc.getValue(), created);
      byte[] meta = new byte[Layout.SNAPSHOT_META];
      Layout.putLong(meta, 0, saveId);
      Layout.putLong(meta, 8, size);
      Layout.putLong(meta, 16, info.crc32c());
      Layout.putLong(meta, 24, created);
      Layout.putInt(meta, 32, chunks);
      synchronized (commitLock) {
        b.call(
            "save",
            where(version),
            () -> {
              byte[] key = Layout.snapshotKey(sid, version);
              byte[] old = b.db.get(b.snapCf, b.readOptions, key);
              try (WriteBatch batch = new WriteBatch()) {
                batch.put(b.snapCf, key, meta);
                if (old != null) {
                  long oldSave = Layout.getLong(old, 0);
                  batch.deleteRange(
                      b.chunkCf, Layout.savePrefix(oldSave), Layout.savePrefix(oldSave + 1));
                }
                b.db.write(b.writeOptions(), batch);
              }
              return null;
            });
        committed = true;
      }
      return info;
    } finally {
      if (!committed) {
        discardChunks(saveId);
      }
      b.savesInFlight.remove(saveId);
    }
  }

  /** Takes a save id and persists the counter past it before any chunk is written. */
  private long allocateSaveId() {
    synchronized (b.nextSaveId) {
      long id = b.nextSaveId.get();
      b.call(
          "save",
          "snapshot:" + name + " (allocating a save id)",
          () -> {
            b.db.put(b.metaCf, b.writeOptions(), Layout.NEXT_SAVE_ID_KEY, Layout.longBytes(id + 1));
            return null;
          });
      b.nextSaveId.set(id + 1);
      return id;
    }
  }

  private void discardChunks(long saveId) {
    try {
      b.call(
          "discard unfinished save",
          "snapshot:" + name,
          () -> {
            b.db.deleteRange(
                b.chunkCf,
                b.writeOptions(),
                Layout.savePrefix(saveId),
                Layout.savePrefix(saveId + 1));
            return null;
          });
    } catch (PersistenceException e) {
      // Left for the orphan sweep at next open or compact().
    }
  }

  private int readFully(InputStream in, byte[] buf, long version) {
    int n = 0;
    try {
      while (n < buf.length) {
        int r = in.read(buf, n, buf.length - n);
        if (r < 0) {
          break;
        }
        n += r;
      }
    } catch (IOException e) {
      throw new PersistenceException(
          "Reading the data for "
              + where(version)
              + " of "
              + b.describe
              + " failed: "
              + e
              + ". Nothing was saved; fix the source stream and save again.",
          e);
    }
    return n;
  }

  @Override
  public Optional<SnapshotInfo> latest() {
    List<SnapshotInfo> all = list();
    return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
  }

  @Override
  public InputStream load(long version) {
    byte[] meta =
        b.call(
            "load",
            where(version),
            () -> b.db.get(b.snapCf, b.readOptions, Layout.snapshotKey(sid, version)));
    if (meta == null) {
      throw new NoSuchElementException(
          "No " + where(version) + " in " + b.describe + "; list() shows the stored versions");
    }
    long saveId = Layout.getLong(meta, 0);
    long size = Layout.getLong(meta, 8);
    long crc = Layout.getLong(meta, 16);
    int chunks = Layout.getInt(meta, 32);
    return Checksums.verifying(
        new ChunkStream(version, saveId, chunks), crc, size, where(version) + " of " + b.describe);
  }

  @Override
  public List<SnapshotInfo> list() {
    List<SnapshotInfo> out = new ArrayList<>();
    b.forEach(
        "list",
        "snapshot:" + name,
        b.snapCf,
        Layout.sidPrefix(sid),
        Layout.sidEnd(sid),
        (k, v) -> {
          out.add(
              new SnapshotInfo(
                  Layout.snapshotVersion(k),
                  Layout.getLong(v, 8),
                  Layout.getLong(v, 16),
                  Layout.getLong(v, 24)));
          return true;
        });
    return out;
  }

  @Override
  public boolean delete(long version) {
    synchronized (commitLock) {
      return b.call(
          "delete",
          where(version),
          () -> {
            byte[] key = Layout.snapshotKey(sid, version);
            byte[] old = b.db.get(b.snapCf, b.readOptions, key);
            if (old == null) {
              return false;
            }
            long saveId = Layout.getLong(old, 0);
            try (WriteBatch batch = new WriteBatch()) {
              batch.delete(b.snapCf, key);
              batch.deleteRange(
                  b.chunkCf, Layout.savePrefix(saveId), Layout.savePrefix(saveId + 1));
              b.db.write(b.writeOptions(), batch);
            }
            return true;
          });
    }
  }

  @Override
  public int retainLatest(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("retainLatest needs n >= 1, got " + n);
    }
    List<SnapshotInfo> all = list();
    int removed = 0;
    for (int i = 0; i < all.size() - n; i++) {
      if (delete(all.get(i).version())) {
        removed++;
      }
    }
    return removed;
  }

  /**
   * Checks every snapshot: its metadata is well-formed, its save holds exactly chunks {@code 0 ..
   * chunks-1}, and reading it to the end matches the recorded size and CRC-32C. Adds a problem for
   * each that fails; returns how many snapshots were checked.
   */
  int verifyAll(List<String> problems) {
    List<long[]> metas = new ArrayList<>(); // version, saveId, chunks
    b.forEach(
        "verify",
        "snapshot:" + name,
        b.snapCf,
        Layout.sidPrefix(sid),
        Layout.sidEnd(sid),
        (k, v) -> {
          if (v.length != Layout.SNAPSHOT_META) {
            problems.add(
                where(Layout.snapshotVersion(k))
                    + " of "
                    + b.describe
                    + ": its metadata is "
                    + v.length
                    + " bytes, not "
                    + Layout.SNAPSHOT_META);
          } else {
            metas.add(
                new long[] {Layout.snapshotVersion(k), Layout.getLong(v, 0), Layout.getInt(v, 32)});
          }
          return true;
        });
    for (long[] m : metas) {
      verifyChunks(m[0], m[1], (int) m[2], problems);
    }
    List<SnapshotInfo> all = list();
    byte[] buf = new byte[64 * 1024];
    for (SnapshotInfo info : all) {
      try (InputStream in = load(info.version())) {
        while (in.read(buf) >= 0) {
          // read to the end: the checksum is compared there
        }
      } catch (StoreCorruptedException e) {
        problems.add(e.getMessage());
      } catch (IOException | NoSuchElementException e) {
        problems.add(where(info.version()) + " of " + b.describe + " cannot be read: " + e);
      }
    }
    return all.size();
  }

  /** Adds a problem if save {@code saveId} does not hold exactly chunks {@code 0 .. chunks-1}. */
  private void verifyChunks(long version, long saveId, int chunks, List<String> problems) {
    List<Integer> present = new ArrayList<>();
    b.forEach(
        "verify",
        where(version),
        b.chunkCf,
        Layout.savePrefix(saveId),
        Layout.savePrefix(saveId + 1),
        (k, v) -> {
          present.add(Layout.getInt(k, 8));
          return true;
        });
    List<Integer> missing = new ArrayList<>();
    int next = 0;
    for (int c : present) {
      while (next < c && next < chunks && missing.size() < 10) {
        missing.add(next++);
      }
      next = Math.max(next, c + 1);
    }
    while (next < chunks && missing.size() < 10) {
      missing.add(next++);
    }
    long extra = present.stream().filter(c -> c >= chunks).count();
    if (!missing.isEmpty() || extra > 0) {
      problems.add(
          where(version)
              + " of "
              + b.describe
              + ": its index records "
              + chunks
              + " chunks (save "
              + saveId
              + ") but "
              + (missing.isEmpty() ? "" : "chunks " + missing + " are missing")
              + (!missing.isEmpty() && extra > 0 ? " and " : "")
              + (extra > 0 ? extra + " chunks lie beyond the last" : "")
              + "; restore it from a backup or save it again");
    }
  }

  /** Reads the chunks of one save lazily, one at a time. */
  private final class ChunkStream extends ChunkedInputStream {
    private final long version;
    private final long saveId;
    private final int chunks;

    ChunkStream(long version, long saveId, int chunks) {
      super(chunks);
      this.version = version;
      this.saveId = saveId;
      this.chunks = chunks;
    }

    @Override
    protected byte[] fetch(int chunk) {
      byte[] sealed =
          b.call(
              "load",
              where(version) + " chunk " + chunk,
              () -> b.db.get(b.chunkCf, b.readOptions, Layout.chunkKey(saveId, chunk)));
      if (sealed == null) {
        byte[] meta =
            b.call(
                "load",
                where(version),
                () -> b.db.get(b.snapCf, b.readOptions, Layout.snapshotKey(sid, version)));
        if (meta == null || Layout.getLong(meta, 0) != saveId) {
          throw new PersistenceException(
              where(version)
                  + " of "
                  + b.describe
                  + " was replaced or deleted while being read; load it again.");
        }
        throw new StoreCorruptedException(
            where(version)
                + " of "
                + b.describe
                + ": chunk "
                + chunk
                + " of "
                + chunks
                + " is missing. Run 'cairn verify' and restore from a backup.");
      }
      return Sealer.of(b.name(), b.encryption).openChunk(name, version, chunk, sealed);
    }
  }
}
