package io.cairn.backend.rocksdb;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URL;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.rocksdb.RocksDB;
import org.rocksdb.util.Environment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads rocksdbjni's native library from a per-user cache instead of letting rocksdbjni extract a
 * fresh 17 MB copy into {@code java.io.tmpdir} at every start (a copy a killed JVM never deletes).
 *
 * <h2>Where</h2>
 *
 * The directory is, first that is set: the system property {@value #DIR_PROPERTY}, the environment
 * variable {@value #DIR_ENV}, else {@code $XDG_CACHE_HOME/cairn/rocksdbjni-<id>} or {@code
 * ~/.cache/cairn/rocksdbjni-<id>}, where {@code <id>} is the rocksdbjni version (from the jar's
 * name, when it has one) and the first 16 hex digits of the library's SHA-256, so two rocksdbjni
 * builds never share a file. A configured directory is used as is (one library per directory).
 *
 * <h2>How</h2>
 *
 * Directories Cairn creates are 0700; a directory not owned by this user, or writable by group or
 * others, is refused (someone else could swap the library). If the library is present and its
 * SHA-256 equals that of the copy in the jar, it is loaded; otherwise the jar's copy is written to
 * a temporary file in the same directory, fsynced, and renamed over the final name atomically, so
 * two JVMs starting at once each load a complete, verified file (the same bytes). Temporary files
 * left by a JVM killed mid-extraction are removed by later starts. Whatever fails (no home,
 * read-only file system, refused directory) falls back to rocksdbjni's own loader, with a warning
 * naming the reason, so a backend always starts.
 */
final class NativeLibrary {
  static final String DIR_PROPERTY = "cairn.rocksdb.native-dir";
  static final String DIR_ENV = "CAIRN_ROCKSDB_NATIVE_DIR";
  private static final Logger LOG = LoggerFactory.getLogger(NativeLibrary.class);
  private static final Set<PosixFilePermission> DIR_PERMS =
      PosixFilePermissions.fromString("rwx------");
  private static final Duration STALE_TEMP = Duration.ofMinutes(10);
  private static volatile boolean loaded;

  private NativeLibrary() {}

  /** Loads the library once per JVM (idempotent, thread-safe). */
  static synchronized void load() {
    if (loaded) {
      return;
    }
    try {
      Path dir = loadFromCache();
      LOG.debug("Loaded rocksdbjni from {}", dir);
    } catch (IOException | RuntimeException | UnsatisfiedLinkError e) {
      LOG.warn(
          "Could not load rocksdbjni's native library from Cairn's cache ({}); falling back to"
              + " rocksdbjni's loader, which extracts a copy into java.io.tmpdir. Set -D{} or {}"
              + " to a directory of your own to avoid that.",
          e.toString(),
          DIR_PROPERTY,
          DIR_ENV);
      RocksDB.loadLibrary();
    }
    loaded = true;
  }

  private static Path loadFromCache() throws IOException {
    URL resource = RocksDB.class.getResource("/" + Environment.getJniLibraryFileName("rocksdb"));
    String fallback = Environment.getFallbackJniLibraryFileName("rocksdb");
    if (resource == null && fallback != null) {
      resource = RocksDB.class.getResource("/" + fallback);
    }
    if (resource == null) {
      throw new IOException("the rocksdbjni jar has no native library for this platform");
    }
    String sha;
    try (InputStream in = resource.openStream()) {
      sha = sha256(in);
    }
    Path dir = directory(resource, sha);
    Path lib = dir.resolve(cachedFileName());
    if (!matches(lib, sha)) {
      extract(resource, dir, lib, sha);
    }
    RocksDB.loadLibrary(List.of(dir.toString()));
    return dir;
  }

  /**
   * The name {@link RocksDB#loadLibrary(List)} looks for in each directory it is given. In
   * rocksdbjni 11.8.1 that is {@code Environment.getJniLibraryFileName("rocksdbjni")}, e.g. {@code
   * librocksdbjnijni-linux64.so} (the jar's resource is {@code librocksdbjni-linux64.so}); asking
   * the same method keeps the two in step if rocksdbjni changes it.
   */
  static String cachedFileName() {
    return Environment.getJniLibraryFileName("rocksdbjni");
  }

  /** The cache directory, created 0700 where missing and checked for ownership and mode. */
  static Path directory(URL resource, String sha) throws IOException {
    String configured = System.getProperty(DIR_PROPERTY);
    if (configured == null || configured.isBlank()) {
      configured = System.getenv(DIR_ENV);
    }
    Path dir;
    if (configured != null && !configured.isBlank()) {
      dir = Path.of(configured).toAbsolutePath();
    } else {
      String xdg = System.getenv("XDG_CACHE_HOME");
      Path base =
          xdg != null && !xdg.isBlank()
              ? Path.of(xdg)
              : Path.of(System.getProperty("user.home"), ".cache");
      dir = base.resolve("cairn").resolve("rocksdbjni-" + version(resource) + sha.substring(0, 16));
    }
    createPrivate(dir);
    checkPrivate(dir);
    return dir;
  }

  private static String version(URL resource) {
    Matcher m = Pattern.compile("rocksdbjni-([0-9][^/!]*?)\\.jar!").matcher(resource.toString());
    return m.find() ? m.group(1).replaceAll("[^A-Za-z0-9._-]", "_") + "-" : "";
  }

  private static void createPrivate(Path dir) throws IOException {
    if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    Path parent = dir.getParent();
    if (parent != null && !Files.isDirectory(parent)) {
      createPrivate(parent);
    }
    try {
      Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(DIR_PERMS));
    } catch (java.nio.file.FileAlreadyExistsException e) {
      // another JVM made it first
    } catch (UnsupportedOperationException e) {
      Files.createDirectory(dir);
    }
  }

  private static void checkPrivate(Path dir) throws IOException {
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException(dir + " is not a directory (or is a symbolic link)");
    }
    PosixFileAttributes attrs;
    try {
      attrs = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (UnsupportedOperationException e) {
      return; // not POSIX: nothing to check
    }
    String me = System.getProperty("user.name");
    if (!attrs.owner().getName().equals(me)) {
      throw new IOException(dir + " is owned by " + attrs.owner().getName() + ", not " + me);
    }
    Set<PosixFilePermission> p = attrs.permissions();
    if (p.contains(PosixFilePermission.GROUP_WRITE)
        || p.contains(PosixFilePermission.OTHERS_WRITE)) {
      throw new IOException(
          dir + " is writable by group or others (" + PosixFilePermissions.toString(p) + ")");
    }
  }

  private static boolean matches(Path lib, String sha) throws IOException {
    if (!Files.isRegularFile(lib, LinkOption.NOFOLLOW_LINKS)) {
      return false;
    }
    try (InputStream in = Files.newInputStream(lib, LinkOption.NOFOLLOW_LINKS)) {
      return sha.equals(sha256(in));
    }
  }

  private static void extract(URL resource, Path dir, Path lib, String sha) throws IOException {
    removeStaleTemps(dir);
    Path tmp = Files.createTempFile(dir, ".rocksdbjni-", ".tmp"); // 0600
    try {
      String written;
      try (InputStream in = resource.openStream();
          OutputStream out =
              Files.newOutputStream(tmp, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
        MessageDigest md = digest();
        try (DigestInputStream din = new DigestInputStream(in, md)) {
          din.transferTo(out);
        }
        written = HexFormat.of().formatHex(md.digest());
      }
      if (!written.equals(sha)) {
        throw new IOException("the library changed while being extracted");
      }
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ch.force(true);
      }
      Files.move(tmp, lib, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
    LOG.info("Extracted rocksdbjni's native library to {}", lib);
  }

  private static void removeStaleTemps(Path dir) {
    Instant cutoff = Instant.now().minus(STALE_TEMP);
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : files.toList()) {
        String n = p.getFileName().toString();
        if (n.startsWith(".rocksdbjni-") && n.endsWith(".tmp")) {
          FileTime t = Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS);
          if (t.toInstant().isBefore(cutoff)) {
            Files.deleteIfExists(p);
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      LOG.debug("Could not clean {}: {}", dir, e.toString());
    }
  }

  private static String sha256(InputStream in) throws IOException {
    MessageDigest md = digest();
    byte[] buf = new byte[1 << 16];
    for (int n; (n = in.read(buf)) > 0; ) {
      md.update(buf, 0, n);
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
  }
}
