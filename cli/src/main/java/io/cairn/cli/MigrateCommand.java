package io.cairn.cli;

import com.typesafe.config.Config;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.spi.EventType;
import io.cairn.persistence.spi.Events;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cairn migrate --from A --to B}: every store of backend A copied exactly into backend B
 * (any two types; B must offer the {@code Importer}), then verified store by store (see {@link
 * Transfer}). A is opened for reading (read-only beside a running service), B for writing. Emits a
 * {@code migration} event with counts and duration, never keys or values.
 */
@Command(
    name = "migrate",
    mixinStandardHelpOptions = true,
    description = {
      "Copy every store of one configured backend into another (e.g. SQLite to RocksDB),",
      "exactly: versions, expiry instants, offsets, append times, snapshot versions. The",
      "target's stores must be empty. Afterwards every store's count and checksum are",
      "compared on both sides and printed; exit 1 if any differs."
    },
    footer = {"", "Example:", "  cairn migrate --config app.conf --from main --to fast"})
final class MigrateCommand implements Callable<Integer> {
  @Mixin ConfigOption config;

  @Option(names = "--from", required = true, paramLabel = "A", description = "Source backend.")
  String fromName;

  @Option(names = "--to", required = true, paramLabel = "B", description = "Target backend.")
  String toName;

  @Option(
      names = "--lock-timeout",
      paramLabel = "DURATION",
      description = "How long to wait for the target's lock (default: its lock-timeout).")
  String lockTimeout;

  @Option(names = "--json", description = "Print the result as JSON.")
  boolean json;

  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    Config loaded = config.load();
    Cli.requireBackend(loaded, fromName);
    Cli.requireBackend(loaded, toName);
    if (fromName.equals(toName)) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--from and --to name the same backend '" + fromName + "'");
    }
    Duration wait = lockTimeout == null ? null : Cli.duration(spec, "--lock-timeout", lockTimeout);
    try (PersistenceRegistry source =
            Cli.openForReading(Cli.only(loaded, fromName), spec.commandLine().getErr());
        PersistenceRegistry target = Cli.openForWriting(Cli.only(loaded, toName), wait)) {
      StorageBackend from = source.backend(fromName);
      StorageBackend to = target.backend(toName);
      Transfer.Result r;
      try (ProgressPrinter progress = Cli.progress(spec, "migrate", json)) {
        r = Transfer.migrate(from, to, progress);
      }
      emit(target, "migrate", fromName, to, r);
      print(
          spec,
          json,
          "Migrated " + ImportCommand.describe(from) + " to " + ImportCommand.describe(to),
          r);
      return r.verified() ? CairnCommand.OK : CairnCommand.PROBLEMS;
    }
  }

  /** The {@code migration} event: counts, sizes, duration and the verdict; never keys or values. */
  static void emit(
      PersistenceRegistry registry,
      String kind,
      String from,
      StorageBackend to,
      Transfer.Result r) {
    Events events = registry.events();
    if (!events.enabled()) {
      return;
    }
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("kind", kind);
    f.put("from", from);
    f.put("to", to.name());
    f.put("to-type", to.type());
    f.put("stores", r.checks().size());
    f.put("entries", r.entries());
    f.put("records", r.records());
    f.put("snapshots", r.snapshots());
    f.put("snapshot-bytes", r.snapshotBytes());
    f.put("duration-ms", r.durationMillis());
    f.put("verified", r.verified());
    events.emit(EventType.MIGRATION, to.name(), f);
  }

  /** The store-by-store table, or JSON. */
  static void print(
      CommandLine.Model.CommandSpec spec, boolean json, String title, Transfer.Result r) {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    for (String note : r.notes()) {
      err.println("cairn: note: " + note);
    }
    err.flush();
    if (json) {
      JsonWriter w = new JsonWriter(out);
      w.beginObject()
          .name("verified")
          .value(r.verified())
          .name("entries")
          .value(r.entries())
          .name("records")
          .value(r.records())
          .name("snapshots")
          .value(r.snapshots())
          .name("durationMs")
          .value(r.durationMillis())
          .name("stores")
          .beginArray();
      for (Transfer.Check c : r.checks()) {
        w.beginObject()
            .name("kind")
            .value(c.store().kind().shortName())
            .name("name")
            .value(c.store().name())
            .name("sourceItems")
            .value(c.sourceItems())
            .name("targetItems")
            .value(c.targetItems())
            .name("sourceCrc32c")
            .value(String.format("%08x", c.sourceCrc()))
            .name("targetCrc32c")
            .value(String.format("%08x", c.targetCrc()))
            .name("ok")
            .value(c.ok())
            .endObject();
      }
      w.endArray().name("notes").beginArray();
      for (String note : r.notes()) {
        w.value(note);
      }
      w.endArray().endObject().finish();
    } else {
      out.printf(
          "%s: %d entries, %d log records, %d snapshots in %d ms%n",
          title, r.entries(), r.records(), r.snapshots(), r.durationMillis());
      out.printf(
          "  %-40s %12s %12s %9s %9s  %s%n",
          "store", "source", "target", "src crc", "dst crc", "check");
      for (Transfer.Check c : r.checks()) {
        out.printf(
            "  %-40s %12d %12d %08x  %08x  %s%n",
            PortableStream.show(c.store()),
            c.sourceItems(),
            c.targetItems(),
            c.sourceCrc(),
            c.targetCrc(),
            c.ok() ? "ok" : "MISMATCH");
      }
      out.println(
          r.verified()
              ? "Verified: every store has the same count and checksum on both sides."
              : "NOT verified: the stores marked MISMATCH differ (an entry whose TTL ran out"
                  + " during the copy is invisible on the target; otherwise discard the target and"
                  + " run again).");
    }
    out.flush();
  }
}
