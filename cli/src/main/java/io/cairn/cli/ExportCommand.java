package io.cairn.cli;

import com.typesafe.config.Config;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StorageBackend;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cairn export --to FILE}: every store of one backend as a {@link PortableStream}. Opens for
 * reading (read-only beside a running service). Writes {@code FILE.partial} first and renames it to
 * {@code FILE} only when the trailer is written, so {@code FILE} is complete or absent.
 */
@Command(
    name = "export",
    mixinStandardHelpOptions = true,
    description = {
      "Write every store of one backend (entries with versions and expiry, log records with",
      "offsets and append times, snapshots with versions) to a portable, checksummed file",
      "that cairn import reads into a backend of any type. Works beside the running service."
    },
    footer = {"", "Example:", "  cairn export --config app.conf --backend main --to main.cairnexp"})
final class ExportCommand implements Callable<Integer> {
  @Mixin ConfigOption config;
  @Mixin BackendOption backendOption;

  @Option(names = "--to", required = true, paramLabel = "FILE", description = "New file to write.")
  Path to;

  @Option(names = "--json", description = "Print the summary as JSON.")
  boolean json;

  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    Config loaded = config.load();
    String name = backendOption.resolve(loaded);
    Path target = to.toAbsolutePath().normalize();
    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--to " + target + " exists; give a new file (nothing was written)");
    }
    Path partial = target.resolveSibling(target.getFileName() + ".partial");
    List<PortableStream.Summary> summaries;
    String type;
    try (PersistenceRegistry registry =
        Cli.openForReading(Cli.only(loaded, name), spec.commandLine().getErr())) {
      StorageBackend backend = registry.backend(name);
      type = backend.type();
      QueueCarryCheck.require(backend, java.util.Optional.empty());
      try (ProgressPrinter progress = Cli.progress(spec, "export " + name, json);
          OutputStream out =
              new BufferedOutputStream(
                  Files.newOutputStream(
                      partial,
                      StandardOpenOption.CREATE_NEW,
                      StandardOpenOption.WRITE,
                      LinkOption.NOFOLLOW_LINKS),
                  1 << 16)) {
        summaries = PortableStream.export(backend, out, progress);
      } catch (RuntimeException | IOException e) {
        Files.deleteIfExists(partial);
        throw e;
      }
    }
    Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
    long size = Files.size(target);
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      JsonWriter w = new JsonWriter(out);
      w.beginObject()
          .name("backend")
          .value(name)
          .name("type")
          .value(type)
          .name("file")
          .value(target.toString())
          .name("bytes")
          .value(size)
          .name("formatVersion")
          .value(PortableStream.VERSION)
          .name("stores")
          .beginArray();
      for (PortableStream.Summary s : summaries) {
        w.beginObject()
            .name("kind")
            .value(s.store().kind().shortName())
            .name("name")
            .value(s.store().name())
            .name("items")
            .value(s.items())
            .name("crc32c")
            .value(String.format("%08x", s.checksum()))
            .endObject();
      }
      w.endArray().endObject().finish();
    } else {
      out.printf(
          "Exported %s backend '%s' to %s: %d store(s), %s%n",
          type, name, target, summaries.size(), Sizes.human(size));
      for (PortableStream.Summary s : summaries) {
        out.printf(
            "  %-40s %12d  crc32c %08x%n", PortableStream.show(s.store()), s.items(), s.checksum());
      }
    }
    out.flush();
    return CairnCommand.OK;
  }
}
