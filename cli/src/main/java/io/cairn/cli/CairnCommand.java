package io.cairn.cli;

import io.cairn.persistence.BackendLockedException;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StoreCorruptedException;
import java.io.PrintWriter;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code cairn} operator command. Exit codes are part of its contract: 0 success or healthy, 1
 * problems found in data, 2 usage, configuration or environment error, 3 backend locked by another
 * process or unavailable. User errors print their message only; a stack trace appears only for
 * internal failures. Command classes share {@link Cli} (opening for reading or writing, {@code
 * --yes}, progress) and register here with one line each.
 */
@Command(
    name = "cairn",
    mixinStandardHelpOptions = true,
    versionProvider = CairnCommand.Version.class,
    description = "Operate Cairn persistence backends: inspect, verify, back up, restore, compact.",
    footer = {
      "",
      "Examples:",
      "  cairn inspect --config app.conf --json      (works beside the running service)",
      "  cairn backup --config app.conf --backend main --to /backups/main-1",
      "  cairn restore --config app.conf --backend main --from /backups/main-1 --yes",
      "  cairn log tail audit --config app.conf --follow",
      "",
      "Exit codes: 0 ok, 1 problems found in data, 2 usage or configuration error,",
      "3 backend locked by another process or unavailable."
    },
    subcommands = {
      BackupCommand.class,
      CompactCommand.class,
      DemoCommand.class,
      InspectCommand.class,
      LogCommand.class,
      RaftCommand.class,
      RekeyCommand.class,
      RestoreCommand.class,
      VerifyCommand.class,
      QueueCommand.class,
      CacheCommand.class,
      RouteCommand.class,
      RebuildCommand.class,
      ExportCommand.class,
      ImportCommand.class,
      MigrateCommand.class
    })
public final class CairnCommand implements Runnable {
  /** Success, or the data is healthy. */
  public static final int OK = 0;

  /** The command ran and found problems in the data. */
  public static final int PROBLEMS = 1;

  /** Bad usage, bad configuration, or an environment problem. */
  public static final int USAGE = 2;

  /**
   * A backend is locked by another process (after any wait), or is open read-only beside it and the
   * command needed to write.
   */
  public static final int UNAVAILABLE = 3;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    PrintWriter out = new PrintWriter(System.out, true);
    PrintWriter err = new PrintWriter(System.err, true);
    ClassLoader loader;
    try {
      loader =
          Plugins.loader(
              Plugins.find(Plugins.commandJar(), System.getenv(Plugins.ENV)),
              CairnCommand.class.getClassLoader());
    } catch (ConfigurationException e) {
      err.println("cairn: " + e.getMessage());
      System.exit(USAGE);
      return;
    }
    Thread.currentThread().setContextClassLoader(loader);
    System.exit(run(args, out, err));
  }

  /** Runs the command with the given streams and returns the exit code; used by tests too. */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine cl = new CommandLine(new CairnCommand());
    cl.setOut(out);
    cl.setErr(err);
    cl.setExitCodeExceptionMapper(CairnCommand::exitCodeFor);
    cl.setExecutionExceptionHandler(
        (ex, commandLine, parseResult) -> {
          PrintWriter e = commandLine.getErr();
          int code = exitCodeFor(ex);
          if (code == USAGE || code == UNAVAILABLE || ex instanceof StoreCorruptedException) {
            e.println("cairn: " + ex.getMessage());
          } else {
            e.println("cairn: internal error: " + ex);
            ex.printStackTrace(e);
          }
          e.flush();
          return exitCodeFor(ex);
        });
    cl.setParameterExceptionHandler(
        (ex, args1) -> {
          PrintWriter e = ex.getCommandLine().getErr();
          e.println("cairn: " + ex.getMessage());
          ex.getCommandLine().usage(e);
          return USAGE;
        });
    int code = cl.execute(args);
    out.flush();
    err.flush();
    return code;
  }

  /** The exit code for an exception a command let escape (the contract in the class comment). */
  static int exitCodeFor(Throwable t) {
    // Only what an operator resolves by waiting or stopping the other process; an unsafe or
    // unreadable data directory stays 2 (fix the environment), as before exit code 3 existed.
    if (t instanceof BackendLockedException
        || t instanceof io.cairn.persistence.ReadOnlyBackendException) {
      return UNAVAILABLE;
    }
    if (t instanceof ConfigurationException) {
      return USAGE;
    }
    if (t instanceof StoreCorruptedException) {
      return PROBLEMS;
    }
    return USAGE;
  }

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = CairnCommand.class.getPackage().getImplementationVersion();
      List<String> lines = new ArrayList<>();
      lines.add("cairn " + (v != null ? v : "development build"));
      if (Thread.currentThread().getContextClassLoader() instanceof URLClassLoader plugins
          && "cairn-plugins".equals(plugins.getName())) {
        for (URL url : plugins.getURLs()) {
          lines.add("plugin " + url.getPath());
        }
      }
      lines.add("backend types: " + PersistenceRegistry.knownTypes());
      return lines.toArray(String[]::new);
    }
  }
}
