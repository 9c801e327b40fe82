package io.cairn.backend.rocksdb;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
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
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.jar.JarEntry;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32;
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
 * name, when it has one) and 16 hex digits: the CRC-32 and the size of the library as the jar
 * records them, so two rocksdbjni builds never share a file. A configured directory is used as is
 * (one library per directory).
 *
 * <h2>How</h2>
 *
 * Directories Cairn creates are 0700; a directory not owned by this user, or writable by group or
 * others, is refused (someone else could swap the library). The cached file is loaded only if it is
 * a regular file (not a link) owned by this user, not writable by group or others, and its size and
 * CRC-32 equal what the jar's central directory records for the library's entry; otherwise the
 * jar's copy is inflated into a temporary file in the same directory (its CRC-32 and size checked
 * against the jar's record while it is written), fsynced, and renamed over the final name
 * atomically, so two JVMs starting at once each load a complete, verified file (the same bytes). A
 * cached copy that is present but does not match is named in a warning before it is replaced.
 * Temporary files left by a JVM killed mid-extraction are removed by later starts. Whatever fails
 * (no home, read-only file system, refused directory) falls back to rocksdbjni's own loader, with a
 * warning naming the reason, so a backend always starts.
 *
 * <h2>Why a CRC-32 and not a cryptographic hash</h2>
 *
 * The check guards against a copy that is not the jar's library: truncated by a crash or a full
 * disk, damaged on disk, or left by another rocksdbjni build in a configured directory. Until issue
 * 15 it compared SHA-256 digests, which meant inflating and hashing the 17 MB entry and hashing the
 * cached copy at every JVM start (most of the 3.8-4.5 s first open measured then, with the digest
 * code still interpreted). The jar's central directory already records the entry's CRC-32 and size,
 * so reading them costs nothing, and a CRC-32 over the cached copy (an intrinsic, a few
 * milliseconds for 17 MB) detects every such accident. A CRC does not stop an adversary who can
 * write the file, and neither did the digest: what stops someone else from replacing the library is
 * the ownership and mode checks of the directory and the file above; whoever passes them runs as
 * this user already and could as well replace the rocksdbjni jar itself.
 */
final class NativeLibrary {
  static final String DIR_PROPERTY = "cairn.rocksdb.native-dir";
  static final String DIR_ENV = "CAIRN_ROCKSDB_NATIVE_DIR";
  private static final Logger LOG = LoggerFactory.getLogger(NativeLibrary.class);
  private static final Set<PosixFilePermission> DIR_PERMS =
      PosixFilePermissions.fromString("rwx------");
  private static final Duration STALE_TEMP = Duration.ofMinutes(10);
  private static volatile boolean loaded;

  /** How often this JVM inflated the library from the jar (tests observe the cache with it). */
  private static final AtomicInteger INFLATIONS = new AtomicInteger();

  private NativeLibrary() {}

  /** What the jar records for the library's entry: its CRC-32 and its (inflated) size. */
  record Identity(long crc, long size) {
    /** 16 hex digits, part of the default directory's name. */
    String hex() {
      return String.format("%08x%08x", crc, size & 0xffffffffL);
    }
  }

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

  /** How many times this JVM inflated the library out of the jar (0 when the cache served it). */
  static int inflations() {
    return INFLATIONS.get();
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
    Identity id = identity(resource);
    Path dir = directory(resource, id);
    Path lib = dir.resolve(cachedFileName());
    String mismatch = mismatch(lib, id);
    if (mismatch != null) {
      if (Files.exists(lib, LinkOption.NOFOLLOW_LINKS)) {
        LOG.warn(
            "The cached rocksdbjni library {} is not the jar's ({}); replacing it with the jar's"
                + " copy",
            lib,
            mismatch);
      }
      extract(resource, dir, lib, id);
    }
    RocksDB.loadLibrary(List.of(dir.toString()));
    return dir;
  }

