package io.cairn.routing;

import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.SnapshotInfo;
import io.cairn.persistence.SnapshotStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StorageEngineException;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.spi.Settings;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Rebuilds a route table's derived state — its snapshots — from its change log, for {@code cairn
 * rebuild --route-table}. The table must not be open (the operator's command holds the backend).
 *
 * <ol>
 *   <li>The base is the start of the log when the log still starts at offset 0 (a rebuild from the
 *       log alone), otherwise the oldest retained snapshot the log can be replayed forward from
 *       (older changes were truncated; that snapshot is trusted, and the report says so).
 *   <li>The log is replayed from the base to its end. Every newer retained snapshot is compared,
 *       route by route, with the replayed table at the version it covers; a snapshot that differs
 *       or does not load is reported and deleted once the fresh snapshot is saved.
 *   <li>A snapshot of the replayed table is saved at the log's end (unless an equal one is there
 *       already), then the table is opened by its normal recovery and checked to hold exactly the
 *       replayed routes.
 * </ol>
 *
 * <p>Idempotent: a second run finds nothing to change and writes nothing. Crash safety is the
 * snapshot store's (an atomic save); a bad snapshot is deleted only after the fresh one is durable,
 * so a crash at any point leaves a table that recovers.
 */
public final class RouteTableRebuild {
  private static final int BATCH = 1024;

  private RouteTableRebuild() {}

  /**
   * What a rebuild found and did.
   *
   * @param base the log offset the replay started from
   * @param baseSnapshot whether the base is a snapshot (the log no longer starts at 0)
   * @param end the log's end: the table's version
   * @param replayed log records replayed
   * @param routes routes in the rebuilt table
   * @param mismatches snapshots that disagreed with the log (deleted), with the reason
   * @param snapshotWritten whether a fresh snapshot was saved (false when an equal one existed)
   */
  public record Result(
      String table,
      long base,
      boolean baseSnapshot,
      long end,
      long replayed,
      int routes,
      List<String> mismatches,
      boolean snapshotWritten) {}

  /** Rebuilds table {@code name} of {@code registry} (see the class comment). */
  public static Result run(PersistenceRegistry registry, String name, Progress progress) {
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(progress, "progress");
    List<ConfigProblem> problems = new ArrayList<>();
    RoutingSettings s = RoutingSettings.read(registry.config(), name, problems);
    Settings.throwIfAny(problems);
    StorageBackend backend = registry.backend(s.backend());
    LogStore changes = backend.log(s.storeName());
    SnapshotStore snapshots = backend.snapshots(s.storeName());
    String what = "route table '" + name + "' on backend '" + backend.name() + "'";

    long first = changes.firstOffset();
    long end = changes.nextOffset();
    List<Long> versions = new ArrayList<>();
    for (SnapshotInfo info : snapshots.list()) {
      versions.add(info.version());
    }
    List<String> mismatches = new ArrayList<>();
    List<Long> bad = new ArrayList<>();
    TreeMap<String, Route> table = new TreeMap<>();
    long base = 0;
    boolean baseSnapshot = false;
    if (first > 0) {
      for (long v : versions) {
        if (v < first || v > end) {
          continue;
        }
        try {
          table = load(snapshots, v, what);
          base = v;
          baseSnapshot = true;
          break;
        } catch (StoreCorruptedException e) {
          mismatches.add("snapshot " + v + ": " + e.getMessage());
          bad.add(v);
        }
      }
      if (!baseSnapshot) {
        throw new StoreCorruptedException(
            "Cannot rebuild "
                + what
                + ": the log starts at offset "
                + first
                + " and no retained snapshot covers the changes before it. Restore the backend"
                + " from a backup.");
      }
    }
    long next = base;
    while (next < end) {
      List<LogRecord> batch = changes.read(next, BATCH);
      if (batch.isEmpty()) {
        break;
      }
      for (LogRecord r : batch) {
        if (r.offset() != next) {
          throw new StoreCorruptedException(
              "Log of " + what + " has a gap: expected offset " + next + " but read " + r.offset());
        }
        try {
          RouteFormat.Change c = RouteFormat.decodeChange(r.payload(), r.offset() + 1);
          if (c.route() == null) {
            table.remove(c.key());
          } else {
            table.put(c.key(), c.route());
          }
        } catch (RouteFormat.Corrupt e) {
          throw new StoreCorruptedException(
              "Log record at offset " + r.offset() + " of " + what + " " + e.getMessage());
        }
        next++;
        compareSnapshotAt(next, versions, base, snapshots, table, what, mismatches, bad);
      }
      progress.report("replay", next - base, end - base);
    }
    if (next != end) {
      throw new StoreCorruptedException(
          "Log of " + what + " ended at offset " + next + " while it reports its end at " + end);
    }
    if (base == end) {
      compareSnapshotAt(end, versions, -1, snapshots, table, what, mismatches, bad);
    }
    boolean write = !versions.contains(end) || bad.contains(end);
    if (write) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try {
        RouteFormat.writeSnapshot(out, end, table);
      } catch (IOException e) {
        throw new IllegalStateException("in-memory snapshot encoding failed", e);
      }
      snapshots.save(end, out.toByteArray());
    }
    for (long v : bad) {
      if (v != end) {
        snapshots.delete(v);
      }
    }
    try (RouteTable opened = RouteTable.open(registry, name)) {
      if (!opened.routes().equals(table)) {
        throw new StoreCorruptedException(
            "After rebuilding "
                + what
                + " its recovery gives "
                + opened.size()
                + " routes, the log "
                + table.size()
                + ": run 'cairn verify' and restore from a backup");
      }
    }
    return new Result(
        name, base, baseSnapshot, end, next - base, table.size(), List.copyOf(mismatches), write);
  }

  private static void compareSnapshotAt(
      long covered,
      List<Long> versions,
      long base,
      SnapshotStore snapshots,
      Map<String, Route> table,
      String what,
      List<String> mismatches,
      List<Long> bad) {
    if (covered == base || !versions.contains(covered) || bad.contains(covered)) {
      return;
    }
    try {
      TreeMap<String, Route> stored = load(snapshots, covered, what);
      if (!stored.equals(table)) {
        mismatches.add(
            "snapshot "
                + covered
                + ": holds "
                + stored.size()
                + " routes, the log gives "
                + table.size()
                + (stored.size() == table.size() ? " (contents differ)" : ""));
        bad.add(covered);
      }
    } catch (StoreCorruptedException e) {
      mismatches.add("snapshot " + covered + ": " + e.getMessage());
      bad.add(covered);
    }
  }

  private static TreeMap<String, Route> load(SnapshotStore snapshots, long v, String what) {
    TreeMap<String, Route> routes = new TreeMap<>();
    try (InputStream in = snapshots.load(v)) {
      RouteFormat.readSnapshot(in, v, routes::put);
      return routes;
    } catch (RouteFormat.Corrupt e) {
      throw new StoreCorruptedException(
          "Snapshot version " + v + " of " + what + " " + e.getMessage());
    } catch (NoSuchElementException e) {
      throw new StoreCorruptedException("Snapshot version " + v + " of " + what + " vanished");
    } catch (IOException e) {
      throw new StorageEngineException(
          "Reading snapshot version " + v + " of " + what + " failed: " + e, e);
    }
  }
}
