package io.cairn.cli;

import io.cairn.encryption.Rekey;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.ResealReport;
import io.cairn.persistence.StoreId;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cairn rekey}: re-encrypts every value, log record and snapshot chunk of one encrypted
 * backend under its keyset's primary key ({@link Rekey#run}). Safe to interrupt and run again: what
 * is already under the primary key is skipped. A writing command: it takes the backend's lock,
 * waiting up to {@code --lock-timeout} (exit 3 naming the holder when the wait ends).
 */
@Command(
    name = "rekey",
    mixinStandardHelpOptions = true,
    description = {
      "Re-encrypt one backend's values, log records and snapshot chunks under the primary key of"
          + " its keyset. Run it after rotating the keyset and before revoking the old key. It"
          + " keeps versions, expiry times and offsets; it may be interrupted and run again.",
    },
    footer = {"", "Example:", "  cairn rekey --config app.conf --backend main --lock-timeout 30s"})
final class RekeyCommand implements Callable<Integer> {
  @Mixin ConfigOption config;

  @Option(
      names = "--backend",
      required = true,
      paramLabel = "NAME",
      description = "The encrypted backend to re-encrypt (a name under cairn.backends).")
  String backend;

  @Option(
      names = "--lock-timeout",
      paramLabel = "DURATION",
      description =
          "How long to wait for the backend's lock, e.g. 30s (default: its lock-timeout).")
  String lockTimeout;

  @Option(names = "--json", description = "Print JSON instead of a table.")
  boolean json;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    var wait = lockTimeout == null ? null : Cli.duration(spec, "--lock-timeout", lockTimeout);
    // a writing command: waits for each lock up to --lock-timeout, then exit 3 naming the holder
    try (PersistenceRegistry registry = Cli.openForWriting(config.load(), wait)) {
      if (!registry.backendNames().contains(backend)) {
        throw new ConfigurationException(
            "No backend '"
                + backend
                + "' in the configuration; its backends: "
                + registry.backendNames());
      }
      ResealReport report;
      try (ProgressPrinter progress = Cli.progress(spec, "rekey", json)) {
        report = Rekey.run(registry, backend, progress);
      }
      long checked = 0;
      long resealed = 0;
      for (ResealReport.Counts c : report.stores().values()) {
        checked += c.checked();
        resealed += c.resealed();
      }
      if (json) {
        JsonWriter w = new JsonWriter(out);
        w.beginObject().name("backend").value(backend).name("stores").beginArray();
        for (Map.Entry<StoreId, ResealReport.Counts> e : report.stores().entrySet()) {
          w.beginObject()
              .name("kind")
              .value(e.getKey().kind().shortName())
              .name("name")
              .value(e.getKey().name())
              .name("checked")
              .value(e.getValue().checked())
              .name("reencrypted")
              .value(e.getValue().resealed())
              .endObject();
        }
        w.endArray()
            .name("checked")
            .value(checked)
            .name("reencrypted")
            .value(resealed)
            .endObject()
            .finish();
      } else {
        out.printf("  %-9s %-32s %12s %12s%n", "KIND", "STORE", "CHECKED", "RE-ENCRYPTED");
        report
            .stores()
            .forEach(
                (id, c) ->
                    out.printf(
                        "  %-9s %-32s %12d %12d%n",
                        id.kind().shortName(), id.name(), c.checked(), c.resealed()));
        out.printf(
            "Backend %s: %d records checked, %d re-encrypted; nothing needs an older key now.%n",
            backend, checked, resealed);
      }
    }
    out.flush();
    return CairnCommand.OK;
  }
}
