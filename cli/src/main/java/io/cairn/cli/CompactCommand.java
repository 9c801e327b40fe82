package io.cairn.cli;

import com.typesafe.config.Config;
import io.cairn.persistence.BackendStats;
import io.cairn.persistence.Maintenance;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.RetentionFloors;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.StoreStats;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cairn compact}: purges expired entries of every key-value namespace, applies the backend's
 * log retention ({@code maintenance.retention}, through {@link Maintenance#retainNow()}: the limits
 * and floors of the background task), then runs the engine's compaction ({@link
 * StorageBackend#compact}: SQLite incremental vacuum, RocksDB full compaction), and prints what it
 * removed per log and the disk size before and after. A writing command: it takes the backend's
 * lock, waiting up to {@code --lock-timeout}.
 *
 * <p>The logs of queues ({@code queue.<name>}) and of route tables ({@code routing.<name>}) trim
 * themselves to what their recovery needs and register a retention floor when they are open; they
 * are not open in this process, so the command registers the same floors for them (retention leaves
 * them whole, as in the service) and says so.
 */
@Command(
    name = "compact",
    mixinStandardHelpOptions = true,
    description = {
      "Reclaim space: purge expired entries, apply the backend's log retention",
      "(maintenance.retention), then compact the engine's files; prints what was removed",
      "per log and the sizes before and after. Needs the backend's lock (stop the service, or let the",
      "service's own maintenance do it)."
    },
    footer = {
      "",
      "Example:",
      "  cairn compact --config app.conf --backend main --lock-timeout 30s"
    })
final class CompactCommand implements Callable<Integer> {
  @Mixin ConfigOption config;
  @Mixin BackendOption backendOption;

  @Option(
      names = "--lock-timeout",
      paramLabel = "DURATION",
      description =
          "How long to wait for the backend's lock, e.g. 30s (default: its lock-timeout).")
  String lockTimeout;

  @Option(names = "--json", description = "Print the result as JSON.")
  boolean json;

  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    Config loaded = config.load();
    String name = backendOption.resolve(loaded);
    var wait = lockTimeout == null ? null : Cli.duration(spec, "--lock-timeout", lockTimeout);
    long before;
    long after;
    long purged = 0;
    String type;
    Map<String, Long> retained = Map.of();
    Map<String, String> protectedLogs = new LinkedHashMap<>();
    Map<String, StoreStats> logsBefore = Map.of();
    Map<String, StoreStats> logsAfter = Map.of();
    try (PersistenceRegistry registry = Cli.openForWriting(Cli.only(loaded, name), wait)) {
      StorageBackend backend = registry.backend(name);
      type = backend.type();
      before = backend.stats().diskBytes();
      try (ProgressPrinter progress = Cli.progress(spec, "compact " + name, json)) {
        List<StoreId> kv = new ArrayList<>();
        for (StoreId id : backend.stores()) {
          if (id.kind() == StoreKind.KEY_VALUE) {
            kv.add(id);
          }
        }
        for (int i = 0; i < kv.size(); i++) {
          purged += backend.keyValue(kv.get(i).name()).purgeExpired();
          progress.report("purge expired", i + 1, kv.size());
        }
        Maintenance maintenance = registry.maintenance(name);
        if (!maintenance.retentionLogs().isEmpty()) {
          for (String log : maintenance.retentionLogs()) {
            String owner = owner(log);
            if (owner != null) {
              protectedLogs.put(log, owner);
              backend.extension(RetentionFloors.class).orElseThrow().register(log, () -> 0);
            }
          }
          logsBefore = logStats(backend);
          progress.report("log retention", 0, 1);
          retained = maintenance.retainNow();
          progress.report("log retention", 1, 1);
          logsAfter = logStats(backend);
        }
        backend.compact(progress);
      }
      BackendStats stats = backend.stats();
      after = stats.diskBytes();
    }
    if (json) {
      JsonWriter w =
          new JsonWriter(out)
              .beginObject()
              .name("backend")
              .value(name)
              .name("type")
              .value(type)
              .name("expiredPurged")
              .value(purged)
              .name("retention")
              .beginArray();
      for (Map.Entry<String, Long> e : retained.entrySet()) {
        StoreStats b = logsBefore.get(e.getKey());
        StoreStats a = logsAfter.get(e.getKey());
        w.beginObject()
            .name("log")
            .value(e.getKey())
            .name("removed")
            .value(e.getValue())
            .name("recordsBefore")
            .value(b == null ? -1 : b.entries())
            .name("recordsAfter")
            .value(a == null ? -1 : a.entries())
            .name("bytesBefore")
            .value(b == null ? -1 : b.bytes())
            .name("bytesAfter")
            .value(a == null ? -1 : a.bytes())
            .name("keptBy")
            .value(protectedLogs.get(e.getKey()))
            .endObject();
      }
      w.endArray()
          .name("diskBytesBefore")
          .value(before)
          .name("diskBytesAfter")
          .value(after)
          .endObject()
          .finish();
    } else {
      for (Map.Entry<String, Long> e : retained.entrySet()) {
        StoreStats b = logsBefore.get(e.getKey());
        StoreStats a = logsAfter.get(e.getKey());
        String owner = protectedLogs.get(e.getKey());
        out.printf(
            "Retention of log '%s': %d record%s removed, %s -> %s records, %s -> %s%s%n",
            e.getKey(),
            e.getValue(),
            e.getValue() == 1 ? "" : "s",
            b == null ? "?" : Long.toString(b.entries()),
            a == null ? "?" : Long.toString(a.entries()),
            b == null || b.bytes() < 0 ? "n/a" : Sizes.human(b.bytes()),
            a == null || a.bytes() < 0 ? "n/a" : Sizes.human(a.bytes()),
            owner == null ? "" : " (kept whole: " + owner + " trims its own log)");
      }
      out.printf(
          "Compacted %s backend '%s': %d expired entr%s purged; disk %s -> %s%n",
          type,
          name,
          purged,
          purged == 1 ? "y" : "ies",
          before < 0 ? "n/a" : Sizes.human(before),
          after < 0 ? "n/a" : Sizes.human(after));
    }
    out.flush();
    return CairnCommand.OK;
  }

  /**
   * The subsystem that owns log {@code log} and trims it itself, or null: Cairn's queues keep their
   * log as {@code queue.<name>}, route tables as {@code routing.<name>} (the names QueueLog and
   * RoutingSettings give them; their other stores may not exist yet, so the prefix decides). A user
   * log that happens to carry such a name is kept whole too: the safe side, and said so.
   */
  static String owner(String log) {
    if (log.startsWith("queue.")) {
      return "queue '" + log.substring("queue.".length()) + "'";
    }
    if (log.startsWith("routing.")) {
      return "route table '" + log.substring("routing.".length()) + "'";
    }
    return null;
  }

  /** Records and bytes of every log, by name. */
  private static Map<String, StoreStats> logStats(StorageBackend backend) {
    Map<String, StoreStats> logs = new LinkedHashMap<>();
    for (StoreStats s : backend.stats().stores()) {
      if (s.store().kind() == StoreKind.LOG) {
        logs.put(s.store().name(), s);
      }
    }
    return logs;
  }
}
