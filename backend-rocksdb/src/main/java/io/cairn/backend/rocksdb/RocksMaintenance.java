package io.cairn.backend.rocksdb;

import com.codahale.metrics.health.HealthCheck;
import io.cairn.persistence.BackendClosedException;
import io.cairn.persistence.BackendStats;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.StoreStats;
import io.cairn.persistence.VerifyReport;
import io.cairn.persistence.spi.Sealer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
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

  private final RocksDbBackend b;
  private final RocksUpkeep upkeep;
  private ScheduledExecutorService sweeper;

  RocksMaintenance(RocksDbBackend backend) {
    this.b = backend;
    this.upkeep = new RocksUpkeep(backend);
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

  long directorySize() {
    return upkeep.directorySize();
  }

  void registerGauges() {
    upkeep.registerGauges();
  }

  void removeGauges() {
    upkeep.removeGauges();
  }

  void startAnchorBeat() {
    upkeep.startAnchorBeat();
  }

  void checkpoint(Path target, Progress progress) {
    upkeep.checkpoint(target, progress);
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

  /** Stops both background jobs, waiting for a running pass to end. */
  void stopBackgroundJobs() {
    upkeep.stopAnchorBeat();
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

  HealthCheck.Result health() {
    return upkeep.health();
  }
}
