package io.cairn.cli;

import io.cairn.persistence.PersistenceRegistry;
import io.cairn.queue.DurableQueue;
import io.cairn.queue.QueueInspector;
import io.cairn.queue.QueueStats;
import io.cairn.routing.RouteTableRebuild;
import java.io.PrintWriter;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cairn rebuild}: state derived from a log, rebuilt from that log and checked.
 *
 * <ul>
 *   <li>{@code --route-table NAME}: a route table's snapshots are derived from its change log;
 *       {@link RouteTableRebuild} replays the log, checks every retained snapshot against it,
 *       replaces any that disagrees and saves a fresh one at the log's end.
 *   <li>{@code --queue NAME}: a queue's index is never persisted; every open rebuilds it from the
 *       message log and the state records. This runs that recovery and checks the recovered index
 *       accounts for every stored message (unfinished plus dead-lettered, counted from the stores).
 * </ul>
 *
 * Both are idempotent: a second run finds the same state and changes nothing. Both open the
 * subsystem, so the service using it must be stopped.
 */
@Command(
    name = "rebuild",
    mixinStandardHelpOptions = true,
    header = "Rebuild state derived from a log, and check it.",
    description = {
      "Rebuild a route table's snapshots from its change log (checking every",
      "retained snapshot against the log and replacing one that disagrees), or run",
      "a queue's recovery, which rebuilds its index from its log, and check the",
      "result against the stored records. Idempotent; shows progress.",
      "Exit codes: 0 consistent, 1 something disagreed (and was repaired),",
      "2 usage or configuration error.",
      "",
      "Example: cairn rebuild --route-table catalog --config app.conf"
    })
final class RebuildCommand implements Callable<Integer> {
  @Mixin ConfigOption config;

  /** Exactly one target. */
  static final class Target {
    @Option(
        names = "--route-table",
        paramLabel = "NAME",
        required = true,
        description = "A route table.")
    String routeTable;

    @Option(names = "--queue", paramLabel = "NAME", required = true, description = "A queue.")
    String queue;
  }

  @ArgGroup(multiplicity = "1")
  Target target;

  @Option(names = "--json", description = "Print JSON instead of text.")
  boolean json;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    ProgressPrinter progress = Cli.progress(spec, "rebuild", json);
    try (PersistenceRegistry registry = Cli.openForWriting(config.load(), null)) {
      return target.routeTable != null ? routeTable(registry, out, progress) : queue(registry, out);
    } finally {
      out.flush();
    }
  }

  private int routeTable(PersistenceRegistry registry, PrintWriter out, ProgressPrinter progress) {
    RouteTableRebuild.Result r = RouteTableRebuild.run(registry, target.routeTable, progress);
    if (json) {
      JsonWriter w =
          new JsonWriter(out)
              .beginObject()
              .name("routeTable")
              .value(r.table())
              .name("replayedFrom")
              .value(r.baseSnapshot() ? "snapshot" : "log-start")
              .name("base")
              .value(r.base())
              .name("version")
              .value(r.end())
              .name("replayed")
              .value(r.replayed())
              .name("routes")
              .value(r.routes())
              .name("snapshotWritten")
              .value(r.snapshotWritten())
              .name("mismatches")
              .beginArray();
      r.mismatches().forEach(w::value);
      w.endArray().endObject().finish();
    } else {
      out.printf(
          "Route table %s: replayed %d change(s) from %s %d to version %d: %d routes.%n",
          r.table(),
          r.replayed(),
          r.baseSnapshot() ? "the oldest usable snapshot at" : "the log's start,",
          r.base(),
          r.end(),
          r.routes());
      r.mismatches().forEach(m -> out.println("  replaced: " + m));
      out.println(
          r.snapshotWritten()
              ? "  saved a fresh snapshot at version " + r.end()
              : "  the snapshot at version " + r.end() + " already matched; nothing written");
    }
    return r.mismatches().isEmpty() ? CairnCommand.OK : CairnCommand.PROBLEMS;
  }

  private int queue(PersistenceRegistry registry, PrintWriter out) {
    String name = target.queue;
    QueueStats recovered;
    QueueInspector.Inspection stored;
    try (DurableQueue<byte[]> q = DurableQueue.openRaw(registry, name)) {
      recovered = q.stats();
      stored =
          QueueInspector.inspect(
              registry.backend(q.backendName()), name, 0, false, Clock.systemUTC());
    }
    long indexed = recovered.depth() + recovered.inFlight() + recovered.deadLetters();
    long counted = stored.pending() + stored.delayed() + stored.leased() + stored.deadLetters();
    boolean consistent = indexed == counted;
    if (json) {
      new JsonWriter(out)
          .beginObject()
          .name("queue")
          .value(name)
          .name("waiting")
          .value(recovered.depth())
          .name("inFlight")
          .value(recovered.inFlight())
          .name("deadLetters")
          .value(recovered.deadLetters())
          .name("storedUnfinishedAndDead")
          .value(counted)
          .name("consistent")
          .value(consistent)
          .endObject()
          .finish();
    } else {
      out.printf(
          "Queue %s: index rebuilt from log [%d, %d): %d waiting, %d in flight, %d dead letters;"
              + " the stores hold %d unfinished or dead: %s%n",
          name,
          stored.floor(),
          stored.end(),
          recovered.depth(),
          recovered.inFlight(),
          recovered.deadLetters(),
          counted,
          consistent ? "consistent" : "MISMATCH (run 'cairn verify')");
    }
    return consistent ? CairnCommand.OK : CairnCommand.PROBLEMS;
  }
}
