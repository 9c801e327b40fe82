package io.cairn.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the real {@code cairn.jar} in a child JVM, as an operator does: {@code java [jvm args] -jar
 * cairn.jar args...} (with {@link #FAST_START} first), with the given working directory and extra
 * environment; stdout and stderr go to files (so a large output cannot block the child). The jar is
 * {@code -DcairnJar} (Failsafe sets it to the freshly shaded jar; pass another jar to check a test
 * against an older build).
 */
record JarRunner(int exitCode, Path outFile, String err) {
  static Path jar() {
    String p = System.getProperty("cairnJar", "target/cairn.jar");
    Path jar = Path.of(p).toAbsolutePath();
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(
          jar + " does not exist: run these tests with `mvn verify` (after package)");
    }
    return jar;
  }

  String out() {
    try {
      return Files.readString(outFile, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  String all() {
    return out() + err;
  }

  /** stdout parsed as a JSON document; a parse failure names everything the run printed. */
  Config json() {
    String out = out();
    try {
      return ConfigFactory.parseString(
          out, ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON));
    } catch (ConfigException e) {
      throw new AssertionError(
          "stdout is not one JSON document (" + e.getMessage() + "):\n" + all(), e);
    }
  }

  /**
   * Options every run starts with, before the caller's: each run is a short command, so the client
   * compiler alone and the serial collector (no GC or C2 threads competing for the test machine's
   * two cores) start it sooner and cost less CPU; what a command does is the same under any JIT or
   * collector. The JVM's own warnings (unified logging) go to stdout by default, where a command's
   * JSON is: a CI run once saw one ({@code [0.9s][warning]...}) break the JSON of one of ten
   * concurrent {@code inspect --json} runs; here they go to stderr, as README advises scripts to
   * do.
   */
  static final List<String> FAST_START =
      List.of(
          "-XX:TieredStopAtLevel=1",
          "-XX:+UseSerialGC",
          "-Xlog:disable",
          "-Xlog:all=warning:stderr:uptime,level,tags");

  static JarRunner run(Path workDir, Map<String, String> env, List<String> jvm, String... args) {
    return run(jar(), workDir, env, jvm, args);
  }

  static JarRunner run(
      Path jar, Path workDir, Map<String, String> env, List<String> jvm, String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(FAST_START);
    command.addAll(jvm);
    command.add("-jar");
    command.add(jar.toString());
    command.addAll(List.of(args));
    try {
      Path out = Files.createTempFile(workDir, "stdout", ".txt");
      Path err = Files.createTempFile(workDir, "stderr", ".txt");
      ProcessBuilder pb =
          new ProcessBuilder(command)
              .directory(workDir.toFile())
              .redirectOutput(out.toFile())
              .redirectError(err.toFile());
      pb.environment().remove(Plugins.ENV);
      pb.environment().putAll(env);
      Process p = pb.start();
      if (!p.waitFor(5, TimeUnit.MINUTES)) { // generous: the machine may be loaded
        p.destroyForcibly();
        throw new AssertionError("cairn " + String.join(" ", args) + " did not finish in 5 min");
      }
      return new JarRunner(p.exitValue(), out, Files.readString(err, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
