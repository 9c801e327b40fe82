package io.cairn.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigUtil;
import io.cairn.persistence.BackendConfigValidator;
import io.cairn.persistence.BackendLockedException;
import io.cairn.persistence.BackupManifest;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.StorageEngineException;
import io.cairn.persistence.spi.DataDirectory;
import io.cairn.persistence.spi.EventType;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cairn restore --from DIR}: puts a backup back as a backend's data directory.
 *
 * <p>Order, so that the data directory is never half-restored:
 *
 * <ol>
 *   <li>read the manifest and check every listed file's size and SHA-256 in the backup (any
 *       problem: exit 1, nothing changed); the backend type must match the configuration;
 *   <li>refuse a data directory that holds data unless {@code --force}; take its lock (waiting up
 *       to {@code --lock-timeout}; a running service holding it: exit 3 naming its pid and host);
 *   <li>copy the listed files into {@code .<name>.restore-<pid>} beside the data directory, fsync
 *       them, and check the copy's checksums again;
 *   <li>swap: with no existing data, one atomic rename; otherwise the old directory is renamed to
 *       {@code <name>.before-restore-<stamp>} (kept: delete it once the service runs on the
 *       restored data) and the new one renamed into place; if that second rename fails the old one
 *       is renamed back.
 * </ol>
 *
 * Any failure before the swap deletes the temporary directory and leaves the data directory as it
 * was. A successful restore emits a {@code restore} event to the configured {@code cairn.events}
 * sink (paths, file count, bytes, duration; never keys or values). The environment variable {@code
 * CAIRN_TEST_RESTORE_FAIL_AFTER_FILES=N} makes the copy fail after N files (for the test of exactly
 * that).
 */
@Command(
    name = "restore",
    mixinStandardHelpOptions = true,
    description = {
      "Restore a backup written by 'cairn backup' (or POST /backup) as a backend's data",
      "directory. Checks the manifest and every checksum first, copies into a temporary",
      "directory beside the target and swaps it in with a rename. Stop the service first."
    },
    footer = {
      "",
      "Example:",
      "  cairn restore --config app.conf --backend main --from /backups/main-1 --yes"
    })
final class RestoreCommand implements Callable<Integer> {
  /** Environment variable: fail the copy after this many files (the test of a failure mid-way). */
  static final String FAIL_AFTER = "CAIRN_TEST_RESTORE_FAIL_AFTER_FILES";

  @Mixin ConfigOption config;
  @Mixin BackendOption backendOption;

  @Option(
      names = "--from",
      required = true,
      paramLabel = "DIR",
      description = "The backup directory (holds cairn-backup.json).")
  Path from;

  @Option(names = "--force", description = "Replace a data directory that holds data.")
  boolean force;

  @Option(names = "--yes", description = "Confirm: restore replaces the backend's data.")
  boolean yes;

  @Option(
      names = "--lock-timeout",
      paramLabel = "DURATION",
      description =
          "How long to wait for the backend's lock, e.g. 30s (default: its lock-timeout).")
  String lockTimeout;

