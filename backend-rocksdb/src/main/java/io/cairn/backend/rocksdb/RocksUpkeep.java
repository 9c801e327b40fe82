package io.cairn.backend.rocksdb;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.health.HealthCheck;
import io.cairn.persistence.Durability;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StorageEngineException;
import io.cairn.persistence.spi.DataDirectory;
import java.io.IOException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.rocksdb.Checkpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What any RocksDB engine of this module keeps up beside its data, whatever its layout: the engine
 * gauges, the {@link Anchor} beat, the directory size, online checkpoints and the engine's health.
 * Used by {@link RocksStorageEngine}. Every engine access goes through the guard of {@link
 * RocksEngine}.
 */
final class RocksUpkeep {
  private static final Logger LOG = LoggerFactory.getLogger(RocksUpkeep.class);

  /** How often the anchor follows the WAL while writes happen (see {@link #startAnchorBeat}). */
  static final long ANCHOR_BEAT_MILLIS = Long.getLong("cairn.rocksdb.anchor-interval-ms", 200);

  private final RocksEngine b;
  private final List<String> gaugeNames = new ArrayList<>();
  private ScheduledExecutorService anchorBeat;
  private volatile long anchoredSequence = -1;
  // why the last beat could not record the anchor (null: the last one that wrote succeeded)
  private volatile String anchorProblem;

  RocksUpkeep(RocksEngine engine) {
    this.b = engine;
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

  /** A single daemon thread for one background job; it never keeps the JVM alive. */
  private static ScheduledExecutorService daemonScheduler(String threadName) {
    return Executors.newSingleThreadScheduledExecutor(
        r -> {
          Thread t = new Thread(r, threadName);
          t.setDaemon(true);
          return t;
        });
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
    anchorBeat = daemonScheduler("cairn-rocksdb-anchor-" + b.context.name());
    anchorBeat.scheduleWithFixedDelay(
        this::anchorBeatOnce, ANCHOR_BEAT_MILLIS, ANCHOR_BEAT_MILLIS, TimeUnit.MILLISECONDS);
  }

  /** One beat (the scheduler's job; tests call it directly). */
  void anchorBeatOnce() {
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
              if (anchorProblem != null) {
                anchorProblem = null;
                LOG.info("{}: records its state in {} again", b.describe, Anchor.FILE);
              }
            } catch (ClosedByInterruptException e) {
              // close's stopAnchorBeat interrupted this beat: not a fault of the file system, and
              // close records the anchor itself (writeAnchor), deleting the temporary file first
              Thread.currentThread().interrupt();
            } catch (IOException e) {
              anchorFailed(seq, e);
            }
            return null;
          });
    } catch (RuntimeException e) {
      // closed, restarting or failing: the next beat (or close) tries again
    }
  }

  /**
   * A beat could not write the anchor: the writes after {@link #anchoredSequence} are then not
   * covered by it (a WAL cut after a crash would take them without the open noticing). Logged at
   * WARN once per streak of failures and reported by {@link #health()} until a beat succeeds; the
   * writes themselves are unaffected, so they go on.
   */
  private void anchorFailed(long seq, IOException e) {
    boolean first = anchorProblem == null;
    anchorProblem =
        b.describe
            + " cannot record its state in "
            + b.dir.resolve(Anchor.FILE)
            + " ("
            + e
            + "): writes after sequence "
            + anchoredSequence
            + " (now "
            + seq
            + ") are not covered by the check that refuses an open whose WAL or MANIFEST lost"
            + " acknowledged writes; free space or fix the directory's permissions (retried every "
            + ANCHOR_BEAT_MILLIS
            + " ms)";
    if (first) {
      LOG.warn("{}", anchorProblem);
    } else {
      LOG.debug("{}: recording its state failed again: {}", b.describe, e.toString());
    }
  }

  void stopAnchorBeat() {
    if (anchorBeat != null) {
      anchorBeat.shutdownNow();
      try {
        anchorBeat.awaitTermination(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
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
    String anchor = anchorProblem;
    if (anchor != null) {
      return HealthCheck.Result.unhealthy(anchor);
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
