package io.cairn.tck.fault;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * An {@code LD_PRELOAD} shim that makes {@code fsync}, {@code fdatasync}, {@code syncfs} and {@code
 * sync_file_range} fail with {@code EIO} on demand, for testing what a backend does after a failed
 * fsync. The C source ships in this jar ({@code io/cairn/tck/fault/fsync_fault.c}) and is compiled
 * with {@code gcc} at test time, so nothing native is checked in.
 *
 * <p>Control (environment of the child process that preloads the shim):
 *
 * <ul>
 *   <li>{@link #TRIGGER_ENV}: a file path; every sync call fails while that file exists.
 *   <li>{@link #AFTER_ENV}: a number n; every sync call after the first n fails.
 *   <li>{@link #LOG_ENV}: a file to which each injected failure appends {@code EIO <call> fd=<n>
 *       path=<file>}, so a test can show which file's sync failed.
 * </ul>
 *
 * Linux only ({@code /proc/self/fd} names the files in the log; {@code LD_PRELOAD} is ELF's).
 */
public final class FsyncFaultShim {
  /** Environment variable: fail while this file exists. */
  public static final String TRIGGER_ENV = "CAIRN_FSYNC_FAIL_TRIGGER";

  /** Environment variable: fail every call after this many. */
  public static final String AFTER_ENV = "CAIRN_FSYNC_FAIL_AFTER";

  /** Environment variable: append one line per injected failure to this file. */
  public static final String LOG_ENV = "CAIRN_FSYNC_FAIL_LOG";

  private static final String SOURCE = "fsync_fault.c";

  private FsyncFaultShim() {}

  /**
   * Compiles the shim into {@code outDir/libcairn-fsync-fault.so}, or says why it cannot.
   *
   * @return the shared library, or empty with {@code whyNot[0]} set (not Linux, no gcc on the PATH,
   *     or gcc failed: its output is quoted)
   */
  public static Optional<Path> compile(Path outDir, String[] whyNot) {
    if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
      whyNot[0] =
          "the fsync fault shim needs Linux (LD_PRELOAD, /proc); this is "
              + System.getProperty("os.name");
      return Optional.empty();
    }
    try {
      Files.createDirectories(outDir);
      Path source = outDir.resolve(SOURCE);
      try (InputStream in = FsyncFaultShim.class.getResourceAsStream(SOURCE)) {
        if (in == null) {
          throw new IllegalStateException(
              SOURCE + " is missing from the cairn-persistence-tck jar");
        }
        Files.write(source, in.readAllBytes());
      }
      Path lib = outDir.resolve("libcairn-fsync-fault.so");
      Process gcc;
      try {
        gcc =
            new ProcessBuilder(
                    List.of(
                        "gcc",
                        "-shared",
                        "-fPIC",
                        "-O1",
                        "-o",
                        lib.toString(),
                        source.toString(),
                        "-ldl"))
                .redirectErrorStream(true)
                .start();
      } catch (IOException e) {
        whyNot[0] =
            "gcc is not on the PATH ("
                + e.getMessage()
                + "): the fsync EIO shim cannot be built; install gcc to run this test";
        return Optional.empty();
      }
      String output = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!gcc.waitFor(120, TimeUnit.SECONDS) || gcc.exitValue() != 0) {
        throw new IllegalStateException("gcc failed to build " + source + ":\n" + output);
      }
      return Optional.of(lib);
    } catch (IOException e) {
      throw new IllegalStateException(
          "Cannot build the fsync fault shim in " + outDir + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while building the fsync fault shim", e);
    }
  }
}
