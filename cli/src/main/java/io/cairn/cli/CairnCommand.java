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
 * problems found in data, 2 usage, configuration or environment error. User errors print their
 * message only; a stack trace appears only for internal failures (or with {@code --stacktrace}).
 */
@Command(
    name = "cairn",
    mixinStandardHelpOptions = true,
    versionProvider = CairnCommand.Version.class,
    description = "Inspect, verify and demonstrate Cairn persistence backends.",
    subcommands = {
      DemoCommand.class,
      InspectCommand.class,
      RaftCommand.class,
      RekeyCommand.class,
      VerifyCommand.class,
      QueueCommand.class,
      CacheCommand.class,
      RouteCommand.class,
      RebuildCommand.class
    })
public final class CairnCommand implements Runnable {
  /** Success, or the data is healthy. */
  public static final int OK = 0;

  /** The command ran and found problems in the data. */
  public static final int PROBLEMS = 1;

  /** Bad usage, bad configuration, or an environment problem such as a locked directory. */
  public static final int USAGE = 2;

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
          if (exitCodeFor(ex) == USAGE || ex instanceof StoreCorruptedException) {
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

  static int exitCodeFor(Throwable t) {
    if (t instanceof ConfigurationException || t instanceof BackendLockedException) {
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
