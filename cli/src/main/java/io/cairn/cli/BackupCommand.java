package io.cairn.cli;

import com.typesafe.config.Config;
import io.cairn.persistence.BackendLockedException;
import io.cairn.persistence.BackupManifest;
import io.cairn.persistence.Capability;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StorageBackend;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cairn backup --to DIR}: a consistent copy of one backend while its service keeps writing,
 * with a {@link BackupManifest} ({@code cairn-backup.json}: format version, backend type, stores
 * with exact entry counts, every file with its SHA-256).
 *
 * <ul>
 *   <li>SQLite: from this second process, read-only beside the service ({@code VACUUM INTO}, one
 *       read transaction: the copy is the database as of one commit).
 *   <li>RocksDB: a checkpoint needs the engine handle. When no process holds the backend, the
 *       command opens it and checkpoints; when a service holds it, the command says so and exits 3:
 *       take the backup inside the service ({@code PersistenceRegistry.backup} or cairn-admin's
 *       {@code POST /backup}), which writes the same manifest.
 * </ul>
 */
@Command(
    name = "backup",
    mixinStandardHelpOptions = true,
    description = {
      "Copy one backend, consistently as of one instant, into an empty directory, with a",
      "manifest of its stores, entry counts and file checksums. Works beside the running",
      "service for SQLite; RocksDB needs the owning process (see docs/operations.md)."
    },
    footer = {
      "",
      "Example:",
      "  cairn backup --config app.conf --backend main --to /backups/main-1"
    })
final class BackupCommand implements Callable<Integer> {
  @Mixin ConfigOption config;
  @Mixin BackendOption backendOption;

  @Option(
      names = "--to",
      required = true,
      paramLabel = "DIR",
      description = "Empty or absent directory to write the backup into.")
  Path to;

  @Option(names = "--json", description = "Print the manifest summary as JSON.")
  boolean json;

  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    Config loaded = config.load();
    String name = backendOption.resolve(loaded);
    Path target = to.toAbsolutePath().normalize();
    if (Files.exists(target)) {
      try (Stream<Path> s = Files.list(target)) {
        if (s.findAny().isPresent()) {
          throw new CommandLine.ParameterException(
              spec.commandLine(),
              "--to " + target + " is not empty; give an empty or absent directory");
        }
      }
    }
    BackupManifest m;
    try (PersistenceRegistry registry =
        Cli.openForReading(Cli.only(loaded, name), spec.commandLine().getErr())) {
      StorageBackend backend = registry.backend(name);
      if (!backend.capabilities().contains(Capability.CHECKPOINT)) {
        throw new BackendLockedException(
            "Cannot back up "
                + backend.type()
                + " backend '"
                + name
                + "' from this process: another process holds it and a "
                + backend.type()
                + " checkpoint needs the engine handle that process owns. Take the backup inside"
                + " the service instead: PersistenceRegistry.backup(\""
                + name
                + "\", dir, progress), or cairn-admin's POST /backup?backend="
                + name
                + " (it writes the same manifest); or stop the service and run this command"
                + " again, which then opens the backend itself.");
      }
      try (ProgressPrinter progress = Cli.progress(spec, "backup " + name, json)) {
        m = registry.backup(name, target, progress);
      }
    }
    if (json) {
      JsonWriter w = new JsonWriter(out);
      w.beginObject()
          .name("backend")
          .value(m.backend())
          .name("type")
          .value(m.type())
          .name("path")
          .value(target.toString())
          .name("createdAt")
          .value(m.createdAt().toString())
          .name("files")
          .value(m.files().size())
          .name("bytes")
          .value(m.totalBytes())
          .name("stores")
          .beginArray();
      for (BackupManifest.Store s : m.stores()) {
        w.beginObject()
            .name("kind")
            .value(s.kind())
            .name("name")
            .value(s.name())
            .name("entries")
            .value(s.entries())
            .endObject();
      }
      w.endArray().endObject().finish();
    } else {
      out.printf(
          "Backed up %s backend '%s' to %s: %d store(s), %d file(s), %s%n",
          m.type(), name, target, m.stores().size(), m.files().size(), Sizes.human(m.totalBytes()));
      for (BackupManifest.Store s : m.stores()) {
        out.printf("  %-9s %-32s %12d%n", s.kind(), s.name(), s.entries());
      }
    }
    out.flush();
    return CairnCommand.OK;
  }
}
