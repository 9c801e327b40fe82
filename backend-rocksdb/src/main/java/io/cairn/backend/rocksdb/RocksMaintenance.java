package io.cairn.backend.rocksdb;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.health.HealthCheck;
import io.cairn.persistence.BackendClosedException;
import io.cairn.persistence.BackendStats;
import io.cairn.persistence.Durability;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StorageEngineException;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.StoreStats;
import io.cairn.persistence.VerifyReport;
import io.cairn.persistence.spi.DataDirectory;
import io.cairn.persistence.spi.Sealer;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.rocksdb.Checkpoint;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.CompactRangeOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The maintenance side of a {@link RocksDbBackend}: statistics and gauges, health, verify, compact,
 * checkpoint, removal of orphaned snapshot chunks, and the two background jobs (the expiry sweeper
 * and the {@link Anchor} beat). Every engine access goes through the backend's guard, so each
 * operation fails with {@link BackendClosedException} once the backend is closed.
 */
final class RocksMaintenance {
  private static final Logger LOG = LoggerFactory.getLogger(RocksMaintenance.class);

  /** How often the anchor follows the WAL while writes happen (see {@link #startAnchorBeat}). */
  static final long ANCHOR_BEAT_MILLIS = Long.getLong("cairn.rocksdb.anchor-interval-ms", 200);

  private final RocksDbBackend b;
  private final List<String> gaugeNames = new ArrayList<>();
  private ScheduledExecutorService sweeper;
  private ScheduledExecutorService anchorBeat;
  private volatile long anchoredSequence = -1;

  RocksMaintenance(RocksDbBackend backend) {
    this.b = backend;
  }

  // ---------------------------------------------------------------- stats and gauges

  BackendStats stats() {
    List<StoreStats> list = new ArrayList<>();
    for (StoreId id : b.stores()) {
      switch (id.kind()) {
        case KEY_VALUE -> {
          RocksKvStore s = b.kv(id.name());
          list.add(new StoreStats(id, s.approximateCount(), storeBytes(b.kvCf, s.sid)));
        }
        case LOG -> {
          RocksLogStore s = b.logStore(id.name());
          list.add(
              new StoreStats(id, s.nextOffset() - s.firstOffset(), storeBytes(b.logCf, s.sid)));
        }
        case SNAPSHOT -> {
          RocksSnapshotStore s = (RocksSnapshotStore) b.snapshots(id.name());
          long bytes = 0;
          var infos = s.list();
          for (var info : infos) {
            bytes += info.sizeBytes();
          }
          list.add(new StoreStats(id, infos.size(), bytes));
        }
      }
    }
    Map<String, String> props = new TreeMap<>();
    props.put("layout-version", String.valueOf(Layout.LAYOUT_VERSION));
    props.put("memory-budget", String.valueOf(b.config.memoryBudget()));
    props.put(
        "wal-recovery-mode",
        b.config.walRecovery().name().toLowerCase().replace('_', '-')
            + " ("
            + b.config.walRecovery().resolve(b.context.durability())
            + ")");
    props.put(
        "durability-mapping",
        switch (b.context.durability()) {
          case NONE -> "WAL disabled";
          case NORMAL -> "WAL, no fsync";
          case FULL -> "WAL fsynced per write (group commit)";
        });
    for (Map.Entry<String, Long> e : b.engineProperties().entrySet()) {
      props.put(e.getKey(), String.valueOf(e.getValue()));
    }
    if (!b.quarantinedTo.isEmpty()) {
      props.put("quarantined-to", b.quarantinedTo);
    }
    return new BackendStats(b.name(), b.type(), list, directorySize(), props);
  }

  private long storeBytes(ColumnFamilyHandle cf, int sid) {
    return b.approximateBytes(cf, Layout.sidPrefix(sid), Layout.sidEnd(sid));
  }

