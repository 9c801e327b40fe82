package io.cairn.cli;

import com.typesafe.config.Config;
import io.cairn.persistence.BackendStats;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cairn compact}: purges expired entries of every key-value namespace, then runs the
 * engine's compaction ({@link StorageBackend#compact}: SQLite incremental vacuum, RocksDB full
 * compaction), and prints the disk size before and after. A writing command: it takes the backend's
 * lock, waiting up to {@code --lock-timeout}.
 */
@Command(
    name = "compact",
    mixinStandardHelpOptions = true,
    description = {
      "Reclaim space: purge expired entries, then compact the engine's files; prints the",
      "sizes before and after. Needs the backend's lock (stop the service, or let the",
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
        // Log retention joins here once the maintenance API (cairn.backends.*.maintenance) offers
        // a one-shot run; until then logs keep every record and compact does not truncate them.
        backend.compact(progress);
      }
      BackendStats stats = backend.stats();
      after = stats.diskBytes();
    }
    if (json) {
      new JsonWriter(out)
          .beginObject()
          .name("backend")
          .value(name)
          .name("type")
          .value(type)
          .name("expiredPurged")
          .value(purged)
          .name("diskBytesBefore")
          .value(before)
          .name("diskBytesAfter")
          .value(after)
          .endObject()
          .finish();
    } else {
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
}