  @Option(names = "--json", description = "Print the result as JSON.")
  boolean json;

  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    long started = System.nanoTime();
    Config loaded = config.load();
    String name = backendOption.resolve(loaded);
    Cli.requireYes(spec, yes, "restore replaces the data of backend '" + name + "'");
    Path source = from.toAbsolutePath().normalize();
    BackupManifest m = BackupManifest.read(source);
    String type = loaded.getString("cairn.backends." + ConfigUtil.quoteString(name) + ".type");
    if (!type.equals(m.type())) {
      throw new ConfigurationException(
          "The backup in "
              + source
              + " is of a "
              + m.type()
              + " backend; backend '"
              + name
              + "' is configured as "
              + type
              + ". Restore it into a backend of the same type (or use cairn migrate).");
    }
    List<String> problems;
    try (ProgressPrinter progress = Cli.progress(spec, "check backup", json)) {
      problems = m.check(source, progress);
    }
    if (!problems.isEmpty()) {
      out.println("PROBLEMS backup " + source + " fails its manifest; nothing was restored:");
      problems.forEach(p -> out.println("  - " + p));
      out.flush();
      return CairnCommand.PROBLEMS;
    }
    Path target = BackendConfigValidator.dataDirectories(loaded, null).get(name);
    if (target == null) {
      throw new ConfigurationException(
          "Backend '" + name + "' keeps no data directory (durability none?); nothing to restore");
    }
    target = target.toAbsolutePath().normalize();
    boolean hadData = VerifyCommand.hasData(target) && !onlyLockFile(target);
    if (hadData && !force) {
      throw new CommandLine.ParameterException(
          spec.commandLine(),
          "the data directory "
              + target
              + " of backend '"
              + name
              + "' holds data; add --force to replace it (the old directory is kept beside it)");
    }
    Duration wait =
        lockTimeout != null
            ? Cli.duration(spec, "--lock-timeout", lockTimeout)
            : lockTimeoutOf(loaded, name);
    Path tmp = target.resolveSibling("." + target.getFileName() + ".restore-" + pid());
    Path aside = null;
    try (HeldLock lock = HeldLock.take(target, wait)) {
      deleteTree(tmp);
      DataDirectory.createPrivateDirectories(tmp);
      try {
        copy(m, source, tmp);
        List<String> copyProblems = m.check(tmp, io.cairn.persistence.Progress.NONE);
        if (!copyProblems.isEmpty()) {
          throw new StorageEngineException(
              "The copy in " + tmp + " differs from the backup: " + copyProblems, null);
        }
        DataDirectory.tightenTree(tmp);
        fsyncDir(tmp);
      } catch (IOException | RuntimeException e) {
        deleteTree(tmp);
        throw e;
      }
      if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
        aside =
            target.resolveSibling(
                target.getFileName()
                    + ".before-restore-"
                    + Instant.now().toString().replace(":", "").replace(".", "-"));
        Files.move(target, aside, StandardCopyOption.ATOMIC_MOVE);
      }
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException e) {
        if (aside != null) {
          Files.move(aside, target, StandardCopyOption.ATOMIC_MOVE);
        }
        deleteTree(tmp);
        throw e;
      }
      fsyncDir(target.getParent());
    }
    if (aside != null && !hadData) {
      deleteTree(aside); // held nothing but a lock file
      aside = null;
    }
    // counts, sizes and paths only: never a key or value (docs/operations.md, "Events")
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("from", source.toString());
    fields.put("to", target.toString());
    fields.put("backend-type", m.type());
    fields.put("files", m.files().size());
    fields.put("bytes", m.totalBytes());
    fields.put("replaced-data", hadData);
    fields.put("previous", aside == null ? null : aside.toString());
    fields.put("duration-ms", (System.nanoTime() - started) / 1_000_000);
    Cli.emit(loaded, EventType.RESTORE, name, fields, spec.commandLine().getErr());
    if (json) {
      JsonWriter w = new JsonWriter(out);
      w.beginObject()
          .name("backend")
          .value(name)
          .name("type")
          .value(m.type())
          .name("from")
          .value(source.toString())
          .name("to")
          .value(target.toString())
          .name("files")
          .value(m.files().size())
          .name("bytes")
          .value(m.totalBytes())
          .name("previous")
          .value(aside == null ? "" : aside.toString())
          .endObject()
          .finish();
    } else {
      out.printf(
          "Restored %s backend '%s' from %s into %s: %d file(s), %s, every checksum verified%n",
          m.type(), name, source, target, m.files().size(), Sizes.human(m.totalBytes()));
      if (aside != null) {
        out.printf(
            "The previous data directory is kept at %s; delete it once the service runs on the"
                + " restored data.%n",
            aside);
      }
    }
    out.flush();
    return CairnCommand.OK;
  }

  private static void copy(BackupManifest m, Path source, Path tmp) throws IOException {
    String injected = System.getenv(FAIL_AFTER);
    int failAfter = injected == null ? -1 : Integer.parseInt(injected.trim());
    int n = 0;
    for (BackupManifest.FileEntry f : m.files()) {
      Path dst = BackupManifest.resolve(tmp, f.path());
      DataDirectory.createPrivateDirectories(dst.getParent());
      try (InputStream in =
              Files.newInputStream(
                  BackupManifest.resolve(source, f.path()), LinkOption.NOFOLLOW_LINKS);
          FileChannel ch =
              FileChannel.open(dst, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
          OutputStream os = java.nio.channels.Channels.newOutputStream(ch)) {
        in.transferTo(os);
        os.flush();
        ch.force(true);
      }
      if (++n == failAfter) {
        throw new IOException(
            "injected failure after " + failAfter + " file(s) (" + FAIL_AFTER + ")");
      }
    }
  }

  private static boolean onlyLockFile(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.allMatch(p -> p.getFileName().toString().equals(DataDirectory.LOCK_FILE));
    }
  }

  private static Duration lockTimeoutOf(Config config, String name) {
    String key =
        "cairn.backends." + ConfigUtil.quoteString(name) + "." + DataDirectory.LOCK_TIMEOUT;
    return config.hasPath(key) ? config.getDuration(key) : Duration.ZERO;
  }

  private static long pid() {
    return ProcessHandle.current().pid();
  }

  private static void fsyncDir(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      // some file systems cannot fsync a directory; the renames are still atomic
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /**
   * The data directory's lock, held while the restore swaps directories, so no service opens the
   * backend half-way. The lock file moves aside with the old directory.
   */
  private static final class HeldLock implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;

    private HeldLock(FileChannel channel, FileLock lock) {
      this.channel = channel;
      this.lock = lock;
    }

    static HeldLock take(Path dir, Duration wait) throws IOException {
      Path file = dir.resolve(DataDirectory.LOCK_FILE);
      if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
        return new HeldLock(null, null);
      }
      FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
      long deadline = System.nanoTime() + wait.toNanos();
      while (true) {
        FileLock l;
        try {
          l = ch.tryLock();
        } catch (java.nio.channels.OverlappingFileLockException e) {
          l = null;
        }
        if (l != null) {
          return new HeldLock(ch, l);
        }
        if (System.nanoTime() - deadline >= 0) {
          ch.close();
          throw new BackendLockedException(
              "Cannot restore into "
                  + dir
                  + ": it is locked by another process ("
                  + DataDirectory.recordedHolder(dir).orElse("holder unknown")
                  + ") after waiting "
                  + wait.toMillis()
                  + " ms. Stop the service that uses it first, or wait longer with"
                  + " --lock-timeout.");
        }
        try {
          Thread.sleep(50);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          ch.close();
          throw new IOException("interrupted while waiting for the lock of " + dir, e);
        }
      }
    }

    @Override
    public void close() throws IOException {
      if (lock != null) {
        lock.release();
        channel.close();
      }
    }
  }
}