  /**
   * The library's CRC-32 and size from the jar's central directory, read without inflating the
   * entry; a library that is not in a jar (an exploded class path) is read once to compute them.
   */
  static Identity identity(URL resource) throws IOException {
    URLConnection connection = resource.openConnection();
    if (connection instanceof JarURLConnection jar) {
      jar.setUseCaches(false); // a JarFile of our own, closed here, not one kept for the JVM's life
      try (java.util.jar.JarFile file = jar.getJarFile()) {
        JarEntry entry = file.getJarEntry(jar.getEntryName());
        if (entry != null && entry.getCrc() >= 0 && entry.getSize() >= 0) {
          return new Identity(entry.getCrc(), entry.getSize());
        }
      }
    }
    try (InputStream in = resource.openStream()) {
      return crcOf(in, null);
    }
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
  static Path directory(URL resource, Identity id) throws IOException {
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
      dir = base.resolve("cairn").resolve("rocksdbjni-" + version(resource) + id.hex());
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
    String problem = notPrivate(dir);
    if (problem != null) {
      throw new IOException(problem);
    }
  }

  /** Why {@code path} could be replaced by someone else, or null when only this user can. */
  private static String notPrivate(Path path) throws IOException {
    PosixFileAttributes attrs;
    try {
      attrs = Files.readAttributes(path, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (UnsupportedOperationException e) {
      return null; // not POSIX: nothing to check
    }
    String me = System.getProperty("user.name");
    if (!attrs.owner().getName().equals(me)) {
      return path + " is owned by " + attrs.owner().getName() + ", not " + me;
    }
    Set<PosixFilePermission> p = attrs.permissions();
    if (p.contains(PosixFilePermission.GROUP_WRITE)
        || p.contains(PosixFilePermission.OTHERS_WRITE)) {
      return path + " is writable by group or others (" + PosixFilePermissions.toString(p) + ")";
    }
    return null;
  }

  /**
   * Null when {@code lib} is a private regular file with the jar's size and CRC-32; otherwise what
   * differs (absent, a link, not private, wrong size, wrong CRC-32).
   */
  static String mismatch(Path lib, Identity id) throws IOException {
    if (!Files.exists(lib, LinkOption.NOFOLLOW_LINKS)) {
      return "absent";
    }
    if (!Files.isRegularFile(lib, LinkOption.NOFOLLOW_LINKS)) {
      return "not a regular file (or a symbolic link)";
    }
    String problem = notPrivate(lib);
    if (problem != null) {
      return problem;
    }
    long size = Files.size(lib);
    if (size != id.size()) {
      return "size " + size + " where the jar's library has " + id.size();
    }
    Identity found;
    try (InputStream in = Files.newInputStream(lib, LinkOption.NOFOLLOW_LINKS)) {
      found = crcOf(in, null);
    }
    if (found.size() != id.size() || found.crc() != id.crc()) {
      return String.format(
          "CRC-32 %08x (size %d) where the jar's library has %08x (size %d)",
          found.crc(), found.size(), id.crc(), id.size());
    }
    return null;
  }

  private static void extract(URL resource, Path dir, Path lib, Identity id) throws IOException {
    removeStaleTemps(dir);
    Path tmp = Files.createTempFile(dir, ".rocksdbjni-", ".tmp"); // 0600
    try {
      Identity written;
      INFLATIONS.incrementAndGet();
      try (InputStream in = resource.openStream();
          OutputStream out =
              Files.newOutputStream(tmp, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
        written = crcOf(in, out);
      }
      if (!written.equals(id)) {
        throw new IOException(
            String.format(
                "the library inflated from %s has CRC-32 %08x and size %d where the jar records"
                    + " %08x and %d (a damaged jar, or it changed while being read)",
                resource, written.crc(), written.size(), id.crc(), id.size()));
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

  /** The CRC-32 and length of everything {@code in} yields, copied to {@code out} when not null. */
  private static Identity crcOf(InputStream in, OutputStream out) throws IOException {
    CRC32 crc = new CRC32();
    byte[] buf = new byte[1 << 20];
    long size = 0;
    for (int n; (n = in.read(buf)) > 0; ) {
      crc.update(buf, 0, n);
      if (out != null) {
        out.write(buf, 0, n);
      }
      size += n;
    }
    return new Identity(crc.getValue(), size);
  }
}
