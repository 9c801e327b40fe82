package io.cairn.persistence.spi;

import io.cairn.persistence.BackendLockedException;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.Durability;
import io.cairn.persistence.ReadOnlyBackendException;
import io.cairn.persistence.StorageEngineException;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data directory of one durable backend: the one layer that owns its lock, its permissions,
 * what may be in it, quarantine, and whether it is still usable. Used by the SQLite and RocksDB
 * backends; part of the SPI, so a third-party backend that keeps files gets the same rules by
 * calling {@link #open} before it opens its engine and {@link #close} after it closed it.
 *
 * <h2>On disk</h2>
 *
 * <pre>
 * &lt;data-dir&gt;/                 mode 0700
 *   cairn.lock                 mode 0600; OS advisory lock + one owner line:
 *                              pid=&lt;pid&gt; host=&lt;host&gt; backend=&lt;name&gt; type=&lt;type&gt; since=&lt;ISO instant&gt;
 *   corrupt-&lt;yyyyMMdd'T'HHmmss'Z'&gt;[-n]/   mode 0700: engine files moved aside by {@link #quarantine}
 *   ...                        the engine's own files, mode 0600
 * </pre>
 *
 * <h2>Contract</h2>
 *
 * <ul>
 *   <li><b>Exclusive.</b> {@link #open} takes an OS advisory lock ({@link FileChannel#tryLock()})
 *       on {@code cairn.lock}; it vanishes when the holder exits for any reason ({@code kill -9}
 *       included), so a stale file is simply reused. A second open of the same directory in this
 *       process is detected before the OS lock (OS locks are per process). If the lock is held,
 *       {@code open} retries every 50 ms for {@code lock-timeout} (default 0s: fail at once), then
 *       throws {@link BackendLockedException} naming the directory and the holder's pid, host and
 *       backend as recorded in the lock file. The lock file is never deleted: deleting it would let
 *       a third opener lock a different inode.
 *   <li><b>Private.</b> Directories Cairn creates are 0700, files 0600, whatever the umask: the
 *       mode is set explicitly after creation. At open an existing directory that is looser is
 *       tightened to 0700 and every regular file in it to 0600, with a warning naming what changed.
 *       Engines that create files themselves call {@link #tightenPermissions()} after they did
 *       (RocksDB does so from its flush and compaction listener). On file systems without POSIX
 *       permissions the platform defaults apply.
 *   <li><b>No links.</b> Cairn never creates links. {@code open} refuses a directory holding a
 *       symbolic link (it names the link, its target and what to do), so no planted link can make
 *       Cairn write, truncate or chmod a file outside the directory. Files are created and opened
 *       with {@link LinkOption#NOFOLLOW_LINKS} ({@code O_NOFOLLOW}); permissions are changed
 *       without following links. The data directory path itself may be a link (for example to
 *       another disk); it is resolved once at open.
 *   <li><b>Only Cairn's files.</b> {@code open} refuses the file-system root, the user's home
 *       directory, and a directory holding entries that are neither {@code cairn.lock}, a {@code
 *       corrupt-*} quarantine directory, nor accepted by the backend's {@code engineFiles}
 *       predicate (the engine's known file names), unless {@code allow-foreign-files = true}. So a
 *       mistyped {@code data-dir} never spreads database files through a directory that holds other
 *       data.
 *   <li><b>Quarantine.</b> {@link #quarantine} moves damaged engine files into {@code corrupt-<UTC
 *       stamp>} inside the directory, the stamp taken from the backend context's clock. The lock
 *       stays where it is, so the backend can start empty in the same directory.
 *   <li><b>Failed state (fsyncgate).</b> Once {@link #fail} is called — the engine reported an I/O
 *       error that may have lost written pages, typically a failed {@code fsync} — every later
 *       {@link #beforeWrite()} throws {@link StorageEngineException} until the backend is closed
 *       and opened again. A retried fsync can succeed although the kernel dropped the dirty pages
 *       (PostgreSQL's "fsyncgate"), so the only safe recovery is to reopen and let the engine
 *       recover from what is really on disk. The same state is entered when the directory is found
 *       deleted or replaced while open.
 *   <li><b>Still there.</b> {@link #beforeWrite()} checks that the directory and its lock file are
 *       the same inodes as at open: before every write at {@code durability = full}, and at most
 *       once a second at the other levels (a volatile read and a clock read otherwise). A write's
 *       check is one {@code stat} of the lock file, whose path resolves through the directory (a
 *       deleted directory fails it, a replaced one yields another file or none); {@link #problem()}
 *       (for health) stats both, plus free space below {@code min-free-space}.
 * </ul>
 *
 * <p>Thread-safe. {@link #close()} releases the lock; it is idempotent.
 */
public final class DataDirectory implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(DataDirectory.class);

  /** Name of the lock and owner file in every data directory. */
  public static final String LOCK_FILE = "cairn.lock";

  /** Prefix of quarantine directories: {@code corrupt-<yyyyMMdd'T'HHmmss'Z'>[-n]}. */
  public static final String QUARANTINE_PREFIX = "corrupt-";

  /** Backend key: how long {@link #open} waits for a held lock (default {@code 0s}). */
  public static final String LOCK_TIMEOUT = "lock-timeout";

  /** Backend key: accept a root, home or foreign-file directory (default {@code false}). */
  public static final String ALLOW_FOREIGN_FILES = "allow-foreign-files";

  /** Backend key: health is unhealthy below this much free space (default {@code 64MiB}). */
  public static final String MIN_FREE_SPACE = "min-free-space";

  /**
   * Backend key: open without the lock, for reading beside the process that holds it (default
   * {@code false}); see {@link #openReadOnly}.
   */
  public static final String READ_ONLY = "read-only";

  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
  private static final boolean POSIX =
      FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
  private static final Set<PosixFilePermission> DIR_MODE =
      PosixFilePermissions.fromString("rwx------");
  private static final Set<PosixFilePermission> FILE_MODE =
      PosixFilePermissions.fromString("rw-------");
  private static final long PRESENCE_CHECK_INTERVAL_NANOS = 1_000_000_000L;
  private static final long LOCK_RETRY_MILLIS = 50;

  /** Directories held by a backend of this process, real path to holder description. */
  private static final Map<Path, String> HELD_IN_THIS_JVM = new ConcurrentHashMap<>();

  /**
   * The data-directory settings every backend that uses this layer accepts. Each such backend lists
   * the three keys in its {@code reference.conf} and calls {@link #read(Settings)} from its
   * provider's {@code validate}.
   *
   * @param lockTimeout how long {@link #open} waits for a held lock; zero fails at once
   * @param allowForeignFiles accept a root, home or foreign-file directory
   * @param minFreeSpace bytes of free space below which health reports unhealthy; 0 disables
   */
  public record Options(Duration lockTimeout, boolean allowForeignFiles, long minFreeSpace) {
    /** The defaults: fail at once, no foreign files, 64 MiB. */
    public static final Options DEFAULTS = new Options(Duration.ZERO, false, 64L << 20);

    public Options {
      Objects.requireNonNull(lockTimeout, "lockTimeout");
      if (lockTimeout.isNegative() || minFreeSpace < 0) {
        throw new IllegalArgumentException(
            "lockTimeout and minFreeSpace must not be negative: "
                + lockTimeout
                + ", "
                + minFreeSpace);
      }
    }

    /**
     * Reads the keys, adding a problem per bad value to {@code s}; an absent key takes its default
     * (so a backend whose {@code reference.conf} predates a key still opens).
     */
    public static Options read(Settings s) {
      com.typesafe.config.Config c = s.config();
      if (c.hasPath(READ_ONLY)) {
        s.bool(READ_ONLY, false); // validated here; read at open by readOnlyRequested
      }
      return new Options(
          c.hasPath(LOCK_TIMEOUT)
              ? s.duration(LOCK_TIMEOUT, Duration.ZERO, DEFAULTS.lockTimeout())
              : DEFAULTS.lockTimeout(),
          c.hasPath(ALLOW_FOREIGN_FILES)
              ? s.bool(ALLOW_FOREIGN_FILES, DEFAULTS.allowForeignFiles())
              : DEFAULTS.allowForeignFiles(),
          c.hasPath(MIN_FREE_SPACE)
              ? s.bytes(MIN_FREE_SPACE, 0, DEFAULTS.minFreeSpace())
              : DEFAULTS.minFreeSpace());
    }

    /**
     * Reads the keys of an already validated backend.
     *
     * @throws io.cairn.persistence.ConfigurationException if they are not valid after all
     */
    public static Options of(BackendContext ctx) {
      List<ConfigProblem> problems = new ArrayList<>();
      Options o = read(new Settings(ctx.config(), "cairn.backends." + ctx.name(), problems));
      Settings.throwIfAny(problems);
      return o;
    }
  }

  private final Path path;
  private final String describe;
  private final Durability durability;
  private final java.time.Clock clock;
  private final Events events;
  private final String backendName;
  private final long minFreeSpace;
  private final FileChannel lockChannel; // null when read-only
  private final FileLock lock; // null when read-only
  private final boolean readOnly;
  private final Object dirKey;
  private final Object lockKey;
  private volatile long nextPresenceCheck;
  private volatile String failure; // null while usable
  private volatile boolean closed;

  private DataDirectory(
      Path path,
      BackendContext ctx,
      long minFreeSpace,
      FileChannel lockChannel,
      FileLock lock,
      Object dirKey,
      Object lockKey) {
    this.path = path;
    this.describe = ctx.describe();
    this.durability = ctx.durability();
    this.clock = ctx.clock();
    this.events = ctx.events();
    this.backendName = ctx.name();
    this.minFreeSpace = minFreeSpace;
    this.lockChannel = lockChannel;
    this.lock = lock;
    this.dirKey = dirKey;
    this.lockKey = lockKey;
    this.readOnly = lock == null;
    this.nextPresenceCheck = System.nanoTime() + PRESENCE_CHECK_INTERVAL_NANOS;
  }

  /**
   * Creates (0700) or checks {@code ctx.dataDir()}, refuses it if it is unsafe, locks it, records
   * the owner and tightens permissions. Call before opening the engine; close after closing it.
   *
   * @param ctx the backend's context: directory, name and clock
   * @param options the data-directory settings, usually {@link Options#of(BackendContext)}
   * @param engineFiles accepts the names of entries the backend's engine creates directly in the
   *     directory (for example {@code cairn.db}, {@code cairn.db-wal}); everything else that is not
   *     Cairn's own is foreign
   * @throws BackendLockedException if the directory is held by another backend, in this process or
   *     another, for longer than {@code lock-timeout}
   * @throws StorageEngineException if the directory is unsafe (root, home, a symbolic link inside,
   *     foreign files) or cannot be created, read or locked; nothing was created or changed then
   *     except missing directories
   */
  public static DataDirectory open(
      BackendContext ctx, Options options, Predicate<String> engineFiles) {
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(engineFiles, "engineFiles");
    Path requested = ctx.dataDir().toAbsolutePath().normalize();
    String describe = ctx.describe();
    refuseRootOrHome(requested, describe, options.allowForeignFiles());
    Path dir;
    try {
      createPrivateDirectories(requested);
      dir = requested.toRealPath();
    } catch (IOException e) {
      throw new StorageEngineException(
          "Cannot open "
              + describe
              + ": creating the data directory "
              + requested
              + " failed: "
              + e
              + ". Check that the parent exists and is writable by this user.",
          e);
    }
    if (!dir.equals(requested)) {
      refuseRootOrHome(dir, describe, options.allowForeignFiles());
      LOG.info("{}: data-dir {} resolves to {}; using that directory", describe, requested, dir);
    }
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      throw new StorageEngineException(
          "Cannot open "
              + describe
              + ": data-dir "
              + dir
              + " exists but is not a directory. Point data-dir at a directory (it is created if"
              + " missing).",
          null);
    }
    checkEntries(dir, describe, options.allowForeignFiles(), engineFiles);
    String holderDescription = describe;
    long started = System.nanoTime();
    long deadline = started + options.lockTimeout().toNanos();
    boolean[] waiting = {false}; // a lock-wait event once, when the first wait starts
    while (true) {
      String holder = HELD_IN_THIS_JVM.putIfAbsent(dir, holderDescription);
      if (holder == null) {
        break;
      }
      if (System.nanoTime() - deadline >= 0) {
        lockEvent(ctx, EventType.LOCK_TIMEOUT, dir, "this process: " + holder, started, waiting);
        throw new BackendLockedException(
            "Cannot open "
                + describe
                + ": the data directory "
                + dir
                + " is locked: it is already open in this process (pid "
                + ProcessHandle.current().pid()
                + " on host "
                + hostName()
                + ") by "
                + holder
                + waited(options)
                + ". Close that backend first, or give each backend its own data-dir.");
      }
      lockEvent(ctx, EventType.LOCK_WAIT, dir, "this process: " + holder, started, waiting);
      sleepForRetry(describe);
    }
    Path file = dir.resolve(LOCK_FILE);
    FileChannel channel = null;
    try {
      channel = openPrivate(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
      FileLock lock;
      while ((lock = tryLock(channel)) == null) {
        if (System.nanoTime() - deadline >= 0) {
          String owner = describeHolder(readOwnerLine(channel));
          lockEvent(ctx, EventType.LOCK_TIMEOUT, dir, owner, started, waiting);
          throw new BackendLockedException(
              "Cannot open "
                  + describe
                  + ": the data directory "
                  + dir
                  + " is locked by another process ("
                  + owner
                  + "; lock file "
                  + file
                  + ")"
                  + waited(options)
                  + ". Stop that process or point this backend at another data-dir; to wait for"
                  + " the holder instead, set lock-timeout. The lock is released automatically"
                  + " when the holder exits.");
        }
        lockEvent(ctx, EventType.LOCK_WAIT, dir, "another process", started, waiting);
        sleepForRetry(describe);
      }
      String line =
          "pid="
              + ProcessHandle.current().pid()
              + " host="
              + hostName()
              + " backend="
              + ctx.name()
              + " type="
              + ctx.type()
              + " since="
              + ctx.clock().instant()
              + "\n";
      channel.truncate(0);
      channel.write(ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8)), 0);
      channel.force(false);
      tighten(dir, describe, true);
      Object dirKey = fileKey(dir);
      Object lockKey = fileKey(file);
      return new DataDirectory(dir, ctx, options.minFreeSpace(), channel, lock, dirKey, lockKey);
    } catch (IOException | RuntimeException e) {
      if (channel != null) {
        try {
          channel.close();
        } catch (IOException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      HELD_IN_THIS_JVM.remove(dir);
      if (e instanceof RuntimeException r) {
        throw r;
      }
      throw new StorageEngineException(
          "Cannot open "
              + describe
              + ": creating or locking "
              + file
              + " failed: "
              + e
              + ". Check that the directory is writable by this user.",
          e);
    }
  }

  /**
   * Opens an existing data directory for reading only, without its lock, so a second process (an
   * operator's {@code cairn inspect}) can read while the owner keeps writing. Creates, tightens and
   * locks nothing; refuses what {@link #open} refuses (root, home, links, foreign files). Every
   * {@link #beforeWrite()} throws {@link ReadOnlyBackendException}. What a reader sees is the
   * engine's business: SQLite readers see the last committed transaction at the start of each read
   * (WAL readers are safe beside the writer); RocksDB opens a secondary instance (see its backend).
   *
   * @throws StorageEngineException if the directory does not exist, is not a directory or is unsafe
   */
  public static DataDirectory openReadOnly(
      BackendContext ctx, Options options, Predicate<String> engineFiles) {
    Path requested = ctx.dataDir().toAbsolutePath().normalize();
    String describe = ctx.describe();
    Path dir;
    try {
      dir = requested.toRealPath();
    } catch (IOException e) {
      throw new StorageEngineException(
          "Cannot open "
              + describe
              + " read-only: its data directory "
              + requested
              + " cannot be read ("
              + e
              + "). A read-only open creates nothing: point data-dir at the directory the service"
              + " uses.",
          e);
    }
    refuseRootOrHome(dir, describe, options.allowForeignFiles());
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      throw new StorageEngineException(
          "Cannot open " + describe + " read-only: data-dir " + dir + " is not a directory.", null);
    }
    checkEntries(dir, describe, options.allowForeignFiles(), engineFiles);
    Object dirKey;
    Object lockKey;
    try {
      dirKey = fileKey(dir);
      Path lockFile = dir.resolve(LOCK_FILE);
      lockKey = Files.exists(lockFile, LinkOption.NOFOLLOW_LINKS) ? fileKey(lockFile) : null;
    } catch (IOException e) {
      throw new StorageEngineException(
          "Cannot open " + describe + " read-only: cannot read " + dir + ": " + e, e);
    }
    return new DataDirectory(dir, ctx, options.minFreeSpace(), null, null, dirKey, lockKey);
  }

  /** Whether the backend's configuration asks for {@code read-only = true}. */
  public static boolean readOnlyRequested(BackendContext ctx) {
    return ctx.config().hasPath(READ_ONLY) && ctx.config().getBoolean(READ_ONLY);
  }

  /** Whether this directory was opened by {@link #openReadOnly}: no lock, every write refused. */
  public boolean readOnly() {
    return readOnly;
  }

  /**
   * The holder of {@code dir}'s lock as recorded in its lock file, or empty if none is recorded.
   */
  public static Optional<String> recordedHolder(Path dir) {
    Path file = dir.resolve(LOCK_FILE);
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      return Optional.empty();
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      return Optional.of(describeHolder(readOwnerLine(ch)));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** The directory (absolute, links resolved). */
  public Path path() {
    return path;
  }

  /**
   * Creates the empty file {@code name} in the directory with mode 0600 if it does not exist,
   * without following a link. Use it before an engine opens a file it would otherwise create with
   * the umask's mode (SQLite gives its {@code -wal} and {@code -shm} the database file's mode).
   *
   * @return the file
   * @throws IOException if it cannot be created, or exists as something other than a regular file
   */
  public Path createPrivateFile(String name) throws IOException {
    Path file = entry(name);
    if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
      try {
        openPrivate(file, StandardOpenOption.WRITE).close();
      } catch (FileAlreadyExistsException raced) {
        // created concurrently; checked below
      }
    }
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException(
          file
              + " is not a regular file ("
              + (Files.isSymbolicLink(file) ? "a symbolic link" : "a directory or device")
              + "); Cairn does not follow links in its data directory. Remove it.");
    }
    return file;
  }

  /**
   * Sets the directory to 0700 and every regular file directly in it to 0600 without following
   * links; quiet (debug log) about what it changes. For engines that create files with the umask's
   * mode: call it after they may have created some. Never throws.
   */
  public void tightenPermissions() {
    try {
      tighten(path, describe, false);
    } catch (IOException | RuntimeException e) {
      LOG.debug("{}: could not tighten permissions in {}: {}", describe, path, e.toString());
    }
  }

  /**
   * Moves the entries {@code names} of the directory that exist into a new quarantine directory
   * {@code corrupt-<UTC stamp>} (suffixed {@code -2}, {@code -3}... if taken), stamped with the
   * backend context's clock. Call with the engine closed.
   *
   * @return the quarantine directory
   * @throws IOException if it cannot be created or a move fails (entries moved so far stay there)
   */
  public Path quarantine(Collection<String> names) throws IOException {
    String stamp = QUARANTINE_PREFIX + STAMP.format(clock.instant());
    Path target = path.resolve(stamp);
    for (int i = 2; ; i++) {
      try {
        createPrivateDirectory(target);
        break;
      } catch (FileAlreadyExistsException taken) {
        target = path.resolve(stamp + "-" + i);
      }
    }
    for (String name : names) {
      Path source = entry(name);
      if (Files.exists(source, LinkOption.NOFOLLOW_LINKS)) {
        Files.move(
            source,
            target.resolve(name),
            StandardCopyOption.ATOMIC_MOVE,
            LinkOption.NOFOLLOW_LINKS);
      }
    }
    if (events.enabled()) {
      events.emit(
          EventType.QUARANTINE,
          backendName,
          new java.util.TreeMap<>(
              java.util.Map.of("directory", target.toString(), "entries", names.size())));
    }
    return target;
  }

  /** The names of the directory's entries that are not Cairn's own (lock, quarantines). */
  public List<String> engineEntries() throws IOException {
    List<String> names = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(path)) {
      for (Path p : entries) {
        String name = p.getFileName().toString();
        if (!isCairnsOwn(p, name)) {
          names.add(name);
        }
      }
    }
    names.sort(null);
    return names;
  }

  /**
   * Call before every write. Cheap: a volatile read, plus at {@code durability = full} one pair of
   * {@code stat} calls (at other levels at most once a second) to see the directory is still there.
   *
   * @throws StorageEngineException if the backend is failed (see {@link #fail}) or the directory
   *     was deleted or replaced; the write must not happen
   */
  public void beforeWrite() {
    if (readOnly) {
      throw new ReadOnlyBackendException(
          describe
              + " was opened with read-only = true (no lock, beside the process that writes):"
              + " nothing was written. Open it without read-only to write; that waits for the"
              + " data directory's lock (lock-timeout).");
    }
    if (failure == null) {
      long now = System.nanoTime();
      if (durability != Durability.FULL && now - nextPresenceCheck < 0) {
        return;
      }
      nextPresenceCheck = now + PRESENCE_CHECK_INTERVAL_NANOS;
      String gone = checkPresent(false);
      if (gone == null) {
        return;
      }
      fail(gone, null);
    }
    throw refusal(failure);
  }

  /**
   * Puts the backend into the failed state: every later {@link #beforeWrite()} throws until the
   * backend is closed and reopened. The first reason is kept. Call it when the engine reports an
   * I/O error that may mean written data did not reach the disk (a failed {@code fsync} or write),
   * never for a full disk (writes resume once space is freed).
   *
   * @param what what failed and where, e.g. {@code "commit (fsync of cairn.db-wal)"}
   * @param cause the engine's error, or null
   */
  public void fail(String what, Throwable cause) {
    String reason =
        what + (cause == null ? "" : ": " + cause.getMessage()) + " (at " + clock.instant() + ")";
    synchronized (this) {
      if (failure != null) {
        return;
      }
      failure = reason;
    }
    LOG.error("{} refuses all further writes until it is reopened: {}", describe, reason);
  }

  /** Whether {@link #fail} was called (or the directory was found gone). */
  public boolean failed() {
    return failure != null;
  }

  /**
   * What is wrong with the directory, for a backend's health check; empty if nothing. Checks the
   * failed state, that the directory and lock file are still the ones locked at open, and free
   * space against {@code min-free-space}. Costs a few system calls; never throws.
   */
  public Optional<String> problem() {
    if (closed) {
      return Optional.of(describe + ": the data directory is closed");
    }
    String f = failure;
    if (f != null) {
      return Optional.of(refusal(f).getMessage());
    }
    String gone = checkPresent(true);
    if (gone != null) {
      fail(gone, null);
      return Optional.of(refusal(failure).getMessage());
    }
    if (minFreeSpace > 0) {
      try {
        long free = Files.getFileStore(path).getUsableSpace();
        if (free < minFreeSpace) {
          return Optional.of(
              describe
                  + ": the file system holding "
                  + path
                  + " has "
                  + mib(free)
                  + " free, below min-free-space = "
                  + mib(minFreeSpace)
                  + "; writes fail once it is full. Free space or move the data directory.");
        }
      } catch (IOException | RuntimeException e) {
        return Optional.of(describe + ": cannot read the free space of " + path + ": " + e);
      }
    }
    return Optional.empty();
  }

  /** Releases the lock (the lock file stays). Idempotent. Call after closing the engine. */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    if (readOnly) {
      return;
    }
    try {
      if (lockChannel.isOpen()) {
        lock.release();
        lockChannel.close();
      }
    } catch (IOException e) {
      LOG.debug("{}: releasing {} failed: {}", describe, path.resolve(LOCK_FILE), e.toString());
    } finally {
      HELD_IN_THIS_JVM.remove(path);
    }
  }

  @Override
  public String toString() {
    return "DataDirectory[" + path + (failure != null ? ", failed" : "") + "]";
  }

  // ------------------------------------------------------------------ static helpers

  /**
   * Creates {@code dir} and missing parents; each directory created gets mode 0700 whatever the
   * umask. An existing {@code dir} is left alone. For checkpoint and backup targets.
   */
  public static void createPrivateDirectories(Path dir) throws IOException {
    Path abs = dir.toAbsolutePath().normalize();
    if (Files.isDirectory(abs)) {
      return;
    }
    List<Path> missing = new ArrayList<>();
    for (Path p = abs; p != null && !Files.exists(p); p = p.getParent()) {
      missing.add(0, p);
    }
    for (Path p : missing) {
      try {
        createPrivateDirectory(p);
      } catch (FileAlreadyExistsException raced) {
        if (!Files.isDirectory(p)) {
          throw raced;
        }
      }
    }
  }

  /**
   * Sets {@code dir} to 0700 and the regular files directly in it to 0600, without following links
   * (a link is left alone and logged). For directories an engine wrote outside a data directory,
   * such as a checkpoint.
   */
  public static void tightenTree(Path dir) throws IOException {
    tighten(dir, dir.toString(), false);
  }

  /** {@code corrupt-<stamp>} for {@code instant}: the name rule of quarantine directories. */
  public static String quarantineName(Instant instant) {
    return QUARANTINE_PREFIX + STAMP.format(instant);
  }

  private static void createPrivateDirectory(Path dir) throws IOException {
    if (POSIX) {
      Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(DIR_MODE));
      setMode(dir, DIR_MODE);
    } else {
      Files.createDirectory(dir);
    }
  }

  private static FileChannel openPrivate(Path file, OpenOption... extra) throws IOException {
    Set<OpenOption> opts = new java.util.HashSet<>(List.of(extra));
    opts.add(StandardOpenOption.CREATE);
    opts.add(LinkOption.NOFOLLOW_LINKS);
    boolean existed = Files.exists(file, LinkOption.NOFOLLOW_LINKS);
    FileChannel ch =
        POSIX
            ? FileChannel.open(file, opts, PosixFilePermissions.asFileAttribute(FILE_MODE))
            : FileChannel.open(file, opts, new FileAttribute<?>[0]);
    if (POSIX && !existed) {
      setMode(file, FILE_MODE); // the umask may have removed bits, never added: set exactly
    }
    return ch;
  }

  private static void setMode(Path p, Set<PosixFilePermission> mode) throws IOException {
    Files.getFileAttributeView(p, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
        .setPermissions(mode);
  }

  /**
   * 0700 on {@code dir}, 0600 on each regular file in it, never following a link; if {@code warn},
   * logs a warning for each mode it tightened (an existing directory that was looser).
   *
   * <p>One {@code stat} per entry (type and mode read together) and a {@code chmod} only where the
   * mode differs: this runs at open, after the engine opened and at close, over every file of the
   * directory, so its cost grows with the file count (a RocksDB directory of 100 GB holds ~1,600
   * files).
   */
  private static void tighten(Path dir, String describe, boolean warn) throws IOException {
    if (!POSIX) {
      return;
    }
    tightenOne(dir, DIR_MODE, describe, warn);
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path p : entries) {
        try {
          PosixFileAttributes a =
              Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
          if (a.isRegularFile()) {
            tightenOne(p, a.permissions(), FILE_MODE, describe, warn);
          } else if (a.isDirectory() && p.getFileName().toString().startsWith(QUARANTINE_PREFIX)) {
            tightenOne(p, a.permissions(), DIR_MODE, describe, warn);
          }
        } catch (NoSuchFileException deleted) {
          // the engine removed it meanwhile (an obsolete file): nothing to tighten
        }
      }
    }
  }

  private static void tightenOne(
      Path p, Set<PosixFilePermission> mode, String describe, boolean warn) throws IOException {
    tightenOne(
        p,
        Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS).permissions(),
        mode,
        describe,
        warn);
  }

  private static void tightenOne(
      Path p,
      Set<PosixFilePermission> current,
      Set<PosixFilePermission> mode,
      String describe,
      boolean warn)
      throws IOException {
    if (!current.equals(mode)) {
      setMode(p, mode);
      if (warn) {
        LOG.warn(
            "{}: tightened {} from {} to {} (Cairn keeps its directory 0700 and files 0600)",
            describe,
            p,
            PosixFilePermissions.toString(current),
            PosixFilePermissions.toString(mode));
      }
    }
  }

  private static void refuseRootOrHome(Path dir, String describe, boolean allowed) {
    if (allowed) {
      return;
    }
    String what = null;
    if (dir.getParent() == null) {
      what = "the root of the file system";
    } else {
      String home = System.getProperty("user.home");
      if (home != null
          && !home.isEmpty()
          && dir.equals(Path.of(home).toAbsolutePath().normalize())) {
        what = "the home directory of user " + System.getProperty("user.name");
      }
    }
    if (what != null) {
      throw new StorageEngineException(
          "Cannot open "
              + describe
              + ": data-dir "
              + dir
              + " is "
              + what
              + ", which holds other data. Give the backend a directory of its own, such as "
              + dir.resolve("cairn-data")
              + " (or set "
              + ALLOW_FOREIGN_FILES
              + " = true if you really mean it).",
          null);
    }
  }

  /** Refuses links always, and foreign entries unless allowed. Reads only. */
  private static void checkEntries(
      Path dir, String describe, boolean allowForeign, Predicate<String> engineFiles) {
    List<String> foreign = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path p : entries) {
        String name = p.getFileName().toString();
        if (Files.isSymbolicLink(p)) {
          String target;
          try {
            target = Files.readSymbolicLink(p).toString();
          } catch (IOException e) {
            target = "(unreadable: " + e + ")";
          }
          throw new StorageEngineException(
              "Cannot open "
                  + describe
                  + ": the data directory "
                  + dir
                  + " contains the symbolic link "
                  + p
                  + " -> "
                  + target
                  + ", which Cairn did not make. Cairn never follows links in its data directory"
                  + " (a planted link could make it overwrite or expose the target). Remove the"
                  + " link (and restore the real file there if it was one of Cairn's); to keep"
                  + " the data on another disk, point data-dir itself at the real directory.",
              null);
        }
        if (!isCairnsOwn(p, name) && !engineFiles.test(name)) {
          foreign.add(name);
        }
      }
    } catch (IOException e) {
      throw new StorageEngineException(
          "Cannot open " + describe + ": listing the data directory " + dir + " failed: " + e, e);
    }
    if (!foreign.isEmpty() && !allowForeign) {
      foreign.sort(null);
      throw new StorageEngineException(
          "Cannot open "
              + describe
              + ": the data directory "
              + dir
              + " holds files Cairn did not create: "
              + (foreign.size() > 5
                  ? foreign.subList(0, 5) + " and " + (foreign.size() - 5) + " more"
                  : foreign)
              + ". A backend needs a directory of its own: point data-dir at an empty or new"
              + " directory, or move those files out. Set "
              + ALLOW_FOREIGN_FILES
              + " = true only if they must stay there.",
          null);
    }
  }

  private static boolean isCairnsOwn(Path p, String name) {
    return name.equals(LOCK_FILE)
        || name.equals(io.cairn.persistence.BackupManifest.FILE) // a backup opened in place
        || name.equals(EncryptionProvider.KEY_CHECK_FILE)
        || name.equals(EncryptionProvider.KEY_CHECK_FILE + ".tmp")
        || name.equals(EncryptionProvider.KEY_HASH_FILE)
        || name.equals(EncryptionProvider.KEY_HASH_FILE + ".tmp")
        || (name.startsWith(QUARANTINE_PREFIX) && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS));
  }

  /**
   * Null if the directory and lock file are the ones locked at open, else what happened. {@code
   * both}: stat the directory and the lock file; else (before a write) only the lock file, which
   * shows every case alone: its path resolves through the directory, so a deleted directory fails
   * it and a replaced one yields another file (or none). One {@code stat} per write instead of two
   * matters at {@code full}, where every write checks and a WAL fsync on a virtual disk takes only
   * 50-120 µs (benchmarks/RESULTS-rocksdb.md, 2026-12-07). A read-only open without a lock file
   * stats the directory.
   */
  private String checkPresent(boolean both) {
    try {
      boolean lockFile = !(readOnly && lockKey == null);
      Object d = both || !lockFile ? fileKey(path) : dirKey;
      Object l = lockFile ? fileKey(path.resolve(LOCK_FILE)) : null;
      if (Objects.equals(d, dirKey) && Objects.equals(l, lockKey)) {
        return null;
      }
      return "the data directory "
          + path
          + " was replaced while the backend had it open (it is no longer the directory that was"
          + " opened); what was written since is not in it";
    } catch (IOException e) {
      return "the data directory "
          + path
          + " (or its "
          + LOCK_FILE
          + ") was deleted while the backend had it open ("
          + e
          + "); what was written since is lost on close";
    }
  }

  private StorageEngineException refusal(String reason) {
    return new StorageEngineException(
        describe
            + " refuses writes: "
            + reason
            + ". Nothing was written. Close and reopen the backend: opening recovers from what is"
            + " really on disk (a retried fsync can report success for pages the operating system"
            + " already dropped); then run 'cairn verify'.",
        null);
  }

  private static Object fileKey(Path p) throws IOException {
    BasicFileAttributes a =
        Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    Object key = a.fileKey();
    return key != null ? key : a.creationTime();
  }

  private static FileLock tryLock(FileChannel channel) throws IOException {
    try {
      return channel.tryLock();
    } catch (OverlappingFileLockException e) {
      return null;
    }
  }

  private static String readOwnerLine(FileChannel channel) {
    try {
      ByteBuffer buf = ByteBuffer.allocate(1024);
      channel.read(buf, 0);
      return new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8).trim();
    } catch (IOException e) {
      return "";
    }
  }

  /** {@code pid 123 on host h (backend 'main', type sqlite, since ...)} from an owner line. */
  static String describeHolder(String line) {
    Map<String, String> fields = new TreeMap<>();
    for (String part : line.split("\\s+")) {
      int eq = part.indexOf('=');
      if (eq > 0) {
        fields.put(part.substring(0, eq), part.substring(eq + 1));
      }
    }
    if (!fields.containsKey("pid")) {
      return line.isEmpty() ? "holder unknown" : "holder " + line;
    }
    return "pid "
        + fields.get("pid")
        + " on host "
        + fields.getOrDefault("host", "unknown")
        + " (backend '"
        + fields.getOrDefault("backend", "?")
        + "'"
        + (fields.containsKey("type") ? ", type " + fields.get("type") : "")
        + (fields.containsKey("since") ? ", since " + fields.get("since") : "")
        + ")";
  }

  private static String waited(Options options) {
    return options.lockTimeout().isZero()
        ? " (lock-timeout = 0s: not waiting)"
        : " (waited lock-timeout = " + options.lockTimeout() + ")";
  }

  /** A lock-wait event (once per open) or a lock-timeout event, to {@code ctx.events()}. */
  private static void lockEvent(
      BackendContext ctx,
      EventType type,
      Path dir,
      String holder,
      long started,
      boolean[] waiting) {
    if (type == EventType.LOCK_WAIT && waiting[0] || !ctx.events().enabled()) {
      return;
    }
    waiting[0] = true;
    java.util.Map<String, Object> f = new java.util.LinkedHashMap<>();
    f.put("data-dir", dir.toString());
    f.put("holder", holder);
    f.put("waited-ms", (System.nanoTime() - started) / 1_000_000);
    ctx.events().emit(type, ctx.name(), f);
  }

  private static void sleepForRetry(String describe) {
    try {
      Thread.sleep(LOCK_RETRY_MILLIS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StorageEngineException(
          "Interrupted while " + describe + " waited for its data directory's lock", e);
    }
  }

  private Path entry(String name) {
    if (name.isEmpty() || name.contains("/") || name.contains("\\") || name.equals("..")) {
      throw new IllegalArgumentException("Not a plain file name: '" + name + "'");
    }
    return path.resolve(name);
  }

  private static String mib(long bytes) {
    return (bytes >> 20) + " MiB";
  }

  private static String hostCache;

  /** This machine's host name, read once (no DNS lookup where the kernel knows it). */
  static synchronized String hostName() {
    if (hostCache == null) {
      String h = null;
      try {
        Path kernel = Path.of("/proc/sys/kernel/hostname");
        if (Files.isReadable(kernel)) {
          h = Files.readString(kernel).trim();
        }
      } catch (IOException | RuntimeException ignored) {
        // fall through
      }
      if (h == null || h.isEmpty()) {
        try {
          h = InetAddress.getLocalHost().getHostName();
        } catch (IOException | RuntimeException e) {
          h = "unknown";
        }
      }
      hostCache = h.replaceAll("\\s", "_");
    }
    return hostCache;
  }
}