  /**
   * Bytes of every file under the data directory. RocksDB deletes obsolete files on its own threads
   * (after a flush or compaction), so a file can vanish between being listed and being measured: it
   * counts as 0 and the walk goes on. Only a directory that cannot be read at all gives -1
   * ("unknown"), which callers such as a size-bounded cache tier must treat as a failed reading.
   */
  long directorySize() {
    long[] total = {0};
    try {
      Files.walkFileTree(
          b.dir,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
              if (attrs.isRegularFile()) {
                total[0] += attrs.size();
              }
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
              if (e instanceof NoSuchFileException) {
                return FileVisitResult.CONTINUE; // deleted by RocksDB during the walk
              }
              throw e;
            }
          });
      return total[0];
    } catch (IOException e) {
      return -1;
    }
  }

  void registerGauges() {
    MetricRegistry metrics = b.context.metrics();
    String base = b.context.metricPrefix() + ".rocksdb.";
    Map<String, Gauge<Long>> gauges = new LinkedHashMap<>();
    gauges.put("estimate-num-keys", () -> safe(() -> b.sumProperty("rocksdb.estimate-num-keys")));
    gauges.put(
        "live-sst-files-size", () -> safe(() -> b.sumProperty("rocksdb.live-sst-files-size")));
    gauges.put("memtable-size", () -> safe(() -> b.sumProperty("rocksdb.cur-size-all-mem-tables")));
    gauges.put("block-cache-usage", () -> safe(b::blockCacheUsage));
    gauges.put(
        "pending-compaction-bytes",
        () -> safe(() -> b.sumProperty("rocksdb.estimate-pending-compaction-bytes")));
    for (Map.Entry<String, Gauge<Long>> e : gauges.entrySet()) {
      String name = base + e.getKey();
      metrics.remove(name);
      metrics.register(name, e.getValue());
      gaugeNames.add(name);
    }
  }

  private static long safe(java.util.function.LongSupplier s) {
    try {
      return s.getAsLong();
    } catch (PersistenceException e) {
      return -1; // closed or failing: health() says why
    }
  }

  /** Removes the gauges {@link #registerGauges} added. */
  void removeGauges() {
    for (String g : gaugeNames) {
      b.context.metrics().remove(g);
    }
  }

  // ---------------------------------------------------------------- background jobs

  /** A single daemon thread for one background job; it never keeps the JVM alive. */
  private static ScheduledExecutorService daemonScheduler(String threadName) {
    return Executors.newSingleThreadScheduledExecutor(
        r -> {
          Thread t = new Thread(r, threadName);
          t.setDaemon(true);
          return t;
        });
  }

  void startSweeper() {
    if (b.config.sweeperInterval().isZero()) {
      return;
    }
    sweeper = daemonScheduler("cairn-rocksdb-sweeper-" + b.name());
    long ms = Math.max(1, b.config.sweeperInterval().toMillis());
    sweeper.scheduleWithFixedDelay(this::sweepOnce, ms, ms, TimeUnit.MILLISECONDS);
  }

  /** One sweeper pass over every key-value store; failures are logged, never thrown. */
  private void sweepOnce() {
    try {
      purgeAllExpired();
    } catch (BackendClosedException e) {
      // closing: nothing to do
    } catch (RuntimeException e) {
      LOG.warn("Expiry sweep of {} failed; will retry: {}", b.describe, e.toString());
    }
  }

  private long purgeAllExpired() {
    long removed = 0;
    for (String name : b.catalog.names(StoreKind.KEY_VALUE)) {
      removed += b.kv(name).purgeExpired();
    }
    return removed;
  }

  /**
   * Keeps the {@link Anchor} close behind the WAL while the backend runs ({@code normal} and {@code
   * full}): every {@link #ANCHOR_BEAT_MILLIS} ms, if the sequence number moved, makes the WAL
   * durable up to it ({@code syncWal} under {@code normal}; under {@code full} every acknowledged
   * write already is) and records it. A crashed process's WAL truncated or replaced afterwards then
   * recovers below the anchor and the open is refused instead of silently losing the writes in the
   * cut part; only the writes of the last interval before a crash stay undetectable if cut. Under
   * {@code normal} this also bounds what a power loss can take to about one interval.
   */
  void startAnchorBeat() {
    if (b.context.durability() == Durability.NONE || ANCHOR_BEAT_MILLIS <= 0) {
      return;
    }
    anchorBeat = daemonScheduler("cairn-rocksdb-anchor-" + b.name());
    anchorBeat.scheduleWithFixedDelay(
        this::anchorBeatOnce, ANCHOR_BEAT_MILLIS, ANCHOR_BEAT_MILLIS, TimeUnit.MILLISECONDS);
  }

  private void anchorBeatOnce() {
    try {
      b.call(
          "record state",
          Anchor.FILE,
          () -> {
            long seq = b.db.getLatestSequenceNumber();
            if (seq == anchoredSequence) {
              return null;
            }
            if (b.context.durability() == Durability.NORMAL) {
              b.db.syncWal();
            }
            try {
              Anchor.write(b.dir, seq);
              anchoredSequence = seq;
            } catch (IOException e) {
              LOG.debug("{}: could not record its state: {}", b.describe, e.toString());
            }
            return null;
          });
    } catch (RuntimeException e) {
      // closed, restarting or failing: the next beat (or close) tries again
    }
  }

  /** Stops both background jobs, waiting for a running pass to end. */
  void stopBackgroundJobs() {
    if (anchorBeat != null) {
      anchorBeat.shutdownNow();
      try {
        anchorBeat.awaitTermination(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (sweeper != null) {
      sweeper.shutdown();
      try {
        if (!sweeper.awaitTermination(30, TimeUnit.SECONDS)) {
          sweeper.shutdownNow();
        }
      } catch (InterruptedException e) {
        sweeper.shutdownNow();
        Thread.currentThread().interrupt();
      }
    }
  }

  // ---------------------------------------------------------------- verify, compact, checkpoint

  VerifyReport verify(Progress progress) {
    Objects.requireNonNull(progress, "progress");
    List<String> problems = new ArrayList<>();
    long checked = 0;
    progress.report("checksums", 0, 1);
    int files = b.call("verify", "live files", () -> b.db.getLiveFilesMetaData().size());
    try {
      b.enter();
      try {
        b.db.verifyChecksum();
      } finally {
        b.exit();
      }
    } catch (RocksDBException e) {
      problems.add(b.describe + ": RocksDB checksum verification failed: " + e.getMessage());
    }
    checked += files;
    progress.report("checksums", 1, 1);
    List<String> snapshotStores = b.catalog.names(StoreKind.SNAPSHOT);
    int done = 0;
    for (String name : snapshotStores) {
      progress.report("snapshots", done++, snapshotStores.size());
      RocksSnapshotStore s = (RocksSnapshotStore) b.snapshots(name);
      checked += s.verifyAll(problems);
    }
    progress.report("snapshots", done, snapshotStores.size());
    List<String> logStoresNamed = b.catalog.names(StoreKind.LOG);
    done = 0;
    for (String name : logStoresNamed) {
      progress.report("logs", done++, logStoresNamed.size());
      checked += b.logStore(name).verify(problems);
    }
    progress.report("logs", done, logStoresNamed.size());
    checked += verifySealed(problems, progress);
    progress.report("catalog", 0, 1);
    checked += b.catalog.verify(problems);
    progress.report("catalog", 1, 1);
    return new VerifyReport(b.name(), checked, problems);
  }

  /**
   * With encryption on, opens (decrypts and authenticates) every value and log payload, dropping
   * the plaintext; snapshot chunks are opened by {@code verifyAll} loading each snapshot. Each
   * failure is one problem from the Sealer: backend, store, key (redacted) or offset, never
   * plaintext. Returns how many records were opened.
   */
  private long verifySealed(List<String> problems, Progress progress) {
    Sealer sealer = Sealer.of(b.name(), b.encryption);
    if (!sealer.enabled()) {
      return 0;
    }
    long[] opened = {0};
    for (String name : b.catalog.names(StoreKind.KEY_VALUE)) {
      int sid = b.kv(name).sid;
      b.forEach(
          "verify",
          "kv:" + name,
          b.kvCf,
          Layout.sidPrefix(sid),
          Layout.sidEnd(sid),
          (k, v) -> {
            try {
              sealer.openValue(name, Layout.userKey(k), Layout.kvPayload(v));
            } catch (StoreCorruptedException e) {
              problems.add(e.getMessage());
            }
            progress.report("decrypt", ++opened[0], -1);
            return true;
          });
    }
    for (String name : b.catalog.names(StoreKind.LOG)) {
      RocksLogStore log = b.logStore(name);
      int sid = log.sid;
      b.forEach(
          "verify",
          "log:" + name,
          b.logCf,
          Layout.sidPrefix(sid),
          Layout.sidEnd(sid),
          (k, v) -> {
            try {
              log.record(Layout.logOffset(k), v); // append time (layout 2) and the sealed payload
            } catch (StoreCorruptedException e) {
              problems.add(e.getMessage());
            }
            progress.report("decrypt", ++opened[0], -1);
            return true;
          });
    }
    return opened[0];
  }

  void compact(Progress progress) {
    Objects.requireNonNull(progress, "progress");
    progress.report("purge-expired", 0, -1);
    purgeAllExpired();
    progress.report("orphan-chunks", 0, -1);
    b.call(
        "compact",
        "snapshot chunks",
        () -> {
          deleteOrphanChunks();
          return null;
        });
    int i = 0;
    for (ColumnFamilyHandle cf : b.allCfs) {
      progress.report("compact-range", i++, b.allCfs.size());
      b.call(
          "compact",
          "column family " + i,
          () -> {
            try (CompactRangeOptions o = new CompactRangeOptions()) {
              o.setBottommostLevelCompaction(CompactRangeOptions.BottommostLevelCompaction.kForce);
              b.db.compactRange(cf, null, null, o);
            }
            return null;
          });
    }
    progress.report("compact-range", b.allCfs.size(), b.allCfs.size());
  }

  /**
   * Deletes chunks of saves no snapshot metadata refers to (a crash mid-save) and that no save in
   * this process is writing. Caller is inside the guard (or opening).
   */
  void deleteOrphanChunks() throws RocksDBException {
    Set<Long> referenced = new HashSet<>();
    long maxSeen = 0;
    try (RocksIterator it = b.db.newIterator(b.snapCf, b.readOptions)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        long saveId = Layout.getLong(it.value(), 0);
        referenced.add(saveId);
        maxSeen = Math.max(maxSeen, saveId);
      }
      it.status();
    }
    List<Long> orphans = new ArrayList<>();
    try (RocksIterator it = b.db.newIterator(b.chunkCf, b.readOptions)) {
      it.seekToFirst();
      while (it.isValid()) {
        long saveId = Layout.chunkSaveId(it.key());
        maxSeen = Math.max(maxSeen, saveId);
        if (!referenced.contains(saveId) && !b.savesInFlight.contains(saveId)) {
          orphans.add(saveId);
        }
        it.seek(Layout.savePrefix(saveId + 1));
      }
      it.status();
    }
    // Belt and braces: never hand out a save id that is already on disk.
    long floor = maxSeen + 1;
    b.nextSaveId.accumulateAndGet(floor, Math::max);
    if (!orphans.isEmpty() && b.dataDirectory.readOnly()) {
      return; // read-only beside the owner: these may be the owner's saves in progress
    }
    if (!orphans.isEmpty()) {
      try (WriteBatch batch = new WriteBatch()) {
        for (long id : orphans) {
          batch.deleteRange(b.chunkCf, Layout.savePrefix(id), Layout.savePrefix(id + 1));
        }
        b.db.write(b.writeOptions(), batch);
      }
      LOG.info("{}: removed chunks of {} unfinished snapshot saves", b.describe, orphans.size());
    }
  }

  void checkpoint(Path target, Progress progress) {
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(progress, "progress");
    Path t = target.toAbsolutePath().normalize();
    if (Files.exists(t)) {
      try (Stream<Path> entries = Files.list(t)) {
        if (entries.findAny().isPresent()) {
          throw new IllegalArgumentException(
              "Checkpoint target " + t + " is not empty; give an empty or absent directory");
        }
      } catch (IOException e) {
        throw new StorageEngineException("Cannot read checkpoint target " + t + ": " + e, e);
      }
      try {
        Files.delete(t); // RocksDB creates the directory itself
      } catch (IOException e) {
        throw new StorageEngineException("Cannot prepare checkpoint target " + t + ": " + e, e);
      }
    }
    progress.report("checkpoint", 0, 1);
    b.call(
        "checkpoint",
        "target " + t,
        () -> {
          try (Checkpoint cp = Checkpoint.create(b.db)) {
            cp.createCheckpoint(t.toString());
          }
          return null;
        });
    try {
      DataDirectory.tightenTree(t);
    } catch (IOException e) {
      throw new StorageEngineException(
          "Checkpoint of "
              + b.describe
              + " into "
              + t
              + " written, but setting 0700/0600 failed: "
              + e,
          e);
    }
    progress.report("checkpoint", 1, 1);
  }

  HealthCheck.Result health() {
    if (b.isClosed()) {
      return HealthCheck.Result.unhealthy(b.describe + " is closed");
    }
    Optional<String> directory = b.dataDirectory.problem();
    if (directory.isPresent()) {
      return HealthCheck.Result.unhealthy(directory.get());
    }
    Optional<String> stopped = b.stoppedProblem();
    if (stopped.isPresent()) {
      return HealthCheck.Result.unhealthy(stopped.get());
    }
    try {
      long errors =
          b.call(
              "health",
              "background errors",
              () -> b.db.getLongProperty("rocksdb.background-errors"));
      if (errors > 0) {
        return HealthCheck.Result.unhealthy(
            b.describe
                + " has "
                + errors
                + " RocksDB background errors (disk full or I/O error?); see its LOG file");
      }
      return HealthCheck.Result.healthy(b.describe + " is open");
    } catch (PersistenceException e) {
      return HealthCheck.Result.unhealthy(e.getMessage());
    }
  }
}
