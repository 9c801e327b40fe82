package io.cairn.cli;

import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.VerifyReport;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

/**
 * {@code cairn verify}: validates the configuration, opens every backend and runs its checks. Exit
 * 0 healthy, 1 problems found, 2 configuration or usage error.
 */
@Command(
    name = "verify",
    mixinStandardHelpOptions = true,
    description = {
      "Check configuration and stored data.",
      "Exit codes: 0 healthy, 1 problems found in data, 2 configuration or usage error."
    })
final class VerifyCommand implements Callable<Integer> {
  @Mixin ConfigOption config;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    int problems = 0;
    try (PersistenceRegistry registry = PersistenceRegistry.open(config.load())) {
      for (String name : registry.backendNames()) {
        StorageBackend backend = registry.backend(name);
        VerifyReport report = backend.verify(new ProgressPrinter(err, "verify " + name));
        if (report.healthy()) {
          out.printf(
              "OK       %s (%s): %d checked, no problems%n",
              name, backend.type(), report.checked());
        } else {
          out.printf(
              "PROBLEMS %s (%s): %d problem(s)%n", name, backend.type(), report.problems().size());
          for (String p : report.problems()) {
            out.println("  - " + p);
          }
          problems += report.problems().size();
        }
      }
    } catch (StoreCorruptedException e) {
      out.println("PROBLEMS " + e.getMessage());
      return CairnCommand.PROBLEMS;
    }
    out.flush();
    return problems == 0 ? CairnCommand.OK : CairnCommand.PROBLEMS;
  }
}
