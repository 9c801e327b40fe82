package io.cairn.tck.crash;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A child JVM running a {@code main} class on this JVM's class path, for crash and multi-process
 * tests: start it, wait for a line it prints, kill it hard ({@link Process#destroyForcibly()}, i.e.
 * SIGKILL on Unix: no shutdown hooks, no finalisation, the OS page cache survives) and inspect what
 * it printed.
 *
 * <pre>{@code
 * try (ChildJvm child = ChildJvm.start(MyMain.class, "arg1")) {
 *   child.awaitLine(l -> l.equals("READY"), Duration.ofSeconds(30));
 *   child.killHard();
 * }
 * }</pre>
 *
 * <p>Standard error is merged into standard output; every line is kept (see {@link #output()}) and
 * quoted in failure messages. {@link #close()} kills the child if it is still running. Thread-safe.
 */
public final class ChildJvm implements AutoCloseable {
  /** JVM options used unless {@link Builder#jvmArgs} replaces them: small heap, fast startup. */
  public static final List<String> DEFAULT_JVM_ARGS =
      List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto");

  private final Process process;
  private final String description;
  private final List<String> lines = new ArrayList<>();
  private final Thread pump;

  private final Path outputFile;

  private ChildJvm(Process process, String description, Path outputFile) {
    this.outputFile = outputFile;
    this.process = process;
    this.description = description;
    this.pump = new Thread(this::pumpOutput, "child-jvm-output-" + process.pid());
    pump.setDaemon(true);
    pump.start();
  }

  /** Starts {@code mainClass} with {@code args} and the default JVM options. */
  public static ChildJvm start(Class<?> mainClass, String... args) {
    return builder(mainClass).args(args).start();
  }

  /** A builder for a child running {@code mainClass}, for JVM options or a working directory. */
  public static Builder builder(Class<?> mainClass) {
    return new Builder(mainClass);
  }

  /** Options for starting a child JVM. */
  public static final class Builder {
    private final Class<?> mainClass;
    private final List<String> jvmArgs = new ArrayList<>(DEFAULT_JVM_ARGS);
    private final List<String> args = new ArrayList<>();
    private final java.util.Map<String, String> environment = new java.util.LinkedHashMap<>();
    private Path workingDir;

    private Builder(Class<?> mainClass) {
      this.mainClass = Objects.requireNonNull(mainClass, "mainClass");
    }

    /** Replaces the JVM options ({@link #DEFAULT_JVM_ARGS} by default). */
    public Builder jvmArgs(List<String> options) {
      jvmArgs.clear();
      jvmArgs.addAll(options);
      return this;
    }

    /** Adds a system property {@code -Dkey=value}. */
    public Builder systemProperty(String key, String value) {
      jvmArgs.add("-D" + key + "=" + value);
      return this;
    }

    /** Appends program arguments. */
    public Builder args(String... values) {
      Collections.addAll(args, values);
      return this;
    }

    /** Sets an environment variable of the child (for example {@code LD_PRELOAD}). */
    public Builder environment(String name, String value) {
      environment.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /** The child's working directory (default: this JVM's). */
    public Builder workingDirectory(Path dir) {
      this.workingDir = dir;
      return this;
    }

    /**
     * Starts the child with {@code java.home}'s {@code java} and this JVM's {@code
     * java.class.path}.
     *
     * @throws IllegalStateException if the process cannot be started
     */
    public ChildJvm start() {
      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.addAll(jvmArgs);
      cmd.add("-cp");
      cmd.add(System.getProperty("java.class.path"));
      cmd.add(mainClass.getName());
      cmd.addAll(args);
      Path outputFile;
      try {
        outputFile = Files.createTempFile("cairn-child-", ".out");
      } catch (IOException e) {
        throw new IllegalStateException("Cannot create the child's output file: " + e, e);
      }
      // Output goes to a file, not a pipe: when a child is killed, the JDK closes the pipe's
      // stream under a concurrent reader and lines already written were lost (seen in the queue
      // and routing crash tests). A file keeps every byte the child wrote before it died.
      ProcessBuilder pb =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(outputFile.toFile()));
      if (workingDir != null) {
        pb.directory(workingDir.toFile());
      }
      pb.environment().putAll(environment);
      try {
        return new ChildJvm(
            pb.start(), mainClass.getSimpleName() + " " + String.join(" ", args), outputFile);
      } catch (IOException e) {
        throw new IllegalStateException("Cannot start child JVM " + cmd + ": " + e, e);
      }
    }
  }

  /**
   * Follows the output file: complete lines are published as they appear; once the child has
   * exited, whatever remains (a last line without a newline too) is published and the pump ends.
   */
  private void pumpOutput() {
    ByteArrayOutputStream partial = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    try (InputStream in = Files.newInputStream(outputFile)) {
      while (true) {
        boolean exited = !process.isAlive();
        int n;
        boolean any = false;
        while ((n = in.read(buf)) > 0) {
          any = true;
          for (int i = 0; i < n; i++) {
            if (buf[i] == '\n') {
              publish(partial);
            } else {
              partial.write(buf[i]);
            }
          }
        }
        if (exited) {
          if (partial.size() > 0) {
            publish(partial);
          }
          return;
        }
        if (!any) {
          Thread.sleep(5);
        }
      }
    } catch (IOException e) {
      synchronized (lines) {
        lines.add("[ChildJvm: cannot read the child's output " + outputFile + ": " + e + "]");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      synchronized (lines) {
        lines.notifyAll();
      }
    }
  }

  private void publish(ByteArrayOutputStream partial) {
    String line = partial.toString(StandardCharsets.UTF_8);
    if (line.endsWith("\r")) {
      line = line.substring(0, line.length() - 1);
    }
    partial.reset();
    synchronized (lines) {
      lines.add(line);
      lines.notifyAll();
    }
  }

  /** The child's process id. */
  public long pid() {
    return process.pid();
  }

  /** Whether the child is still running. */
  public boolean isAlive() {
    return process.isAlive();
  }

  /** The child's standard input, e.g. to tell it to finish. */
  public OutputStream stdin() {
    return process.getOutputStream();
  }

  /**
   * Waits until the child prints a line matching {@code match} and returns it.
   *
   * @throws IllegalStateException if the child exits first or {@code timeout} passes; the message
   *     quotes the child's output
   */
  public String awaitLine(Predicate<String> match, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    int seen = 0;
    synchronized (lines) {
      while (true) {
        for (; seen < lines.size(); seen++) {
          if (match.test(lines.get(seen))) {
            return lines.get(seen);
          }
        }
        long left = deadline - System.nanoTime();
        if (left <= 0 || (!process.isAlive() && !pump.isAlive())) {
          throw new IllegalStateException(
              (process.isAlive() ? "Timed out after " + timeout + " waiting" : "Child exited")
                  + " for the expected line from "
                  + description
                  + "; output:\n"
                  + String.join("\n", lines));
        }
        try {
          lines.wait(Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMillis(left), 100)));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("Interrupted waiting for " + description, e);
        }
      }
    }
  }

  /**
   * Kills the child with {@link Process#destroyForcibly()} (SIGKILL) and waits until it is gone and
   * its output is drained.
   */
  public void killHard() {
    process.destroyForcibly();
    waitFor(Duration.ofSeconds(30));
  }

  /** Waits for the child to exit and returns its exit code (-1 if it is still running). */
  public int waitFor(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        return -1;
      }
      pump.join(timeout.toMillis());
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  /** Every line printed so far. */
  public List<String> output() {
    synchronized (lines) {
      return List.copyOf(lines);
    }
  }

  /** Kills the child if it is still running. */
  @Override
  public void close() {
    if (process.isAlive()) {
      killHard();
    }
    try {
      pump.join(TimeUnit.SECONDS.toMillis(30));
      Files.deleteIfExists(outputFile); // every line is kept in memory by now
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      // a temp file left behind is harmless
    }
  }

  @Override
  public String toString() {
    return "ChildJvm[pid " + process.pid() + ": " + description + "]";
  }
}
