package io.cairn.persistence;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import io.cairn.persistence.spi.DataDirectory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * The manifest of a backup directory: what {@link PersistenceRegistry#backup} (the in-service path,
 * called by cairn-admin's {@code POST /backup}) and {@code cairn backup} write next to the engine's
 * files, and what {@code cairn restore} checks before it changes anything.
 *
 * <h2>On disk</h2>
 *
 * <pre>
 * &lt;backup-dir&gt;/
 *   cairn-backup.json     this manifest (written last, through a temporary file and a rename:
 *                         a directory without it is an unfinished backup)
 *   ...                   the engine's files, exactly as listed in "files"
 * </pre>
 *
 * <pre>
 * {"format": "cairn-backup", "version": 1, "backend": "main", "type": "sqlite",
 *  "createdAt": "2026-12-05T14:00:00Z",
 *  "stores": [{"kind": "kv", "name": "users", "entries": 42}, ...],
 *  "files":  [{"path": "cairn.db", "bytes": 8192, "sha256": "&lt;64 hex&gt;"}, ...]}
 * </pre>
 *
 * <p>{@code entries} are counted on the copy itself (opened read-only after the engine wrote it),
 * so they are exact for the instant the copy shows: live KV entries, log records retained,
 * snapshots. Paths are relative, use {@code /}, and never contain {@code ..}. Version 1 is the only
 * version; a reader refuses a newer one by name.
 */
public final class BackupManifest {
  /** The manifest's file name inside a backup directory. */
  public static final String FILE = "cairn-backup.json";

  /** The format version this code writes and reads. */
  public static final int VERSION = 1;

  /** One store of the copy and its exact count. */
  public record Store(String kind, String name, long entries) {}

  /** One file of the copy: relative path, size and SHA-256 (hex). */
  public record FileEntry(String path, long bytes, String sha256) {}

  private final String backend;
  private final String type;
  private final Instant createdAt;
  private final List<Store> stores;
  private final List<FileEntry> files;

  public BackupManifest(
      String backend, String type, Instant createdAt, List<Store> stores, List<FileEntry> files) {
    this.backend = Objects.requireNonNull(backend, "backend");
    this.type = Objects.requireNonNull(type, "type");
    this.createdAt = Objects.requireNonNull(createdAt, "createdAt");
    this.stores = List.copyOf(stores);
    this.files = List.copyOf(files);
  }

  public String backend() {
    return backend;
  }

  public String type() {
    return type;
  }

  public Instant createdAt() {
    return createdAt;
  }

  public List<Store> stores() {
    return stores;
  }

  public List<FileEntry> files() {
    return files;
  }

  /** Total bytes of the listed files. */
  public long totalBytes() {
    return files.stream().mapToLong(FileEntry::bytes).sum();
  }

  /**
   * Opens the copy in {@code dir} read-only with backend {@code name}'s settings from {@code
   * config} (so an encrypted copy opens with the same keys), counts its stores, checksums its files
   * and writes the manifest. Used by {@link PersistenceRegistry#backup} and {@code cairn backup}
   * after the engine wrote the copy.
   */
  public static BackupManifest describeCopy(
      String name, String type, Config config, Path dir, java.time.Clock clock, Progress progress) {
    String key = "cairn.backends." + com.typesafe.config.ConfigUtil.quoteString(name);
    Config section =
        config
            .getConfig(key)
            .withValue(
                "data-dir", com.typesafe.config.ConfigValueFactory.fromAnyRef(dir.toString()))
            .withValue(
                DataDirectory.READ_ONLY, com.typesafe.config.ConfigValueFactory.fromAnyRef(true));
    Config copyConfig =
        ConfigFactory.empty()
            .withValue(key, section.root())
            .withValue(
                "cairn.default-backend", com.typesafe.config.ConfigValueFactory.fromAnyRef(name));
    progress.report("count", 0, -1);
    List<Store> stores;
    try (PersistenceRegistry copy = PersistenceRegistry.builder().clock(clock).open(copyConfig)) {
      stores = countStores(copy.backend(name));
    }
    try {
      List<FileEntry> files = listFiles(dir);
      BackupManifest m = new BackupManifest(name, type, clock.instant(), stores, files);
      m.write(dir);
      progress.report("manifest", 1, 1);
      return m;
    } catch (IOException e) {
      throw new StorageEngineException(
          "Backup of backend '" + name + "' into " + dir + ": writing its manifest failed: " + e,
          e);
    }
  }

  /** Counts every store of {@code copy}, a backend opened (read-only) on the backup. */
  static List<Store> countStores(StorageBackend copy) {
    List<Store> out = new ArrayList<>();
    for (StoreId id : copy.stores()) {
      long n =
          switch (id.kind()) {
            case KEY_VALUE -> {
              long c = 0;
              try (CloseableIterator<Entry> it = copy.keyValue(id.name()).scanPrefix(new byte[0])) {
                while (it.hasNext()) {
                  it.next();
                  c++;
                }
              }
              yield c;
            }
            case LOG -> {
              LogStore log = copy.log(id.name());
              yield log.nextOffset() - log.firstOffset();
            }
            case SNAPSHOT -> copy.snapshots(id.name()).list().size();
          };
      out.add(new Store(id.kind().shortName(), id.name(), n));
    }
    return out;
  }

  /** Lists and checksums every regular file under {@code dir} (the manifest excepted), sorted. */
  static List<FileEntry> listFiles(Path dir) throws IOException {
    List<FileEntry> out = new ArrayList<>();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted().toList()) {
        if (Files.isSymbolicLink(p)) {
          throw new IOException("backup directory " + dir + " holds a symbolic link: " + p);
        }
        if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
          continue;
        }
        String rel = dir.relativize(p).toString().replace('\\', '/');
        if (rel.equals(FILE) || rel.equals(FILE + ".tmp")) {
          continue;
        }
        out.add(new FileEntry(rel, Files.size(p), sha256(p)));
      }
    }
    return out;
  }

  /** SHA-256 of a file's bytes, lower-case hex. */
  public static String sha256(Path file) throws IOException {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /**
   * Checks every listed file of the backup in {@code dir} (present, size, SHA-256) and returns one
   * line per problem; empty when the backup is intact. Reads every byte.
   */
  public List<String> check(Path dir, Progress progress) {
    List<String> problems = new ArrayList<>();
    long total = totalBytes();
    long done = 0;
    for (FileEntry f : files) {
      Path p = resolve(dir, f.path());
      try {
        if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
          problems.add(f.path() + ": listed in the manifest but missing from " + dir);
        } else if (Files.size(p) != f.bytes()) {
          problems.add(f.path() + ": " + Files.size(p) + " bytes, the manifest says " + f.bytes());
        } else if (!sha256(p).equals(f.sha256())) {
          problems.add(f.path() + ": SHA-256 differs from the manifest (the file was changed)");
        }
      } catch (IOException e) {
        problems.add(f.path() + ": cannot read: " + e);
      }
      done += f.bytes();
      progress.report("check " + f.path(), done, total);
    }
    return problems;
  }

  /** {@code dir/rel}, refusing a path that leaves {@code dir}. */
  public static Path resolve(Path dir, String rel) {
    Path p = dir.resolve(rel).normalize();
    if (!p.startsWith(dir.normalize()) || rel.isEmpty()) {
      throw new StoreCorruptedException(
          "Backup manifest in " + dir + " lists a path outside the backup: " + rel);
    }
    return p;
  }

  /** Writes the manifest into {@code dir} through a temporary file and an atomic rename. */
  public void write(Path dir) throws IOException {
    Path tmp = dir.resolve(FILE + ".tmp");
    Files.writeString(tmp, toJson(), StandardCharsets.UTF_8);
    try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
      ch.force(true);
    }
    Files.move(tmp, dir.resolve(FILE), StandardCopyOption.ATOMIC_MOVE);
    DataDirectory.tightenTree(dir);
  }

  /**
   * Reads the manifest of the backup in {@code dir}.
   *
   * @throws StoreCorruptedException if it is missing, unreadable, of another format or version
   */
  public static BackupManifest read(Path dir) {
    Path file = dir.resolve(FILE);
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      throw new StoreCorruptedException(
          dir
              + " is not a Cairn backup: it has no "
              + FILE
              + " (a backup interrupted before its end has none either). Name the directory a"
              + " finished 'cairn backup' or POST /backup wrote.");
    }
    try {
      Config c =
          ConfigFactory.parseString(
              Files.readString(file, StandardCharsets.UTF_8),
              ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON));
      if (!"cairn-backup".equals(c.getString("format"))) {
        throw new StoreCorruptedException(file + " is not a Cairn backup manifest");
      }
      int v = c.getInt("version");
      if (v != VERSION) {
        throw new StoreCorruptedException(
            file
                + " has format version "
                + v
                + "; this Cairn reads version "
                + VERSION
                + ". Restore it with the Cairn version that wrote it or a newer one.");
      }
      List<Store> stores = new ArrayList<>();
      for (Config s : c.getConfigList("stores")) {
        stores.add(new Store(s.getString("kind"), s.getString("name"), s.getLong("entries")));
      }
      List<FileEntry> files = new ArrayList<>();
      for (Config f : c.getConfigList("files")) {
        String path = f.getString("path");
        resolve(dir, path);
        files.add(new FileEntry(path, f.getLong("bytes"), f.getString("sha256")));
      }
      return new BackupManifest(
          c.getString("backend"),
          c.getString("type"),
          Instant.parse(c.getString("createdAt")),
          stores,
          files);
    } catch (IOException | ConfigException | java.time.format.DateTimeParseException e) {
      throw new StoreCorruptedException("Cannot read the backup manifest " + file + ": " + e, e);
    }
  }

  /** The manifest as JSON (the format in the class comment). */
  public String toJson() {
    StringBuilder b = new StringBuilder();
    b.append("{\"format\": \"cairn-backup\", \"version\": ").append(VERSION);
    b.append(",\n \"backend\": ").append(quote(backend));
    b.append(", \"type\": ").append(quote(type));
    b.append(",\n \"createdAt\": ").append(quote(createdAt.toString()));
    b.append(",\n \"stores\": [");
    for (int i = 0; i < stores.size(); i++) {
      Store s = stores.get(i);
      b.append(i == 0 ? "\n  " : ",\n  ")
          .append("{\"kind\": ")
          .append(quote(s.kind()))
          .append(", \"name\": ")
          .append(quote(s.name()))
          .append(", \"entries\": ")
          .append(s.entries())
          .append('}');
    }
    b.append("],\n \"files\": [");
    for (int i = 0; i < files.size(); i++) {
      FileEntry f = files.get(i);
      b.append(i == 0 ? "\n  " : ",\n  ")
          .append("{\"path\": ")
          .append(quote(f.path()))
          .append(", \"bytes\": ")
          .append(f.bytes())
          .append(", \"sha256\": ")
          .append(quote(f.sha256()))
          .append('}');
    }
    return b.append("]}\n").toString();
  }

  private static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char ch : s.toCharArray()) {
      switch (ch) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (ch < 0x20) {
            b.append(String.format("\\u%04x", (int) ch));
          } else {
            b.append(ch);
          }
        }
      }
    }
    return b.append('"').toString();
  }
}
