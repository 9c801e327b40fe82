package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.BackupManifest;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StorageBackend;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 13 through the real runnable jar: read-only access beside a writing service (a child JVM,
 * {@link WriterService}), exit code 3 for a locked backend, backup while 4 threads write and the
 * restored copy a consistent cut, restore refusals and a failure mid-way, compact, failing verify.
 */
class OperateIT {
  private static final int WRITERS = 4;

  @TempDir Path dir;

  private JarRunner cairn(String... args) {
    return JarRunner.run(dir, Map.of(), List.of(), args);
  }

  private Path config(String name, String type, Path data) throws IOException {
    Path c = dir.resolve(name);
    Files.writeString(
        c, "cairn.backends.main { type = " + type + ", data-dir = \"" + data + "\" }\n");
    return c;
  }

  /** A child JVM running {@link WriterService} on {@code config}; {@link #stop} ends it. */
  private final class Service implements AutoCloseable {
    final Process process;
    final Path stop;
    final Path out;

    Service(Path config) throws Exception {
      Path ready = Files.createTempFile(dir, "ready", "").toAbsolutePath();
      Files.delete(ready);
      stop = dir.resolve("stop-" + System.nanoTime());
      out = Files.createTempFile(dir, "service", ".txt");
      String cp =
          Path.of("target", "test-classes").toAbsolutePath()
              + java.io.File.pathSeparator
              + JarRunner.jar();
      process =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-cp",
                  cp,
                  WriterService.class.getName(),
                  config.toString(),
                  ready.toString(),
                  stop.toString(),
                  Integer.toString(WRITERS))
              .redirectErrorStream(true)
              .redirectOutput(out.toFile())
              .start();
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      while (!Files.exists(ready)) {
        if (!process.isAlive() || System.nanoTime() > deadline) {
          throw new AssertionError("service did not start: " + Files.readString(out));
        }
        Thread.sleep(50);
      }
    }

    /** Stops the writers; asserts the service saw no error. */
    String stop() throws Exception {
      Files.writeString(stop, "stop");
      assertThat(process.waitFor(2, TimeUnit.MINUTES)).isTrue();
      String text = Files.readString(out);
      assertThat(process.exitValue()).as(text).isZero();
      assertThat(text).contains("service ok");
      return text;
    }

