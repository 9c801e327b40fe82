package io.cairn.cli;

import io.cairn.persistence.BackendStats;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreStats;
import io.cairn.persistence.spi.BackendStatsJson;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code cairn inspect}: backends, their stores, counts and sizes, as a table or JSON. */
@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    description = {
      "Show backends, stores, entry counts and sizes. Beside a running service that holds a",
      "backend's lock, reads it read-only (never disturbing the service)."
    },
    footer = {"", "Example:", "  cairn inspect --config app.conf --json"})
final class InspectCommand implements Callable<Integer> {
  @Mixin ConfigOption config;

  @Option(names = "--json", description = "Print JSON instead of a table.")
  boolean json;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    try (PersistenceRegistry registry =
        Cli.openForReading(config.load(), spec.commandLine().getErr())) {
      if (json) {
        // streamed: nothing is built in memory beyond the stats each backend returns
        JsonWriter w = new JsonWriter(out);
        BackendStatsJson.writeAll(w.spi(), registry);
        w.finish();
      } else {
        for (String name : registry.backendNames()) {
          StorageBackend backend = registry.backend(name);
          printTable(out, backend, backend.stats());
        }
      }
    }
    out.flush();
    return CairnCommand.OK;
  }

  private static void printTable(PrintWriter out, StorageBackend backend, BackendStats stats) {
    out.printf(
        "Backend %s  type=%s  durability=%s  disk=%s%n",
        stats.backend(),
        stats.type(),
        backend.durability().configName(),
        stats.diskBytes() < 0 ? "n/a" : Sizes.human(stats.diskBytes()));
    if (stats.stores().isEmpty()) {
      out.println("  (no stores)");
    } else {
      out.printf("  %-9s %-32s %12s %12s%n", "KIND", "STORE", "ENTRIES", "BYTES");
      for (StoreStats s : stats.stores()) {
        out.printf(
            "  %-9s %-32s %12s %12s%n",
            s.store().kind().shortName(),
            s.store().name(),
            s.entries() < 0 ? "?" : Long.toString(s.entries()),
            s.bytes() < 0 ? "?" : Sizes.human(s.bytes()));
      }
    }
    stats.properties().entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(e -> out.printf("  %s = %s%n", e.getKey(), e.getValue()));
    out.println();
  }
}
