package io.cairn.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValueFactory;
import io.cairn.persistence.BackendConfigValidator;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.spi.Bytes;
import io.cairn.raft.RaftGroups;
import io.cairn.raft.RaftInspection;
import io.cairn.raft.RaftStorage;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code cairn raft}: Raft group storage ({@code cairn-raft}). Its one subcommand, {@code inspect},
 * shows what a group has stored — term, vote, endpoint, membership, log bounds, the last entries
 * (index, term, size, CRC-32C; never payloads), snapshots with sizes, entries a crash left for
 * cleanup, damage — as text or {@code --json}.
 *
 * <p>Read-only: it opens only the group's backend, and only when its data directory holds data
 * (opening would otherwise create it); the Raft layer runs no cleanup ({@link
 * RaftStorage#inspect}). The backend's own open does what every open does (its engine recovery).
 * Like every command it cannot open a backend a running service holds (the directory lock).
 */
@Command(
    name = "raft",
    mixinStandardHelpOptions = true,
    description = "Raft group storage (cairn-raft).",
    subcommands = {RaftCommand.Inspect.class})
final class RaftCommand extends CommandGroup {

  @Command(
      name = "inspect",
      mixinStandardHelpOptions = true,
      header = "Show a Raft group's stored state.",
      description = {
        "Show a Raft group's stored state: term, vote, endpoint, membership,",
        "log bounds, the last entries (sizes and CRC-32C, never payloads) and",
        "snapshots with sizes. Changes nothing.",
        "Exit codes: 0 healthy, 1 damage found, 2 configuration or usage error",
        "(e.g. no such group)."
      })
  static final class Inspect extends SubsystemCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "GROUP", description = "The Raft group name.")
    String group;

    @Option(
        names = "--backend",
        paramLabel = "NAME",
        description =
            "Backend holding the group (default: the group's configured backend under"
                + " cairn.raft-groups, else the default backend).")
    String backend;

    @Option(
        names = "--entries",
        paramLabel = "N",
        defaultValue = "10",
        description = "How many of the last log entries to list (default ${DEFAULT-VALUE}).")
    int entries;

    @Override
    public Integer call() {
      PrintWriter out = out();
      requireNotNegative("--entries", entries);
      Config loaded = config.load();
      String name = backend != null ? backend : RaftGroups.settings(loaded, group).backend();
      if (!loaded.hasPath(ConfigUtil.joinPath("cairn", "backends", name))) {
        throw new ConfigurationException(
            "no backend '"
                + name
                + "' in "
                + config.describe()
                + "; configured backends: "
                + loaded.getObject("cairn.backends").keySet());
      }
      Path dir = BackendConfigValidator.dataDirectories(loaded, null).get(name);
      if (dir != null && !VerifyCommand.hasData(dir)) {
        throw new ConfigurationException(
            "backend '"
                + name
                + "' has no data at "
                + dir
                + " (nothing stored yet; raft inspect does not create it)");
      }
      // Open only that backend: the others are not needed and opening them could create data.
      Config only =
          loaded
              .withValue(
                  "cairn.backends",
                  ConfigValueFactory.fromMap(
                      Map.of(
                          name,
                          loaded
                              .getValue(ConfigUtil.joinPath("cairn", "backends", name))
                              .unwrapped())))
              .withValue("cairn.default-backend", ConfigValueFactory.fromAnyRef(name));
      RaftInspection inspection;
      try (PersistenceRegistry registry = PersistenceRegistry.open(only)) {
        inspection = RaftStorage.inspect(registry.backend(name), group, entries);
      }
      if (json) {
        writeJson(new JsonWriter(out), inspection);
      } else {
        print(out, inspection, registryType(loaded, name));
      }
      out.flush();
      return inspection.problems().isEmpty() ? CairnCommand.OK : CairnCommand.PROBLEMS;
    }

    private static String registryType(Config loaded, String name) {
      String path = ConfigUtil.joinPath("cairn", "backends", name, "type");
      return loaded.hasPath(path) ? loaded.getString(path) : "?";
    }

    private static String shown(Optional<byte[]> v) {
      return v.map(b -> Bytes.toDisplay(b) + ", " + b.length + " bytes").orElse("(none)");
    }

    private static void print(PrintWriter out, RaftInspection i, String type) {
      out.printf(
          "Raft group %s  backend=%s (%s, durability=%s)%n",
          i.group(), i.backend(), type, i.durability().configName());
      out.printf("  endpoint    %s%n", shown(i.localEndpoint()));
      out.printf("  membership  %s%n", shown(i.membership()));
      out.printf("  term        %d%n", i.term());
      out.printf("  voted for   %s%n", shown(i.votedFor()));
      out.printf(
          "  log         first %d, last %d: %d entries, %s payload (compacted until %d)%n",
          i.firstIndex(),
          i.lastIndex(),
          i.entryCount(),
          Sizes.human(i.payloadBytes()),
          i.compactedUntil());
      if (i.staleEntries() > 0) {
        out.printf(
            "  stale       %d entries outside the live log (left by a crash; invisible; the next"
                + " normal open deletes them)%n",
            i.staleEntries());
      }
      if (!i.lastEntries().isEmpty()) {
        out.printf("  last %d entries:%n", i.lastEntries().size());
        out.printf("    %12s %10s %10s  %s%n", "INDEX", "TERM", "BYTES", "CRC32C");
        for (RaftInspection.EntrySummary e : i.lastEntries()) {
          out.printf(
              "    %12d %10d %10d  %08x%n", e.index(), e.term(), e.payloadBytes(), e.crc32c());
        }
      }
      if (i.snapshots().isEmpty()) {
        out.println("  snapshots   (none)");
      } else {
        out.println("  snapshots:");
        out.printf("    %12s %10s %9s %12s  %s%n", "INDEX", "TERM", "CHUNKS", "BYTES", "STATE");
        for (RaftInspection.SnapshotSummary s : i.snapshots()) {
          out.printf(
              "    %12d %10d %9s %12s  %s%n",
              s.index(),
              s.term(),
              s.chunksStored() + "/" + s.chunkCount(),
              Sizes.human(s.dataBytes()),
              s.visible() ? "visible" : "incomplete (invisible)");
        }
      }
      if (i.problems().isEmpty()) {
        out.println("  problems    none");
      } else {
        out.printf("  PROBLEMS    %d%n", i.problems().size());
        for (String p : i.problems()) {
          out.println("    - " + p);
        }
      }
    }

    private static void bytesJson(JsonWriter w, String name, Optional<byte[]> v) {
      w.name(name);
      if (v.isEmpty()) {
        w.value((String) null);
      } else {
        w.beginObject()
            .name("bytes")
            .value(v.get().length)
            .name("display")
            .value(Bytes.toDisplay(v.get()))
            .endObject();
      }
    }

    private static void writeJson(JsonWriter w, RaftInspection i) {
      w.beginObject()
          .name("group")
          .value(i.group())
          .name("backend")
          .value(i.backend())
          .name("durability")
          .value(i.durability().configName());
      bytesJson(w, "endpoint", i.localEndpoint());
      bytesJson(w, "membership", i.membership());
      w.name("term").value(i.term());
      bytesJson(w, "votedFor", i.votedFor());
      w.name("log")
          .beginObject()
          .name("compactedUntil")
          .value(i.compactedUntil())
          .name("firstIndex")
          .value(i.firstIndex())
          .name("lastIndex")
          .value(i.lastIndex())
          .name("entries")
          .value(i.entryCount())
          .name("payloadBytes")
          .value(i.payloadBytes())
          .name("staleEntries")
          .value(i.staleEntries())
          .name("lastEntries")
          .beginArray();
      for (RaftInspection.EntrySummary e : i.lastEntries()) {
        w.beginObject()
            .name("index")
            .value(e.index())
            .name("term")
            .value(e.term())
            .name("payloadBytes")
            .value(e.payloadBytes())
            .name("crc32c")
            .value(String.format("%08x", e.crc32c()))
            .endObject();
      }
      w.endArray().endObject().name("snapshots").beginArray();
      for (RaftInspection.SnapshotSummary s : i.snapshots()) {
        w.beginObject()
            .name("index")
            .value(s.index())
            .name("term")
            .value(s.term())
            .name("chunkCount")
            .value(s.chunkCount())
            .name("chunksStored")
            .value(s.chunksStored())
            .name("dataBytes")
            .value(s.dataBytes())
            .name("state")
            .value(s.visible() ? "visible" : "incomplete")
            .endObject();
      }
      w.endArray().name("problems").beginArray();
      for (String p : i.problems()) {
        w.value(p);
      }
      w.endArray().endObject().finish();
    }
  }
}