    @Override
    public void close() throws Exception {
      if (process.isAlive()) {
        Files.writeString(stop, "stop");
        if (!process.waitFor(1, TimeUnit.MINUTES)) {
          process.destroyForcibly();
        }
      }
    }
  }

  @Test
  void sqliteBackupWhileFourThreadsWriteRestoresAConsistentCutAndTenInspectsDisturbNothing()
      throws Exception {
    Path data = dir.resolve("data");
    Path conf = config("app.conf", "sqlite", data);
    Path backup = dir.resolve("backup");
    try (Service service = new Service(conf)) {
      // ten concurrent inspects beside the writing service
      ExecutorService pool = Executors.newFixedThreadPool(10);
      List<Future<JarRunner>> runs = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        runs.add(pool.submit(() -> cairn("inspect", "--config", conf.toString(), "--json")));
      }
      for (Future<JarRunner> f : runs) {
        JarRunner r = f.get(5, TimeUnit.MINUTES);
        assertThat(r.exitCode()).as(r.all()).isZero();
        Config j = r.json();
        assertThat(j.getConfigList("backends").get(0).getString("name")).isEqualTo("main");
        assertThat(r.err()).contains("read-only");
      }
      pool.shutdown();

      // a writing command waits for the lock, then exits 3 naming the holder
      JarRunner locked =
          cairn("compact", "--config", conf.toString(), "--lock-timeout", "1s", "--json");
      assertThat(locked.exitCode()).as(locked.all()).isEqualTo(CairnCommand.UNAVAILABLE);
      assertThat(locked.err()).contains("pid " + service.process.pid()).contains("host");

      // backup from this second process while the service writes
      JarRunner b =
          cairn("backup", "--config", conf.toString(), "--to", backup.toString(), "--json");
      assertThat(b.exitCode()).as(b.all()).isZero();
      Config bj = b.json();
      assertThat(bj.getString("type")).isEqualTo("sqlite");
      assertThat(bj.getInt("files")).isPositive();
      service.stop();
    }
    JarRunner verifySource = cairn("verify", "--config", conf.toString());
    assertThat(verifySource.exitCode()).as(verifySource.all()).isZero();

    Path restored = dir.resolve("restored");
    Path conf2 = config("restored.conf", "sqlite", restored);
    JarRunner r =
        cairn(
            "restore",
            "--config",
            conf2.toString(),
            "--from",
            backup.toString(),
            "--yes",
            "--json");
    assertThat(r.exitCode()).as(r.all()).isZero();
    assertThat(r.json().getString("to")).isEqualTo(restored.toString());
    checkRestored(conf2, backup);
    JarRunner v = cairn("verify", "--config", conf2.toString());
    assertThat(v.exitCode()).as(v.all()).isZero();
  }

  /** The restored backend is a consistent cut and matches the manifest's counts exactly. */
  private static void checkRestored(Path conf, Path backup) {
    BackupManifest m = BackupManifest.read(backup);
    try (PersistenceRegistry reg =
        PersistenceRegistry.open(ConfigFactory.parseFile(conf.toFile()))) {
      StorageBackend b = reg.backend("main");
      long checked = WriterService.checkCut(b, WRITERS);
      assertThat(checked).isPositive();
      for (BackupManifest.Store s : m.stores()) {
        long n =
            switch (s.kind()) {
              case "kv" -> {
                long c = 0;
                try (var it = b.keyValue(s.name()).scanPrefix(new byte[0])) {
                  while (it.hasNext()) {
                    it.next();
                    c++;
                  }
                }
                yield c;
              }
              case "log" -> b.log(s.name()).nextOffset() - b.log(s.name()).firstOffset();
              default -> b.snapshots(s.name()).list().size();
            };
        assertThat(n).as(s.toString()).isEqualTo(s.entries());
      }
      assertThat(m.stores()).hasSize(WRITERS + 1);
    }
  }

  @Test
  void
      rocksdbBesideAServiceInspectsReadOnlyAndSendsBackupToTheServiceThenTheInServiceBackupRestores()
          throws Exception {
    Path data = dir.resolve("rocks");
    Path conf = config("app.conf", "rocksdb", data);
    try (Service service = new Service(conf)) {
      JarRunner i = cairn("inspect", "--config", conf.toString(), "--json");
      assertThat(i.exitCode()).as(i.all()).isZero();
      assertThat(i.json().getConfigList("backends").get(0).getString("type")).isEqualTo("rocksdb");
      JarRunner b =
          cairn("backup", "--config", conf.toString(), "--to", dir.resolve("bk").toString());
      assertThat(b.exitCode()).as(b.all()).isEqualTo(CairnCommand.UNAVAILABLE);
      assertThat(b.err()).contains("POST /backup").contains("PersistenceRegistry.backup");
      assertThat(dir.resolve("bk")).doesNotExist();
      service.stop();
    }
    // the in-service path: the registry's backup while 4 threads write in this process
    Path backup = dir.resolve("in-service");
    try (PersistenceRegistry reg =
        PersistenceRegistry.open(ConfigFactory.parseFile(conf.toFile()))) {
      StorageBackend b = reg.backend("main");
      java.util.concurrent.atomic.AtomicBoolean stop =
          new java.util.concurrent.atomic.AtomicBoolean();
      List<Thread> writers = new ArrayList<>();
      java.util.concurrent.atomic.AtomicReference<Throwable> error =
          new java.util.concurrent.atomic.AtomicReference<>();
      for (int t = 0; t < WRITERS; t++) {
        int id = t;
        long start = WriterService.number(b.keyValue("data").get(("w-" + t).getBytes()));
        Thread th =
            new Thread(
                () -> {
                  try {
                    // continue each writer's sequence after a possible torn step of the service
                    long seq = b.log("log-" + id).nextOffset() - b.log("log-" + id).firstOffset();
                    if (seq > start) {
                      b.keyValue("data").put((id + "/" + seq).getBytes(), WriterService.bytes(seq));
                      b.keyValue("data").put(("w-" + id).getBytes(), WriterService.bytes(seq));
                    }
                    for (seq = seq + 1; !stop.get(); seq++) {
                      WriterService.writeOne(b, id, seq);
                    }
                  } catch (Throwable e) {
                    error.set(e);
                  }
                });
        writers.add(th);
        th.start();
      }
      Thread.sleep(300);
      BackupManifest m = reg.backup("main", backup, io.cairn.persistence.Progress.NONE);
      stop.set(true);
      for (Thread th : writers) {
        th.join();
      }
      assertThat(error.get()).isNull();
      assertThat(m.type()).isEqualTo("rocksdb");
      assertThat(m.files()).isNotEmpty();
    }
    Path restored = dir.resolve("restored");
    Path conf2 = config("restored.conf", "rocksdb", restored);
    JarRunner r =
        cairn(
            "restore",
            "--config",
            conf2.toString(),
            "--from",
            backup.toString(),
            "--yes",
            "--json");
    assertThat(r.exitCode()).as(r.all()).isZero();
    checkRestored(conf2, backup);
    JarRunner v = cairn("verify", "--config", conf2.toString());
    assertThat(v.exitCode()).as(v.all()).isZero();
    // nobody holds it now: the CLI opens it and checkpoints itself
    JarRunner b2 =
        cairn(
            "backup",
            "--config",
            conf.toString(),
            "--to",
            dir.resolve("cli-bk").toString(),
            "--json");
    assertThat(b2.exitCode()).as(b2.all()).isZero();
    assertThat(b2.json().getString("type")).isEqualTo("rocksdb");
  }

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "rocksdb"})
  void restoreRefusesAndNeverLeavesAHalfRestoredDirectory(String type) throws Exception {
    Path data = dir.resolve("data");
    Path conf = config("app.conf", type, data);
    try (PersistenceRegistry reg =
        PersistenceRegistry.open(ConfigFactory.parseFile(conf.toFile()))) {
      for (long s = 1; s <= 20; s++) {
        WriterService.writeOne(reg.backend("main"), 0, s);
      }
    }
    Path backup = dir.resolve("backup");
    JarRunner b = cairn("backup", "--config", conf.toString(), "--to", backup.toString(), "--json");
    assertThat(b.exitCode()).as(b.all()).isZero();
    try (PersistenceRegistry reg =
        PersistenceRegistry.open(ConfigFactory.parseFile(conf.toFile()))) {
      WriterService.writeOne(
          reg.backend("main"), 1, 1); // the live data now differs from the backup
    }
    List<String> before = listing(data);

    JarRunner noYes = cairn("restore", "--config", conf.toString(), "--from", backup.toString());
    assertThat(noYes.exitCode()).as(noYes.all()).isEqualTo(CairnCommand.USAGE);
    assertThat(noYes.err()).contains("--yes");

    JarRunner nonEmpty =
        cairn("restore", "--config", conf.toString(), "--from", backup.toString(), "--yes");
    assertThat(nonEmpty.exitCode()).as(nonEmpty.all()).isEqualTo(CairnCommand.USAGE);
    assertThat(nonEmpty.err()).contains("--force");

    JarRunner midway =
        JarRunner.run(
            dir,
            Map.of(RestoreCommand.FAIL_AFTER, "1"),
            List.of(),
            "restore",
            "--config",
            conf.toString(),
            "--from",
            backup.toString(),
            "--yes",
            "--force");
    assertThat(midway.exitCode()).as(midway.all()).isNotZero();
    assertThat(midway.err()).contains("injected failure");
    assertThat(listing(data)).isEqualTo(before);
    assertThat(siblings()).noneMatch(n -> n.contains(".restore-"));

    // a bad checksum: one flipped byte in the backup's largest file
    BackupManifest m = BackupManifest.read(backup);
    BackupManifest.FileEntry largest =
        m.files().stream()
            .max(java.util.Comparator.comparingLong(BackupManifest.FileEntry::bytes))
            .orElseThrow();
    Path victim = backup.resolve(largest.path());
    byte[] original = Files.readAllBytes(victim);
    byte[] flipped = original.clone();
    flipped[flipped.length / 2] ^= 0x40;
    // a new file, not an edit in place: a RocksDB checkpoint hard-links immutable files
    replace(victim, flipped);
    JarRunner bad =
        cairn(
            "restore",
            "--config",
            conf.toString(),
            "--from",
            backup.toString(),
            "--yes",
            "--force");
    assertThat(bad.exitCode()).as(bad.all()).isEqualTo(CairnCommand.PROBLEMS);
    assertThat(bad.out()).contains(largest.path()).contains("SHA-256");
    assertThat(listing(data)).isEqualTo(before);
    replace(victim, original);

    JarRunner ok =
        cairn(
            "restore",
            "--config",
            conf.toString(),
            "--from",
            backup.toString(),
            "--yes",
            "--force",
            "--json");
    assertThat(ok.exitCode()).as(ok.all()).isZero();
    Path previous = Path.of(ok.json().getString("previous"));
    assertThat(listing(previous)).isEqualTo(before);
    try (PersistenceRegistry reg =
        PersistenceRegistry.open(ConfigFactory.parseFile(conf.toFile()))) {
      assertThat(reg.backend("main").keyValue("data").get("1/1".getBytes())).isNull();
      assertThat(reg.backend("main").keyValue("data").get("0/20".getBytes())).isNotNull();
    }

    // compact with --json: sizes before and after
    JarRunner c = cairn("compact", "--config", conf.toString(), "--json");
    assertThat(c.exitCode()).as(c.all()).isZero();
    Config cj = c.json();
    assertThat(cj.getString("type")).isEqualTo(type);
    assertThat(cj.getLong("diskBytesBefore")).isPositive();
    assertThat(cj.getLong("diskBytesAfter")).isPositive();
  }

  @Test
  void verifyOfDamagedDataExitsOneThroughTheJar() throws Exception {
    Path data = dir.resolve("data");
    Path conf = config("app.conf", "sqlite", data);
    try (PersistenceRegistry reg =
        PersistenceRegistry.open(ConfigFactory.parseFile(conf.toFile()))) {
      for (int i = 0; i < 2000; i++) {
        reg.backend("main").keyValue("d").put(("k" + i).getBytes(), new byte[512]);
      }
      reg.backend("main").compact(io.cairn.persistence.Progress.NONE);
    }
    try (RandomAccessFile f = new RandomAccessFile(data.resolve("cairn.db").toFile(), "rw")) {
      byte[] garbage = new byte[8 * 4096];
      new java.util.Random(7).nextBytes(garbage);
      f.seek(f.length() / 2);
      f.write(garbage);
    }
    JarRunner v = cairn("verify", "--config", conf.toString());
    assertThat(v.exitCode()).as(v.all()).isEqualTo(CairnCommand.PROBLEMS);
  }

  @Test
  void helpShowsExamplesAndExitCodes() {
    JarRunner h = cairn("--help");
    assertThat(h.exitCode()).isZero();
    assertThat(h.out()).contains("Examples:").contains("3 backend locked");
    for (String cmd : List.of("backup", "restore", "compact", "inspect", "verify")) {
      JarRunner c = cairn(cmd, "--help");
      assertThat(c.exitCode()).as(cmd).isZero();
      assertThat(c.out()).as(cmd).contains("Example:").contains("cairn " + cmd);
    }
  }

  private static void replace(Path file, byte[] content) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".new");
    Files.write(tmp, content);
    Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  private List<String> siblings() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).toList();
    }
  }

  private static List<String> listing(Path d) throws IOException {
    List<String> out = new ArrayList<>();
    try (Stream<Path> s = Files.walk(d)) {
      for (Path p : s.sorted().toList()) {
        if (Files.isRegularFile(p) && !p.getFileName().toString().equals("cairn.lock")) {
          out.add(d.relativize(p) + " " + BackupManifest.sha256(p));
        }
      }
    }
    return out;
  }
}
