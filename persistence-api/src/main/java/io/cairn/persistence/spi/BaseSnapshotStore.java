package io.cairn.persistence.spi;

import io.cairn.persistence.Capability;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.SnapshotInfo;
import io.cairn.persistence.SnapshotStore;
import io.cairn.persistence.StorageEngineException;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.StoreStats;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

/**
 * The snapshot set of every {@link EngineBackend}. A save streams its input in chunks of the
 * backend's chunk size, each sealed and written as {@code 'C' version generation index} under a
 * fresh random generation, then writes the manifest {@code 'M' version} (the commit point), then
 * deletes the chunks of the generation it replaced. A load streams the chunks lazily through {@link
 * Checksums#verifying}, so the CRC-32C of the data is checked at its end.
 */
final class BaseSnapshotStore implements SnapshotStore {
  private static final byte M = 'M';
  private static final byte C = 'C';

  /** A decoded manifest. */
  record Manifest(long generation, int chunks, SnapshotInfo info) {}

  private final EngineBackend b;
  private final String name;
  final StoreId id;

  /** Generations being saved now: compaction must not take their chunks for garbage. */
  private final Set<Long> savesInFlight = ConcurrentHashMap.newKeySet();

  BaseSnapshotStore(EngineBackend backend, String name) {
    this.b = backend;
    this.name = name;
    this.id = new StoreId(StoreKind.SNAPSHOT, name);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public SnapshotInfo save(long version, InputStream data) {
    return save(version, data, -1);
  }

  /**
   * Saves with creation time {@code createdAt}, or the clock's time when it is negative. An import
   * (a given time) writes its manifest at {@link io.cairn.persistence.Durability#FULL}, which makes
   * the chunks before it durable too (StorageEngine's durability rule).
   */
  SnapshotInfo save(long version, InputStream data, long createdAt) {
    ArgumentChecks.checkSnapshotVersion(version);
    Objects.requireNonNull(data, "data");
    b.read(() -> null); // throws once closed, before reading the input
    long generation = ThreadLocalRandom.current().nextLong();
    savesInFlight.add(generation);
    try {
      int chunkBytes = b.options().snapshotChunkBytes;
      CRC32C crc = new CRC32C();
      long size = 0;
      int chunks = 0;
      while (true) {
        byte[] buf;
        try {
          buf = data.readNBytes(chunkBytes);
        } catch (IOException e) {
          throw new StorageEngineException(
              "Reading the input of snapshot "
                  + version
                  + " of "
                  + this
                  + " failed: "
                  + e.getMessage()
                  + "; nothing was stored. Check the input stream and retry.",
              e);
        }
        if (buf.length == 0) {
          break;
        }
        if (size + buf.length > b.options().maxSnapshotBytes) {
          throw tooLarge(version);
        }
        crc.update(buf);
        size += buf.length;
        int index = chunks++;
        byte[] sealed = b.sealer.sealChunk(name, version, index, buf);
        ByteBuffer frame = b.frame.begin(RecordFrame.CHUNK, sealed.length);
        frame.put(sealed);
        byte[] k = chunkKey(version, generation, index);
        StorageEngine.Write w = new StorageEngine.Write(id, k, b.frame.end(frame, id, k));
        b.writeStore(
            "snapshot save to " + this,
            id,
            () -> {
              b.commit(List.of(w));
              return null;
            });
        if (buf.length < chunkBytes) {
          break;
        }
      }
      SnapshotInfo info =
          new SnapshotInfo(version, size, crc.getValue(), createdAt < 0 ? b.now() : createdAt);
      int total = chunks;
      Manifest old =
          b.writeStore(
              "snapshot save to " + this,
              id,
              () -> {
                Manifest before = manifest(version);
                List<StorageEngine.Write> m = new ArrayList<>(2);
                m.add(manifestWrite(new Manifest(generation, total, info)));
                if (before == null) { // one more snapshot in the set: its catalog count with it
                  m.add(StoreCatalog.setCount(b.frame, name, StoreCatalog.setCount(b, name) + 1));
                }
                if (createdAt < 0) {
                  b.commit(m);
                } else {
                  b.engine().write(m, b.importDurability());
                }
                return before;
              });
      if (old != null) {
        deleteChunks(version, old.generation());
      }
      return info;
    } catch (RuntimeException e) {
      // nothing of a failed save stays: remove the chunks written so far (compact would too)
      try {
        deleteChunks(version, generation);
      } catch (RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    } finally {
      savesInFlight.remove(generation);
    }
  }

  private IllegalArgumentException tooLarge(long version) {
    long max = b.options().maxSnapshotBytes;
    return new IllegalArgumentException(
        "Snapshot "
            + version
            + " of "
            + this
            + " is larger than "
            + max
            + " bytes, the most this backend keeps on the heap (cairn.backends."
            + b.name()
            + "."
            + b.options().maxSnapshotBytesKey
            + "); nothing was stored. Use a backend with "
            + Capability.LARGE_SNAPSHOTS
            + " (sqlite, rocksdb) for large snapshots, or raise the limit with the heap.");
  }

  @Override
  public Optional<SnapshotInfo> latest() {
    List<SnapshotInfo> all = list();
    return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
  }

  @Override
  public InputStream load(long version) {
    ArgumentChecks.checkSnapshotVersion(version);
    Manifest m = b.read(() -> manifest(version));
    if (m == null) {
      throw new NoSuchElementException(
          "No snapshot " + version + " in " + this + "; list() shows the stored versions");
    }
    return Checksums.verifying(
        new Chunks(version, m), m.info().crc32c(), m.info().sizeBytes(), version + " of " + this);
  }

  @Override
  public List<SnapshotInfo> list() {
    return b.read(() -> manifests().stream().map(Manifest::info).toList());
  }

  @Override
  public boolean delete(long version) {
    ArgumentChecks.checkSnapshotVersion(version);
    Manifest old =
        b.writeStore(
            "snapshot delete in " + this,
            id,
            () -> {
              Manifest m = manifest(version);
              if (m != null) {
                b.commit(
                    List.of(
                        new StorageEngine.Write(id, manifestKey(version), null),
                        StoreCatalog.setCount(b.frame, name, StoreCatalog.setCount(b, name) - 1)));
              }
              return m;
            });
    if (old == null) {
      return false;
    }
    deleteChunks(version, old.generation());
    return true;
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

  @Override
  public String toString() {
    return "snapshot set '" + name + "' of " + b;
  }

  // ---- records ----

  private static byte[] manifestKey(long version) {
    return ByteBuffer.allocate(9).put(M).putLong(version).array();
  }

  private static byte[] chunkKey(long version, long generation, int index) {
    return ByteBuffer.allocate(21)
        .put(C)
        .putLong(version)
        .putLong(generation)
        .putInt(index)
        .array();
  }

  private StorageEngine.Write manifestWrite(Manifest m) {
    byte[] k = manifestKey(m.info().version());
    ByteBuffer buf = b.frame.begin(RecordFrame.MANIFEST, 36);
    buf.putLong(m.generation())
        .putLong(m.info().sizeBytes())
        .putLong(m.info().crc32c())
        .putLong(m.info().createdAtMillis())
        .putInt(m.chunks());
    return new StorageEngine.Write(id, k, b.frame.end(buf, id, k));
  }

  private Manifest decode(byte[] key, byte[] raw) {
    long version = ByteBuffer.wrap(key, 1, 8).getLong();
    String where = "the manifest of snapshot " + version;
    ByteBuffer body = b.frame.open(RecordFrame.MANIFEST, id, key, raw, where);
    if (body.remaining() != 36) {
      throw b.frame.corrupt(id, where, "has the wrong length");
    }
    long generation = body.getLong();
    long size = body.getLong();
    long crc = body.getLong();
    long created = body.getLong();
    int chunks = body.getInt();
    if (size < 0 || chunks < 0) {
      throw b.frame.corrupt(id, where, "records a negative size or chunk count");
    }
    return new Manifest(generation, chunks, new SnapshotInfo(version, size, crc, created));
  }

  private Manifest manifest(long version) {
    byte[] k = manifestKey(version);
    byte[] raw = b.engine().get(id, k);
    return raw == null ? null : decode(k, raw);
  }

  /** How many manifests are stored (their keys counted, not decoded: verify checks them). */
  long manifestCount() {
    long count = 0;
    byte[] from = {M};
    byte[] to = {M + 1};
    while (true) {
      List<StorageEngine.Record> page = b.engine().range(id, from, to, EngineBackend.page());
      count += page.size();
      if (page.size() < EngineBackend.page()) {
        return count;
      }
      from = BaseKeyValueStore.successor(page.get(page.size() - 1).key());
    }
  }

  private List<Manifest> manifests() {
    return manifests(
        damaged -> {
          throw damaged;
        });
  }

  /**
   * The manifests in version order; a manifest that fails its checks goes to {@code onDamage}
   * (which throws it, or records it and lets the listing go on: verify) instead of into the list.
   */
  private List<Manifest> manifests(Consumer<StoreCorruptedException> onDamage) {
    List<Manifest> out = new ArrayList<>();
    byte[] from = {M};
    byte[] to = {M + 1};
    while (true) {
      List<StorageEngine.Record> page = b.engine().range(id, from, to, EngineBackend.page());
      for (StorageEngine.Record r : page) {
        try {
          if (r.key().length != 9) {
            throw b.frame.corrupt(id, "a manifest key", "is " + r.key().length + " bytes, not 9");
          }
          out.add(decode(r.key(), r.value()));
        } catch (StoreCorruptedException e) {
          onDamage.accept(e);
        }
      }
      if (page.size() < EngineBackend.page()) {
        // signed versions sort as unsigned bytes; all are >= 0, so the order is ascending
        return out;
      }
      from = BaseKeyValueStore.successor(page.get(page.size() - 1).key());
    }
  }

  private void deleteChunks(long version, long generation) {
    byte[] from = chunkKey(version, generation, 0);
    byte[] to = chunkKey(version, generation, Integer.MAX_VALUE);
    while (true) {
      boolean more =
          b.writeStore(
              "snapshot delete in " + this,
              id,
              () -> {
                List<StorageEngine.Record> page =
                    b.engine().range(id, from, to, EngineBackend.page());
                List<StorageEngine.Write> batch = new ArrayList<>();
                for (StorageEngine.Record r : page) {
                  batch.add(new StorageEngine.Write(id, r.key(), null));
                }
                b.commit(batch);
                return page.size() == EngineBackend.page();
              });
      if (!more) {
        return;
      }
    }
  }

  private byte[] chunk(long version, Manifest m, int index) {
    byte[] k = chunkKey(version, m.generation(), index);
    byte[] raw = b.read(() -> b.engine().get(id, k));
    String where = "chunk " + index + " of snapshot " + version;
    if (raw == null) {
      Manifest now = b.read(() -> manifest(version));
      if (now == null || now.generation() != m.generation()) {
        throw new PersistenceException(
            "Snapshot "
                + version
                + " of "
                + this
                + " was replaced or deleted while being read;"
                + " load it again.");
      }
      throw b.frame.corrupt(id, where, "is missing (of " + m.chunks() + ")");
    }
    ByteBuffer body = b.frame.open(RecordFrame.CHUNK, id, k, raw, where);
    byte[] sealed = new byte[body.remaining()];
    body.get(sealed);
    return b.sealer.openChunk(name, version, index, sealed);
  }

  /**
   * The record {@code raw} under {@code key} with its chunk sealed with the primary key, or null
   * for a manifest (nothing sealed) or a chunk sealed with the primary already. Chunks of saves in
   * progress and garbage chunks are re-sealed too: their key names the version and index they are
   * bound to.
   */
  byte[] resealed(byte[] key, byte[] raw) {
    if (key.length != 21 || key[0] != C) {
      return null;
    }
    ByteBuffer k = ByteBuffer.wrap(key, 1, 20);
    long version = k.getLong();
    k.getLong(); // generation: not bound, the key already is unique per save
    int index = k.getInt();
    String where = "chunk " + index + " of snapshot " + version;
    ByteBuffer body = b.frame.open(RecordFrame.CHUNK, id, key, raw, where);
    byte[] sealed = new byte[body.remaining()];
    body.get(sealed);
    if (!b.sealer.needsReseal(sealed)) {
      return null;
    }
    byte[] fresh = b.sealer.resealChunk(name, version, index, sealed);
    ByteBuffer frame = b.frame.begin(RecordFrame.CHUNK, fresh.length);
    frame.put(fresh);
    return b.frame.end(frame, id, key);
  }

  /** Deletes chunks that belong to no manifest and no save in progress. */
  void dropGarbage() {
    List<Manifest> live = b.read(this::manifests);
    byte[] from = {C};
    byte[] to = {C + 1};
    while (true) {
      byte[] start = from;
      List<StorageEngine.Record> page =
          b.read(() -> b.engine().range(id, start, to, EngineBackend.page()));
      List<StorageEngine.Write> batch = new ArrayList<>();
      for (StorageEngine.Record r : page) {
        ByteBuffer k = ByteBuffer.wrap(r.key(), 1, r.key().length - 1);
        long version = k.getLong();
        long generation = k.getLong();
        boolean used =
            savesInFlight.contains(generation)
                || live.stream()
                    .anyMatch(m -> m.info().version() == version && m.generation() == generation);
        if (!used) {
          batch.add(new StorageEngine.Write(id, r.key(), null));
        }
      }
      if (!batch.isEmpty()) {
        b.writeStore(
            "compact of " + this,
            id,
            () -> {
              // a save that committed meanwhile made its chunks live: keep those
              List<Manifest> now = manifests();
              List<StorageEngine.Write> still = new ArrayList<>();
              for (StorageEngine.Write w : batch) {
                ByteBuffer k = ByteBuffer.wrap(w.key(), 1, w.key().length - 1);
                long version = k.getLong();
                long generation = k.getLong();
                if (now.stream()
                    .noneMatch(
                        m -> m.info().version() == version && m.generation() == generation)) {
                  still.add(w);
                }
              }
              b.commit(still);
              return null;
            });
      }
      if (page.size() < EngineBackend.page()) {
        return;
      }
      from = BaseKeyValueStore.successor(page.get(page.size() - 1).key());
    }
  }

  StoreStats stats() {
    List<Manifest> all = manifests();
    long bytes = 0;
    for (Manifest m : all) {
      bytes += m.info().sizeBytes();
    }
    return new StoreStats(id, all.size(), bytes);
  }

  /** Reads every snapshot to its end (checking chunks, length and CRC); returns how many. */
  long verify(List<String> problems) {
    long[] damaged = {0};
    List<Manifest> intact =
        manifests(
            e -> {
              problems.add(e.getMessage());
              damaged[0]++;
            });
    long checked = damaged[0];
    for (Manifest m : intact) {
      try (InputStream in = load(m.info().version())) {
        in.transferTo(OutputStream.nullOutputStream());
      } catch (IOException | RuntimeException e) {
        problems.add("snapshot " + m.info().version() + " of " + this + ": " + e.getMessage());
      }
      checked++;
    }
    return checked;
  }

  /** Reads chunk after chunk, each one engine read; fails once the backend is closed. */
  private final class Chunks extends ChunkedInputStream {
    private final long version;
    private final Manifest manifest;

    Chunks(long version, Manifest manifest) {
      super(manifest.chunks());
      this.version = version;
      this.manifest = manifest;
    }

    @Override
    protected byte[] fetch(int index) {
      return chunk(version, manifest, index);
    }

    @Override
    protected void checkOpen() {
      b.ensureOpen();
    }
  }
}
