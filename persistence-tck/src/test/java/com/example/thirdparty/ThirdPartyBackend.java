package com.example.thirdparty;

import io.cairn.persistence.BackendLockedException;
import io.cairn.persistence.Capability;
import io.cairn.persistence.Durability;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StorageEngineException;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.Bytes;
import io.cairn.persistence.spi.EngineBackend;
import io.cairn.persistence.spi.StorageEngine;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32C;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * A small, complete backend written only against the public SPI: a {@link StorageEngine} of
 * TreeMaps under one lock, handed to {@link EngineBackend}, which owns every Cairn rule (checks,
 * closed state, TTL, versions, offsets, snapshots, transactions, checksums, encryption).
 *
 * <h2>Files in the data directory</h2>
 *
 * <pre>
 * lock           held with FileChannel.tryLock while open (second open: BackendLockedException)
 * state.bin      every record, written on close: "TPB2", stores, CRC-32C trailer
 * state.bin.tmp  written first, then renamed over state.bin (the commit point)
 * </pre>
 *
 * Durability is {@code none}: state survives a clean close and reopen ({@link Capability#DURABLE})
 * but a crash loses every write since open.
 */
final class ThirdPartyBackend implements StorageEngine {
  private static final int MAGIC = 0x54504232; // "TPB2"

  /**
   * Deliberate defects, for the TCK's own mutation tests ({@code TckCatchesBrokenBackendsTest}):
   * the TCK must fail a backend that has one of them.
   */
  enum Mutation {
    /** None: the example as it should be. */
    NONE,
    /** Claims the configured durability (e.g. normal) although it writes only on close. */
    CLAIMS_DURABILITY_WRITES_ON_CLOSE,
    /** Opens even when another instance holds the directory's lock. */
    IGNORES_LOCK,
    /** Declares ENCRYPTION (as the base does) but drops the context's hook: writes in clear. */
    IGNORES_ENCRYPTION
  }

  private final String name;
  private final Path dir;
  private final ReentrantLock lock = new ReentrantLock();
  private final TreeMap<StoreId, TreeMap<byte[], byte[]>> data = new TreeMap<>();
  private final FileChannel lockChannel;
  private final FileLock fileLock;

  private ThirdPartyBackend(BackendContext ctx, FileChannel channel, FileLock fileLock) {
    this.name = ctx.name();
    this.dir = ctx.dataDir();
    this.lockChannel = channel;
    this.fileLock = fileLock;
  }

  static StorageBackend open(BackendContext ctx) {
    return open(ctx, Mutation.NONE);
  }

  static StorageBackend open(BackendContext ctx, Mutation mutation) {
    if (mutation == Mutation.IGNORES_ENCRYPTION) {
      ctx =
          BackendContext.builder(ctx.name(), ctx.type())
              .config(ctx.config())
              .dataDir(ctx.dataDir())
              .durability(ctx.durability())
              .metrics(ctx.metrics())
              .clock(ctx.clock())
              .build(); // without .encryption(..): Encryption.NONE
    }
    Durability durability =
        mutation == Mutation.CLAIMS_DURABILITY_WRITES_ON_CLOSE ? ctx.durability() : Durability.NONE;
    EngineBackend.Options options =
        EngineBackend.Options.builder(durability).capabilities(Capability.DURABLE).build();
    return EngineBackend.open(ctx, ThirdPartyBackendProvider.TYPE, lock(ctx, mutation), options);
  }

  static ThirdPartyBackend lock(BackendContext ctx, Mutation mutation) {
    Path dir = ctx.dataDir();
    FileChannel channel = null;
    try {
      Files.createDirectories(dir);
      channel =
          FileChannel.open(
              dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock fl;
      try {
        fl = channel.tryLock();
      } catch (OverlappingFileLockException e) {
        fl = null;
      }
      if (fl == null && mutation != Mutation.IGNORES_LOCK) {
        throw new BackendLockedException(
            "thirdparty backend '" + ctx.name() + "': " + dir + " is in use by another instance");
      }
      ThirdPartyBackend engine = new ThirdPartyBackend(ctx, channel, fl);
      engine.load();
      return engine;
    } catch (IOException e) {
      closeQuietly(channel);
      throw new StorageEngineException("thirdparty backend cannot open " + dir + ": " + e, e);
    } catch (RuntimeException e) {
      closeQuietly(channel);
      throw e;
    }
  }

  // ---- the engine primitives ----

  @Override
  public byte[] get(StoreId store, byte[] key) {
    lock.lock();
    try {
      byte[] v = data.getOrDefault(store, new TreeMap<>(Bytes.UNSIGNED)).get(key);
      return v == null ? null : v.clone();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public List<Record> range(StoreId store, byte[] fromInclusive, byte[] toExclusive, int limit) {
    lock.lock();
    try {
      TreeMap<byte[], byte[]> m = data.get(store);
      List<Record> out = new ArrayList<>();
      if (m == null) {
        return out;
      }
      for (Map.Entry<byte[], byte[]> e : m.tailMap(fromInclusive, true).entrySet()) {
        if (out.size() == limit
            || (toExclusive != null && Bytes.UNSIGNED.compare(e.getKey(), toExclusive) >= 0)) {
          break;
        }
        out.add(new Record(e.getKey().clone(), e.getValue().clone()));
      }
      return out;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void write(List<Write> batch, Durability durability) {
    lock.lock();
    try {
      for (Write w : batch) {
        TreeMap<byte[], byte[]> m =
            data.computeIfAbsent(w.store(), s -> new TreeMap<>(Bytes.UNSIGNED));
        if (w.isDelete()) {
          m.remove(w.key());
        } else {
          m.put(w.key().clone(), w.value().clone());
        }
        if (m.isEmpty()) {
          data.remove(w.store());
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Yes: {@link #write} holds this engine's one lock, so concurrent calls are safe and each batch
   * stays atomic; the base's work around a write (framing, sealing, reading the current version)
   * then runs in parallel, ordered per key, log and snapshot set by the base.
   */
  @Override
  public boolean concurrentWrites() {
    return true;
  }

  @Override
  public SortedSet<StoreId> stores() {
    lock.lock();
    try {
      return new TreeSet<>(data.keySet());
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void close() {
    lock.lock();
    try {
      save();
    } finally {
      try {
        if (fileLock != null) {
          fileLock.release();
        }
      } catch (IOException e) {
        // released with the channel below
      }
      closeQuietly(lockChannel);
      lock.unlock();
    }
  }

  // ---- state.bin ----

  private void save() {
    Path tmp = dir.resolve("state.bin.tmp");
    try (CheckedOutputStream cos =
            new CheckedOutputStream(
                new BufferedOutputStream(Files.newOutputStream(tmp)), new CRC32C());
        DataOutputStream out = new DataOutputStream(cos)) {
      out.writeInt(MAGIC);
      out.writeInt(data.size());
      for (var store : data.entrySet()) {
        out.writeByte(store.getKey().kind().ordinal());
        out.writeUTF(store.getKey().name());
        out.writeInt(store.getValue().size());
        for (var r : store.getValue().entrySet()) {
          writeBytes(out, r.getKey());
          writeBytes(out, r.getValue());
        }
      }
      out.flush();
      out.writeLong(cos.getChecksum().getValue());
    } catch (IOException e) {
      throw new StorageEngineException("thirdparty '" + name + "' failed to save " + tmp, e);
    }
    try {
      Files.move(
          tmp,
          dir.resolve("state.bin"),
          StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new StorageEngineException("thirdparty '" + name + "' failed to commit state.bin", e);
    }
  }

  private void load() throws IOException {
    Path file = dir.resolve("state.bin");
    if (!Files.exists(file)) {
      return;
    }
    try (CheckedInputStream cis =
            new CheckedInputStream(
                new BufferedInputStream(Files.newInputStream(file)), new CRC32C());
        DataInputStream in = new DataInputStream(cis)) {
      if (in.readInt() != MAGIC) {
        throw corrupt(file, "bad magic");
      }
      int stores = in.readInt();
      for (int i = 0; i < stores; i++) {
        int kind = in.readUnsignedByte();
        if (kind >= StoreKind.values().length) {
          throw corrupt(file, "unknown store kind " + kind);
        }
        TreeMap<byte[], byte[]> m = new TreeMap<>(Bytes.UNSIGNED);
        data.put(new StoreId(StoreKind.values()[kind], in.readUTF()), m);
        int n = in.readInt();
        for (int j = 0; j < n; j++) {
          m.put(readBytes(in), readBytes(in));
        }
      }
      long computed = cis.getChecksum().getValue();
      if (in.readLong() != computed) {
        throw corrupt(file, "CRC-32C mismatch");
      }
    } catch (EOFException e) {
      throw corrupt(file, "truncated");
    }
  }

  private StoreCorruptedException corrupt(Path file, String what) {
    return new StoreCorruptedException(
        "thirdparty '" + name + "': " + file + " is corrupt (" + what + "); restore a backup");
  }

  private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
    out.writeInt(b.length);
    out.write(b);
  }

  private static byte[] readBytes(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0) {
      throw new IOException("negative length");
    }
    return in.readNBytes(n);
  }

  private static void closeQuietly(AutoCloseable c) {
    if (c != null) {
      try {
        c.close();
      } catch (Exception ignored) {
        // nothing more to do
      }
    }
  }
}
