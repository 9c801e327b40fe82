package io.cairn.cli;

import com.typesafe.config.Config;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StorageBackend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cairn import --from FILE}: a {@link PortableStream} into one backend, exactly, through its
 * {@code Importer}; validated whole before the first write, only into empty stores, verified store
 * by store afterwards (see {@link Transfer}).
 */
@Command(
    name = "import",
    mixinStandardHelpOptions = true,
    description = {
      "Read a file written by cairn export into one backend (any type with exact import),",
      "keeping versions, expiry instants, offsets, append times and snapshot versions. The",
      "whole file is checked before anything is written; its stores must be empty on the",
      "target. Afterwards every store's count and checksum are compared with the file's."
    },
    footer = {
      "",
      "Example:",
      "  cairn import --config app.conf --backend fresh --from main.cairnexp"
    })
final class ImportCommand implements Callable<Integer> {
  @Mixin ConfigOption config;
  @Mixin BackendOption backendOption;

  @Option(
      names = "--from",
      required = true,
      paramLabel = "FILE",
      description = "File written by cairn export.")
  Path from;

  @Option(
      names = "--lock-timeout",
      paramLabel = "DURATION",
      description = "How long to wait for the backend's lock (default: its lock-timeout).")
  String lockTimeout;

  @Option(names = "--json", description = "Print the result as JSON.")
  boolean json;

  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    Config loaded = config.load();
    String name = backendOption.resolve(loaded);
    Path file = from.toAbsolutePath().normalize();
    if (!Files.isRegularFile(file)) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--from " + file + " is not a readable file");
    }
    Duration wait = lockTimeout == null ? null : Cli.duration(spec, "--lock-timeout", lockTimeout);
    try (PersistenceRegistry registry = Cli.openForWriting(Cli.only(loaded, name), wait)) {
      StorageBackend target = registry.backend(name);
      Transfer.Result r;
      try (ProgressPrinter progress = Cli.progress(spec, "import " + name, json)) {
        r = Transfer.importFile(file, target, progress);
      }
      MigrateCommand.emit(registry, "import", file.toString(), target, r);
      MigrateCommand.print(spec, json, "Imported " + file + " into " + describe(target), r);
      return r.verified() ? CairnCommand.OK : CairnCommand.PROBLEMS;
    }
  }

  static String describe(StorageBackend b) {
    return b.type() + " backend '" + b.name() + "'";
  }
}
