package io.cairn.cli;

import io.cairn.persistence.PersistenceRegistry;
import io.cairn.routing.Route;
import io.cairn.routing.RouteTable;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code cairn route}: route tables ({@code cairn-routing}); {@code dump} prints every route. */
@Command(
    name = "route",
    mixinStandardHelpOptions = true,
    description = "Route tables: dump.",
    subcommands = {RouteCommand.Dump.class})
final class RouteCommand extends CommandGroup {

  @Command(
      name = "dump",
      mixinStandardHelpOptions = true,
      header = "Print every route of a route table.",
      description = {
        "Print every route of a table in key order with its version, policy,",
        "targets and metadata, after the table's normal recovery (snapshot plus",
        "log). Opens the table, so the service using it must be stopped.",
        "",
        "Example: cairn route dump catalog --config app.conf --json"
      })
  static final class Dump extends SubsystemCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "TABLE", description = "The route table name.")
    String table;

    @Override
    public Integer call() {
      PrintWriter out = out();
      try (PersistenceRegistry registry = openForWriting();
          RouteTable t = RouteTable.open(registry, table)) {
        JsonWriter w =
            json
                ? new JsonWriter(out)
                    .beginObject()
                    .name("table")
                    .value(table)
                    .name("version")
                    .value(t.version())
                    .name("routes")
                    .beginArray()
                : null;
        if (w == null) {
          out.printf("Route table %s: %d routes, version %d%n", table, t.size(), t.version());
        }
        for (Route r : t.routes().values()) {
          if (w != null) {
            w.beginObject()
                .name("key")
                .value(r.key())
                .name("version")
                .value(r.version())
                .name("policy")
                .value(r.policy().name())
                .name("targets")
                .beginArray();
            for (Route.Target target : r.targets()) {
              w.beginObject()
                  .name("address")
                  .value(target.address())
                  .name("weight")
                  .value(target.weight())
                  .endObject();
            }
            w.endArray().name("metadata").beginObject();
            for (Map.Entry<String, String> m : r.metadata().entrySet()) {
              w.name(m.getKey()).value(m.getValue());
            }
            w.endObject().endObject();
          } else {
            StringBuilder targets = new StringBuilder();
            for (Route.Target target : r.targets()) {
              targets.append(targets.length() == 0 ? "" : ", ");
              targets.append(target.address()).append('*').append(target.weight());
            }
            out.printf(
                "  %-32s v%-8d %-12s %s%s%n",
                r.key().isEmpty() ? "\"\"" : r.key(),
                r.version(),
                r.policy().name(),
                targets,
                r.metadata().isEmpty() ? "" : "  " + r.metadata());
          }
        }
        if (w != null) {
          w.endArray().endObject().finish();
        }
      }
      out.flush();
      return CairnCommand.OK;
    }
  }
}
