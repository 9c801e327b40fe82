package com.example.thirdparty;

import io.cairn.persistence.BackendClosedException;
import io.cairn.persistence.BackendLockedException;
import io.cairn.persistence.BackendStats;
import io.cairn.persistence.Capability;
import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Durability;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.Progress;
import io.cairn.persistence.SnapshotInfo;
import io.cairn.persistence.SnapshotStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StorageEngineException;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.StoreStats;
import io.cairn.persistence.Transaction;
import io.cairn.persistence.VerifyReport;
import io.cairn.persistence.VersionConflictException;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.Bytes;
import io.cairn.persistence.spi.Checksums;
import io.cairn.persistence.spi.StoreNames;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32C;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * A small, complete backend: every store is a {@link TreeMap} guarded by ONE {@link ReentrantLock}
 * for the whole backend. Transactions hold that lock for their whole work and buffer their writes
 * in the view, installed at commit: an exception drops them, and nobody, not even a direct read on
 * the working thread, sees them before.
 *
 * <h2>Files in the data directory</h2>
 *
 * <pre>
 * lock                      held with FileChannel.tryLock while open (second open: BackendLockedException)
 * state.bin                 KV namespaces and logs, written on close: "TPB1", sections, CRC-32C trailer
 * state.bin.tmp             written first, then renamed over state.bin (the commit point)
 * snapshots/&lt;set&gt;/&lt;v&gt;.snap  snapshot data, streamed to &lt;v&gt;.snap.tmp and renamed when complete
 * </pre>
 *
 * Durability is {@code none}: state survives a clean close/reopen ({@link Capability#DURABLE}) but
 * a crash loses every write since open. Snapshot metadata lives in state.bin too.
 */
final class ThirdPartyBackend implements StorageBackend {
  private static final int MAGIC = 0x54504231; // "TPB1"
  private static final int SCAN_BATCH = 64;

  private final String name;
  private final Path dir;
  private final Clock clock;
  private final ReentrantLock lock = new ReentrantLock();
  private final TreeMap<String, TreeMap<byte[], Rec>> kv = new TreeMap<>();
  private final TreeMap<String, LogState> logs = new TreeMap<>();
  private final TreeMap<String, TreeMap<Long, SnapshotInfo>> snaps = new TreeMap<>();
  private final FileChannel lockChannel;
  private final FileLock fileLock;
  private Tx activeTx;
  private volatile boolean closed;

  private record Rec(byte[] value, long version, long expiresAt) {}

  private static final class LogState {
    long first;
    long next;
    final TreeMap<Long, byte[]> records = new TreeMap<>();
  }

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
    IGNORES_LOCK
  }

  private ThirdPartyBackend(
      BackendContext ctx, FileChannel channel, FileLock fileLock, Mutation mutation) {
    this.durability =
        mutation == Mutation.CLAIMS_DURABILITY_WRITES_ON_CLOSE ? ctx.durability() : Durability.NONE;
    this.name = ctx.name();
    this.dir = ctx.dataDir();
    this.clock = ctx.clock();
    this.lockChannel = channel;
    this.fileLock = fileLock;
  }

  private final Durability durability;

  static ThirdPartyBackend open(BackendContext ctx) {
    return open(ctx, Mutation.NONE);
  }

  static ThirdPartyBackend open(BackendContext ctx, Mutation mutation) {
    Path dir = ctx.dataDir();
    FileChannel channel = null;
    try {
      Files.createDirectories(dir.resolve("snapshots"));
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
      ThirdPartyBackend b = new ThirdPartyBackend(ctx, channel, fl, mutation);
      b.load();
      return b;
    } catch (IOException e) {
      closeQuietly(channel);
      throw new StorageEngineException("thirdparty backend cannot open " + dir + ": " + e, e);
    } catch (RuntimeException e) {
      closeQuietly(channel);
      throw e;
    }
  }

  // ---- backend ----

  @Override
  public String name() {
    return name;
  }

  @Override
  public String type() {
    return ThirdPartyBackendProvider.TYPE;
  }

  @Override
  public Durability durability() {
    return durability;
  }

  @Override
  public Set<Capability> capabilities() {
    return EnumSet.of(Capability.DURABLE);
  }

  @Override
  public KeyValueStore keyValue(String namespace) {
    StoreNames.check("namespace", namespace);
    locked(() -> kv.computeIfAbsent(namespace, n -> new TreeMap<>(Bytes.UNSIGNED)));
    return new Kv(namespace);
  }

  @Override
  public LogStore log(String logName) {
    StoreNames.check("log", logName);
    locked(() -> logs.computeIfAbsent(logName, n -> new LogState()));
    return new Log(logName);
  }

  @Override
  public SnapshotStore snapshots(String set) {
    StoreNames.check("snapshot set", set);
    locked(() -> snaps.computeIfAbsent(set, n -> new TreeMap<>()));
    return new Snaps(set);
  }

  @Override
  public <T> T inTransaction(Transaction.Work<T> work) {
    Objects.requireNonNull(work, "work");
    lock.lock();
    try {
      ensureOpen();
      if (activeTx != null) {
        throw new IllegalStateException("thirdparty transactions do not nest");
      }
      Tx tx = new Tx();
      activeTx = tx;
      try {
        T result = work.run(tx);
        tx.commit();
        return result;
      } finally {
        tx.ended = true;
        activeTx = null;
      }
    } finally {
      lock.unlock();
    }
  }

  @Override
  public SortedSet<StoreId> stores() {
    return locked(
        () -> {
          SortedSet<StoreId> ids = new TreeSet<>();
          kv.keySet().forEach(n -> ids.add(new StoreId(StoreKind.KEY_VALUE, n)));
          logs.keySet().forEach(n -> ids.add(new StoreId(StoreKind.LOG, n)));
          snaps.keySet().forEach(n -> ids.add(new StoreId(StoreKind.SNAPSHOT, n)));
          return ids;
        });
  }

  @Override
  public BackendStats stats() {
    return locked(
        () -> {
          List<StoreStats> list = new ArrayList<>();
          long now = clock.millis();
          kv.forEach(
              (n, m) ->
                  list.add(
                      new StoreStats(
                          new StoreId(StoreKind.KEY_VALUE, n),
                          m.values().stream().filter(r -> live(r, now)).count(),
                          -1)));
          logs.forEach(
              (n, l) ->
                  list.add(new StoreStats(new StoreId(StoreKind.LOG, n), l.next - l.first, -1)));
          snaps.forEach(
              (n, m) -> list.add(new StoreStats(new StoreId(StoreKind.SNAPSHOT, n), m.size(), -1)));
          list.sort((a, b) -> a.store().compareTo(b.store()));
          return new BackendStats(name, type(), list, -1, Map.of("engine", "TreeMap"));
        });
  }

  @Override
  public VerifyReport verify(Progress progress) {
    List<String> problems = new ArrayList<>();
    Map<String, List<SnapshotInfo>> toCheck = new TreeMap<>();
    locked(
        () -> {
          logs.forEach(
              (n, l) -> {
                if (l.records.size() != l.next - l.first) {
                  problems.add("log " + n + " has gaps");
                }
              });
          snaps.forEach((n, m) -> toCheck.put(n, new ArrayList<>(m.values())));
          return null;
        });
    long checked = 0;
    for (var e : toCheck.entrySet()) {
      for (SnapshotInfo info : e.getValue()) {
        try (InputStream in = openSnapshot(e.getKey(), info)) {
          in.transferTo(OutputStream.nullOutputStream());
        } catch (IOException | StoreCorruptedException ex) {
          problems.add("snapshot " + info.version() + " of " + e.getKey() + ": " + ex.getMessage());
        }
        progress.report("snapshots", ++checked, -1);
      }
    }
    return new VerifyReport(name, checked, problems);
  }

  @Override
  public void compact(Progress progress) {
    List<String> names = locked(() -> new ArrayList<>(kv.keySet()));
    int done = 0;
    for (String ns : names) {
      new Kv(ns).purgeExpired();
      progress.report("purge", ++done, names.size());
    }
  }

  @Override
  public void close() {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
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

  // ---- helpers ----

  private interface Body<T> {
    T run();
  }

  private <T> T locked(Body<T> body) {
    lock.lock();
    try {
      ensureOpen();
      return body.run();
    } finally {
      lock.unlock();
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new BackendClosedException(name);
    }
  }

  private boolean live(Rec r, long now) {
    return r != null && (r.expiresAt() == 0 || now < r.expiresAt());
  }

  private Rec liveRec(String ns, byte[] key) {
    Rec r = kv.get(ns).get(key);
    return live(r, clock.millis()) ? r : null;
  }

  private long versionOf(String ns, byte[] key) {
    Rec r = liveRec(ns, key);
    return r == null ? 0 : r.version();
  }

  /** Installs (or, for {@code null}, removes) one record. Caller holds the lock. */
  private void setRec(String ns, byte[] key, Rec rec) {
    TreeMap<byte[], Rec> m = kv.get(ns);
    if (rec == null) {
      m.remove(key);
    } else {
      m.put(key, rec);
    }
  }

  private long write(String ns, byte[] key, byte[] value, Duration ttl, long expected) {
    StoreNames.checkKey(key);
    StoreNames.checkValue(value);
    if (expected < -1) {
      throw new IllegalArgumentException("expected version must be >= 0, got " + expected);
    }
    byte[] k = key.clone();
    byte[] v = value.clone();
    return locked(
        () -> {
          long current = versionOf(ns, k);
          if (expected >= 0 && expected != current) {
            throw new VersionConflictException(
                Bytes.toDisplay(k) + " in " + ns + " of thirdparty '" + name + "'",
                expected,
                current);
          }
          long exp = StoreNames.expiryMillis(clock.millis(), ttl);
          setRec(ns, k, new Rec(v, current + 1, exp));
          return current + 1;
        });
  }

  private boolean remove(String ns, byte[] key, long expected) {
    StoreNames.checkKey(key);
    return locked(
        () -> {
          long current = versionOf(ns, key);
          if (expected >= 0 && (expected != current || current == 0)) {
            throw new VersionConflictException(
                Bytes.toDisplay(key) + " in " + ns, expected, current);
          }
          boolean had = kv.get(ns).containsKey(key);
          if (had) {
            setRec(ns, key.clone(), null);
          }
          return current != 0;
        });
  }

  private long appendAll(String logName, List<byte[]> payloads) {
    Objects.requireNonNull(payloads, "payloads");
    List<byte[]> copies = new ArrayList<>();
    for (byte[] p : payloads) {
      copies.add(Objects.requireNonNull(p, "payload").clone());
    }
    return locked(
        () -> {
          LogState l = logs.get(logName);
          long start = l.next;
          for (byte[] p : copies) {
            l.records.put(l.next++, p);
          }
          return start;
        });
  }

  private Path snapshotFile(String set, long version) {
    return dir.resolve("snapshots").resolve(set).resolve(version + ".snap");
  }

  private InputStream openSnapshot(String set, SnapshotInfo info) throws IOException {
    InputStream raw =
        new BufferedInputStream(Files.newInputStream(snapshotFile(set, info.version())));
    InputStream guarded =
        new FilterInputStream(raw) {
          @Override
          public int read(byte[] b, int off, int len) throws IOException {
            ensureOpen();
            return super.read(b, off, len);
          }

          @Override
          public int read() throws IOException {
            ensureOpen();
            return super.read();
          }
        };
    return Checksums.verifying(
        guarded, info.crc32c(), info.sizeBytes(), info.version() + " of set '" + set + "'");
  }

  private void save() {
    Path tmp = dir.resolve("state.bin.tmp");
    try (CheckedOutputStream cos =
            new CheckedOutputStream(
                new BufferedOutputStream(Files.newOutputStream(tmp)), new CRC32C());
        DataOutputStream out = new DataOutputStream(cos)) {
      out.writeInt(MAGIC);
      out.writeInt(kv.size());
      for (var e : kv.entrySet()) {
        out.writeUTF(e.getKey());
        out.writeInt(e.getValue().size());
        for (var r : e.getValue().entrySet()) {
          writeBytes(out, r.getKey());
          writeBytes(out, r.getValue().value());
          out.writeLong(r.getValue().version());
          out.writeLong(r.getValue().expiresAt());
        }
      }
      out.writeInt(logs.size());
      for (var e : logs.entrySet()) {
        out.writeUTF(e.getKey());
        out.writeLong(e.getValue().first);
        out.writeLong(e.getValue().next);
        for (byte[] p : e.getValue().records.values()) {
          writeBytes(out, p);
        }
      }
      out.writeInt(snaps.size());
      for (var e : snaps.entrySet()) {
        out.writeUTF(e.getKey());
        out.writeInt(e.getValue().size());
        for (SnapshotInfo i : e.getValue().values()) {
          out.writeLong(i.version());
          out.writeLong(i.sizeBytes());
          out.writeLong(i.crc32c());
          out.writeLong(i.createdAtMillis());
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
      int nsCount = in.readInt();
      for (int i = 0; i < nsCount; i++) {
        TreeMap<byte[], Rec> m = new TreeMap<>(Bytes.UNSIGNED);
        kv.put(in.readUTF(), m);
        int n = in.readInt();
        for (int j = 0; j < n; j++) {
          byte[] k = readBytes(in);
          m.put(k, new Rec(readBytes(in), in.readLong(), in.readLong()));
        }
      }
      int logCount = in.readInt();
      for (int i = 0; i < logCount; i++) {
        LogState l = new LogState();
        logs.put(in.readUTF(), l);
        l.first = in.readLong();
        l.next = in.readLong();
        for (long o = l.first; o < l.next; o++) {
          l.records.put(o, readBytes(in));
        }
      }
      int setCount = in.readInt();
      for (int i = 0; i < setCount; i++) {
        TreeMap<Long, SnapshotInfo> m = new TreeMap<>();
        snaps.put(in.readUTF(), m);
        int n = in.readInt();
        for (int j = 0; j < n; j++) {
          SnapshotInfo info =
              new SnapshotInfo(in.readLong(), in.readLong(), in.readLong(), in.readLong());
          m.put(info.version(), info);
        }
      }
      long computed = cis.getChecksum().getValue();
      if (in.readLong() != computed) {
        throw corrupt(file, "CRC-32C mismatch");
      }
    } catch (java.io.EOFException e) {
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

  // ---- stores: thin views that name their map and take the one lock ----

  private final class Kv implements KeyValueStore {
    private final String ns;

    Kv(String ns) {
      this.ns = ns;
    }

    @Override
    public String name() {
      return ns;
    }

    @Override
    public Optional<Entry> getEntry(byte[] key) {
      StoreNames.checkKey(key);
      return locked(
          () -> {
            Rec r = liveRec(ns, key);
            return r == null
                ? Optional.empty()
                : Optional.of(
                    new Entry(key.clone(), r.value().clone(), r.version(), r.expiresAt()));
          });
    }

    @Override
    public long put(byte[] key, byte[] value) {
      return write(ns, key, value, null, -1);
    }

    @Override
    public long put(byte[] key, byte[] value, Duration ttl) {
      StoreNames.checkTtl(ttl, false);
      return write(ns, key, value, ttl, -1);
    }

    @Override
    public long compareAndSet(byte[] key, long expectedVersion, byte[] value, Duration ttl) {
      StoreNames.checkTtl(ttl, true);
      if (expectedVersion < 0) {
        throw new IllegalArgumentException("expectedVersion must be >= 0");
      }
      return write(ns, key, value, ttl, expectedVersion);
    }

    @Override
    public boolean delete(byte[] key) {
      return remove(ns, key, -1);
    }

    @Override
    public void compareAndDelete(byte[] key, long expectedVersion) {
      if (expectedVersion < 0) {
        throw new IllegalArgumentException("expectedVersion must be >= 0");
      }
      remove(ns, key, expectedVersion);
    }

    @Override
    public void putAll(Collection<KeyValue> entries) {
      Objects.requireNonNull(entries, "entries");
      List<KeyValue> copies = new ArrayList<>();
      for (KeyValue e : entries) {
        Objects.requireNonNull(e, "entry");
        StoreNames.checkKey(e.key());
        StoreNames.checkValue(e.value());
        copies.add(new KeyValue(e.key().clone(), e.value().clone()));
      }
      locked(
          () -> {
            for (KeyValue e : copies) {
              setRec(ns, e.key(), new Rec(e.value(), versionOf(ns, e.key()) + 1, 0));
            }
            return null;
          });
    }

    @Override
    public CloseableIterator<Entry> scan(byte[] fromInclusive, byte[] toExclusive) {
      byte[] from = fromInclusive == null ? null : fromInclusive.clone();
      byte[] to = toExclusive == null ? null : toExclusive.clone();
      locked(() -> null);
      return new CloseableIterator<>() {
        private final List<Entry> batch = new ArrayList<>();
        private byte[] last;
        private boolean exhausted;
        private int pos;

        @Override
        public boolean hasNext() {
          if (pos < batch.size()) {
            ensureOpen();
            return true;
          }
          if (exhausted) {
            ensureOpen();
            return false;
          }
          batch.clear();
          pos = 0;
          locked(
              () -> {
                TreeMap<byte[], Rec> m = kv.get(ns);
                var tail =
                    last != null
                        ? m.tailMap(last, false)
                        : from != null ? m.tailMap(from, true) : m;
                long now = clock.millis();
                for (var e : tail.entrySet()) {
                  if (to != null && Bytes.UNSIGNED.compare(e.getKey(), to) >= 0) {
                    exhausted = true;
                    break;
                  }
                  last = e.getKey();
                  if (live(e.getValue(), now)) {
                    Rec r = e.getValue();
                    batch.add(
                        new Entry(
                            e.getKey().clone(), r.value().clone(), r.version(), r.expiresAt()));
                    if (batch.size() == SCAN_BATCH) {
                      return null;
                    }
                  }
                }
                exhausted = true;
                return null;
              });
          if (exhausted && batch.isEmpty()) {
            return false;
          }
          return pos < batch.size() || hasNext();
        }

        @Override
        public Entry next() {
          if (!hasNext()) {
            throw new NoSuchElementException();
          }
          return batch.get(pos++);
        }

        @Override
        public void close() {
          exhausted = true;
          batch.clear();
        }
      };
    }

    @Override
    public long purgeExpired() {
      return locked(
          () -> {
            long now = clock.millis();
            long before = kv.get(ns).size();
            kv.get(ns).values().removeIf(r -> !live(r, now));
            return before - kv.get(ns).size();
          });
    }

    @Override
    public long approximateCount() {
      return locked(
          () -> {
            long now = clock.millis();
            return kv.get(ns).values().stream().filter(r -> live(r, now)).count();
          });
    }
  }

  private final class Log implements LogStore {
    private final String logName;

    Log(String logName) {
      this.logName = logName;
    }

    @Override
    public String name() {
      return logName;
    }

    @Override
    public long append(byte[] payload) {
      return ThirdPartyBackend.this.appendAll(
          logName, List.of(Objects.requireNonNull(payload, "payload")));
    }

    @Override
    public long appendAll(List<byte[]> payloads) {
      return ThirdPartyBackend.this.appendAll(logName, payloads);
    }

    @Override
    public List<LogRecord> read(long fromOffset, int maxRecords) {
      StoreNames.checkMaxRecords(maxRecords);
      return locked(
          () -> {
            LogState l = logs.get(logName);
            List<LogRecord> out = new ArrayList<>();
            for (var e : l.records.tailMap(Math.max(fromOffset, l.first), true).entrySet()) {
              if (out.size() == maxRecords) {
                break;
              }
              out.add(new LogRecord(e.getKey(), e.getValue().clone()));
            }
            return out;
          });
    }

    @Override
    public long firstOffset() {
      return locked(() -> logs.get(logName).first);
    }

    @Override
    public long nextOffset() {
      return locked(() -> logs.get(logName).next);
    }

    @Override
    public long truncateBefore(long offset) {
      return locked(
          () -> {
            LogState l = logs.get(logName);
            long target = Math.min(offset, l.next);
            if (target <= l.first) {
              return 0L;
            }
            l.records.headMap(target, false).clear();
            long removed = target - l.first;
            l.first = target;
            return removed;
          });
    }
  }

  private final class Snaps implements SnapshotStore {
    private final String set;

    Snaps(String set) {
      this.set = set;
    }

    @Override
    public String name() {
      return set;
    }

    @Override
    public SnapshotInfo save(long version, InputStream data) {
      if (version < 0) {
        throw new IllegalArgumentException("version must be >= 0");
      }
      Objects.requireNonNull(data, "data");
      ensureOpen();
      Path target = snapshotFile(set, version);
      Path tmp = target.resolveSibling(version + "." + Thread.currentThread().getId() + ".tmp");
      CRC32C crc = new CRC32C();
      long size = 0;
      try {
        Files.createDirectories(target.getParent());
        try (OutputStream out = Files.newOutputStream(tmp)) {
          byte[] buf = new byte[64 * 1024];
          int n;
          while ((n = data.read(buf)) >= 0) {
            crc.update(buf, 0, n);
            out.write(buf, 0, n);
            size += n;
          }
        }
      } catch (IOException e) {
        closeQuietly(() -> Files.deleteIfExists(tmp));
        throw new StorageEngineException(
            "thirdparty '" + name + "' could not save snapshot " + version + " of " + set, e);
      }
      SnapshotInfo info = new SnapshotInfo(version, size, crc.getValue(), clock.millis());
      return locked(
          () -> {
            try {
              Files.move(
                  tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
              throw new StorageEngineException("thirdparty could not commit " + target, e);
            }
            snaps.get(set).put(version, info);
            return info;
          });
    }

    @Override
    public Optional<SnapshotInfo> latest() {
      return locked(
          () -> {
            var last = snaps.get(set).lastEntry();
            return last == null ? Optional.empty() : Optional.of(last.getValue());
          });
    }

    @Override
    public InputStream load(long version) {
      SnapshotInfo info = locked(() -> snaps.get(set).get(version));
      if (info == null) {
        throw new NoSuchElementException("no snapshot " + version + " in set " + set);
      }
      try {
        return openSnapshot(set, info);
      } catch (IOException e) {
        throw new StorageEngineException("thirdparty could not open snapshot " + version, e);
      }
    }

    @Override
    public List<SnapshotInfo> list() {
      return locked(() -> List.copyOf(snaps.get(set).values()));
    }

    @Override
    public boolean delete(long version) {
      return locked(
          () -> {
            boolean had = snaps.get(set).remove(version) != null;
            closeQuietly(() -> Files.deleteIfExists(snapshotFile(set, version)));
            return had;
          });
    }

    @Override
    public int retainLatest(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("n must be >= 1");
      }
      return locked(
          () -> {
            List<Long> versions = new ArrayList<>(snaps.get(set).descendingKeySet());
            int removed = 0;
            for (int i = n; i < versions.size(); i++) {
              delete(versions.get(i));
              removed++;
            }
            return removed;
          });
    }
  }

  // ---- transactions: writes buffered in the view, installed at commit under the held lock ----

  /**
   * A transaction's writes wait in overlays (a key mapped to {@code null} is a delete) and pending
   * log records; reads through the view consult them first, direct reads see only committed state.
   * {@link #commit()} installs them; if the work throws they are dropped.
   */
  private final class Tx implements Transaction {
    final Thread owner = Thread.currentThread();
    final Map<String, TreeMap<byte[], Rec>> overlays = new TreeMap<>();
    final Map<String, List<byte[]>> pending = new TreeMap<>();
    boolean ended;

    private void usable() {
      if (ended || Thread.currentThread() != owner) {
        throw new IllegalStateException("transaction view used outside its work");
      }
    }

    void commit() {
      overlays.forEach(
          (ns, overlay) ->
              overlay.forEach(
                  (k, rec) -> {
                    if (rec == null) {
                      kv.get(ns).remove(k);
                    } else {
                      kv.get(ns).put(k, rec);
                    }
                  }));
      pending.forEach(
          (logName, records) -> {
            LogState l = logs.get(logName);
            for (byte[] p : records) {
              l.records.put(l.next++, p);
            }
          });
    }

    @Override
    public KeyValueWriter keyValue(String namespace) {
      usable();
      ThirdPartyBackend.this.keyValue(namespace); // creates the namespace
      TreeMap<byte[], Rec> overlay =
          overlays.computeIfAbsent(namespace, n -> new TreeMap<>(Bytes.UNSIGNED));
      return new KeyValueWriter() {
        private Rec current(byte[] key) {
          Rec r = overlay.containsKey(key) ? overlay.get(key) : kv.get(namespace).get(key);
          return live(r, clock.millis()) ? r : null;
        }

        @Override
        public Optional<Entry> getEntry(byte[] key) {
          usable();
          StoreNames.checkKey(key);
          Rec r = current(key);
          return r == null
              ? Optional.empty()
              : Optional.of(new Entry(key.clone(), r.value().clone(), r.version(), r.expiresAt()));
        }

        @Override
        public long put(byte[] key, byte[] value) {
          return write(key, value, null, -1);
        }

        @Override
        public long put(byte[] key, byte[] value, Duration ttl) {
          StoreNames.checkTtl(ttl, true);
          return write(key, value, ttl, -1);
        }

        @Override
        public long compareAndSet(byte[] key, long expectedVersion, byte[] value, Duration ttl) {
          StoreNames.checkTtl(ttl, true);
          if (expectedVersion < 0) {
            throw new IllegalArgumentException("expectedVersion must be >= 0");
          }
          return write(key, value, ttl, expectedVersion);
        }

        private long write(byte[] key, byte[] value, Duration ttl, long expected) {
          usable();
          StoreNames.checkKey(key);
          StoreNames.checkValue(value);
          Rec cur = current(key);
          long version = cur == null ? 0 : cur.version();
          if (expected >= 0 && expected != version) {
            throw new VersionConflictException(
                Bytes.toDisplay(key) + " in " + namespace + " of thirdparty '" + name + "'",
                expected,
                version);
          }
          long exp = StoreNames.expiryMillis(clock.millis(), ttl);
          overlay.put(key.clone(), new Rec(value.clone(), version + 1, exp));
          return version + 1;
        }

        @Override
        public boolean delete(byte[] key) {
          usable();
          StoreNames.checkKey(key);
          boolean had = current(key) != null;
          overlay.put(key.clone(), null);
          return had;
        }
      };
    }

    @Override
    public LogWriter log(String logName) {
      usable();
      ThirdPartyBackend.this.log(logName); // creates the log
      List<byte[]> records = pending.computeIfAbsent(logName, n -> new ArrayList<>());
      return new LogWriter() {
        @Override
        public long append(byte[] payload) {
          return appendAll(List.of(Objects.requireNonNull(payload, "payload")));
        }

        @Override
        public long appendAll(List<byte[]> payloads) {
          usable();
          long start = nextOffset();
          for (byte[] p : Objects.requireNonNull(payloads, "payloads")) {
            records.add(Objects.requireNonNull(p, "payload").clone());
          }
          return start;
        }

        @Override
        public long nextOffset() {
          usable();
          return logs.get(logName).next + records.size();
        }
      };
    }
  }
}
