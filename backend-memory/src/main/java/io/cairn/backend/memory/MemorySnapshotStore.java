package io.cairn.backend.memory;

import io.cairn.persistence.SnapshotInfo;
import io.cairn.persistence.SnapshotStore;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.StoreStats;
import io.cairn.persistence.spi.Checksums;
import io.cairn.persistence.spi.ChunkedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.zip.CRC32C;

/**
 * One snapshot set. Each snapshot is a list of chunks of at most {@link #CHUNK_BYTES} with the
 * CRC-32C and length computed while saving. A snapshot is put into the map only once fully read,
 * which is the commit point (replacing a version is one map write). Loads stream the chunks through
 * {@link Checksums#verifying}, so the CRC is checked again at end of data.
 *
 * <p>Snapshots are held on the heap, so unlike the durable backends this one cannot store a
 * snapshot larger than the heap: a save beyond {@code max-snapshot-bytes} is refused (see {@link
 * MemoryBackend}).
 */
final class MemorySnapshotStore implements SnapshotStore {
  static final int CHUNK_BYTES = 64 * 1024;

  record Snap(List<byte[]> chunks, SnapshotInfo info) {}

  private final MemoryBackend backend;
  private final String name;
  private final ConcurrentSkipListMap<Long, Snap> snaps = new ConcurrentSkipListMap<>();

  MemorySnapshotStore(MemoryBackend backend, String name) {
    this.backend = backend;
    this.name = name;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public SnapshotInfo save(long version, InputStream data) {
    checkVersion(version);
    Objects.requireNonNull(data, "data");
    backend.ensureOpen();
    List<byte[]> chunks = new ArrayList<>();
    CRC32C crc = new CRC32C();
    long size = 0;
    try {
      while (true) {
        byte[] buf = data.readNBytes(CHUNK_BYTES);
        if (buf.length == 0) {
          break;
        }
        backend.ensureOpen();
        if (size + buf.length > backend.maxSnapshotBytes()) {
          throw new IllegalArgumentException(
              "Snapshot "
                  + version
                  + " of set '"
                  + name
                  + "' in "
                  + backend
                  + " is larger than "
                  + backend.maxSnapshotBytes()
                  + " bytes, the most this backend keeps on the heap (cairn.backends."
                  + backend.name()
                  + "."
                  + MemoryBackendProvider.MAX_SNAPSHOT_BYTES
                  + "); nothing was stored. Use a durable backend (sqlite, rocksdb) for large"
                  + " snapshots, or raise the limit with the heap.");
        }
        crc.update(buf);
        size += buf.length;
        chunks.add(buf);
        if (buf.length < CHUNK_BYTES) {
          break;
        }
      }
    } catch (IOException e) {
      throw backend.engineFailure("Saving snapshot " + version + " of set '" + name + "'", e);
    }
    long total = size;
    return backend.shared(
        () -> {
          SnapshotInfo info = new SnapshotInfo(version, total, crc.getValue(), backend.now());
          snaps.put(version, new Snap(List.copyOf(chunks), info));
          return info;
        });
  }

  @Override
  public Optional<SnapshotInfo> latest() {
    return backend.shared(
        () -> {
          Map.Entry<Long, Snap> e = snaps.lastEntry();
          return e == null ? Optional.empty() : Optional.of(e.getValue().info());
        });
  }

  @Override
  public InputStream load(long version) {
    checkVersion(version);
    Snap snap = backend.shared(() -> snaps.get(version));
    if (snap == null) {
      throw new NoSuchElementException(
          "No snapshot "
              + version
              + " in set '"
              + name
              + "' of "
              + backend
              + "; list() shows the stored versions");
    }
    return Checksums.verifying(
        new ChunkStream(snap.chunks()),
        snap.info().crc32c(),
        snap.info().sizeBytes(),
        version + " of set '" + name + "' in " + backend);
  }

  @Override
  public List<SnapshotInfo> list() {
    return backend.shared(() -> snaps.values().stream().map(Snap::info).toList());
  }

  @Override
  public boolean delete(long version) {
    checkVersion(version);
    return backend.shared(() -> snaps.remove(version) != null);
  }

  @Override
  public int retainLatest(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("retainLatest needs n >= 1, got " + n);
    }
    return backend.shared(
        () -> {
          int removed = 0;
          List<Long> versions = new ArrayList<>(snaps.descendingKeySet());
          for (int i = n; i < versions.size(); i++) {
            if (snaps.remove(versions.get(i)) != null) {
              removed++;
            }
          }
          return removed;
        });
  }

  @Override
  public String toString() {
    return "snapshot set '" + name + "' of " + backend;
  }

  /** Recomputes every snapshot's CRC-32C and length; returns how many were checked. */
  long verify(List<String> problems) {
    long checked = 0;
    for (Snap s : snaps.values()) {
      CRC32C crc = new CRC32C();
      long size = 0;
      for (byte[] c : s.chunks()) {
        crc.update(c);
        size += c.length;
      }
      if (size != s.info().sizeBytes() || crc.getValue() != s.info().crc32c()) {
        problems.add(
            "snapshot "
                + s.info().version()
                + " of "
                + this
                + " does not match its recorded length and CRC-32C");
      }
      checked++;
    }
    return checked;
  }

  StoreStats stats() {
    long bytes = 0;
    for (Snap s : snaps.values()) {
      bytes += s.info().sizeBytes();
    }
    return new StoreStats(new StoreId(StoreKind.SNAPSHOT, name), snaps.size(), bytes);
  }

  void clear() {
    snaps.clear();
  }

  /**
   * The stored (not copied) chunk {@code index} of snapshot {@code version}. Only for tests that
   * simulate corruption (e.g. a bit flip in memory) to prove that load and verify detect it.
   */
  byte[] storedChunk(long version, int index) {
    return snaps.get(version).chunks().get(index);
  }

  private static void checkVersion(long version) {
    io.cairn.persistence.spi.StoreNames.checkSnapshotVersion(version);
  }

  /** Reads chunk by chunk; fails with BackendClosedException once the backend is closed. */
  private final class ChunkStream extends ChunkedInputStream {
    private final List<byte[]> chunks;

    ChunkStream(List<byte[]> chunks) {
      super(chunks.size());
      this.chunks = chunks;
    }

    @Override
    protected byte[] fetch(int index) {
      return chunks.get(index);
    }

    @Override
    protected void checkOpen() {
      backend.ensureOpen();
    }
  }
}
