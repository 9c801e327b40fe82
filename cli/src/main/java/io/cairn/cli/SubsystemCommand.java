package io.cairn.cli;

import io.cairn.persistence.PersistenceRegistry;
import java.io.PrintWriter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What every subsystem subcommand ({@code cairn queue|cache|route|raft ...}) shares: {@code
 * --config}, {@code --json}, the output, opening the registry the one way reads and changes do
 * ({@link Cli#openForReading}, {@link Cli#openForWriting}), and the check of a count option.
 * Picocli reads the annotated fields of this superclass like the subclass's own, so the usage text
 * is that of the fields declared in each command.
 */
abstract class SubsystemCommand {
  @Mixin ConfigOption config;

  @Option(names = "--json", description = "Print JSON instead of text.")
  boolean json;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  /** For the commands that only read: read-only beside a service that holds the backend. */
  PersistenceRegistry openForReading() {
    return Cli.openForReading(config.load(), spec.commandLine().getErr());
  }

  /**
   * For the commands that open the subsystem (which may change it): exit 3 when another process
   * holds the backend.
   */
  PersistenceRegistry openForWriting() {
    return Cli.openForWriting(config.load(), null);
  }

  /** Refuses a negative value of count option {@code option} as a usage error (exit 2). */
  void requireNotNegative(String option, long value) {
    if (value < 0) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), option + " must be 0 or more, got " + value);
    }
  }
}
