package io.cairn.cli;

import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValueFactory;
import io.cairn.persistence.BackendStats;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreStats;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
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
    description = "Show backends, stores, entry counts and sizes.")
final class InspectCommand implements Callable<Integer> {
  @Mixin ConfigOption config;

  @Option(names = "--json", description = "Print JSON instead of a table.")
  boolean json;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    try (PersistenceRegistry registry = PersistenceRegistry.open(config.load())) {
      List<Object> backends = new ArrayList<>();
      for (String name : registry.backendNames()) {
        StorageBackend backend = registry.backend(name);
        BackendStats stats = backend.stats();
        if (json) {
          backends.add(toMap(backend, stats));
        } else {
          printTable(out, backend, stats);
        }
      }
      if (json) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("backends", backends);
        out.println(
            ConfigValueFactory.fromMap(root)
                .render(ConfigRenderOptions.concise().setJson(true).setFormatted(true)));
      }
    }
    out.flush();
    return CairnCommand.OK;
  }

  private static Map<String, Object> toMap(StorageBackend backend, BackendStats stats) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", stats.backend());
    m.put("type", stats.type());
    m.put("durability", backend.durability().configName());
    m.put("diskBytes", stats.diskBytes());
    List<Object> stores = new ArrayList<>();
    for (StoreStats s : stats.stores()) {
      Map<String, Object> sm = new LinkedHashMap<>();
      sm.put("kind", s.store().kind().shortName());
      sm.put("name", s.store().name());
      sm.put("entries", s.entries());
      sm.put("bytes", s.bytes());
      stores.add(sm);
    }
    m.put("stores", stores);
    m.put("properties", new LinkedHashMap<>(stats.properties()));
    return m;
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
