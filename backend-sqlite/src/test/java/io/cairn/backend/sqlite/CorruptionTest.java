package io.cairn.backend.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StoreCorruptedException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Damaged files: verify() reports them and open follows on-corruption. */
class CorruptionTest {
  @TempDir Path dir;

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Writes enough data for a multi-page file and closes cleanly (WAL checkpointed away). */
  private Path populate() throws Exception {
    return populate(dir);
  }

  /** {@link #populate()} in {@code dir}; returns the database file. */
  static Path populate(Path dir) throws Exception {
    try (PersistenceRegistry r = TestBackends.open(dir, "")) {
      var kv = r.backend("main").keyValue("data");
      byte[] value = new byte[700];
      for (int i = 0; i < 2000; i++) {
        new Random(i).nextBytes(value);
        kv.put(b(String.format("key-%05d", i)), value);
      }
    }
    Path db = dir.resolve("cairn.db");
    assertThat(Files.exists(dir.resolve("cairn.db-wal"))).isFalse();
    assertThat(Files.size(db)).isGreaterThan(100 * 4096);
    return db;
  }

  static void garbleMiddlePages(Path db) throws Exception {
    long size = Files.size(db);
    byte[] garbage = new byte[4096 * 8];
    new Random(42).nextBytes(garbage);
    try (RandomAccessFile f = new RandomAccessFile(db.toFile(), "rw")) {
      f.seek((size / 2 / 4096) * 4096);
      f.write(garbage);
    }
  }

  @Test
  void garbageInTheMiddleIsReportedByVerifyAndRefusedAtOpen() throws Exception {
    Path db = populate();
    garbleMiddlePages(db);
    // a header-only open succeeds; verify() then meets the damage and reports it instead of
    // throwing: the base names the part whose read failed, and the engine's integrity_check still
    // runs after it and names the file
    try (PersistenceRegistry r = TestBackends.open(dir, "open-check = header")) {
      List<String> problems = r.backend("main").verify(Progress.NONE).problems();
      assertThat(problems)
          .anyMatch(
              p ->
                  p.startsWith("the list of stores: damaged, the rest of it was not checked")
                      && p.contains(db.toString())
                      && p.contains("corrupt"))
          .anyMatch(p -> p.startsWith(db + ": ") && p.contains("corrupt"));
    }
    // open-check = quick refuses to open, changing nothing
    byte[] before = Files.readAllBytes(db);
    assertThatThrownBy(() -> TestBackends.open(dir, "open-check = quick"))
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessageContaining(db.toString())
        .hasMessageContaining("on-corruption = quarantine");
    assertThat(Files.readAllBytes(db)).isEqualTo(before);
  }

  @Test
  void truncatedFileIsRefusedAtOpen() throws Exception {
    Path db = populate();
    try (RandomAccessFile f = new RandomAccessFile(db.toFile(), "rw")) {
      f.setLength((Files.size(db) / 2 / 4096) * 4096);
    }
    assertThatThrownBy(() -> TestBackends.open(dir, "open-check = header"))
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessageContaining("truncated")
        .hasMessageContaining(db.toString());
  }

  @Test
  void truncatedInsideTheHeaderIsRefused() throws Exception {
    Path db = populate();
    try (RandomAccessFile f = new RandomAccessFile(db.toFile(), "rw")) {
      f.setLength(60);
    }
    assertThatThrownBy(() -> TestBackends.open(dir, ""))
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessageContaining("only 60 bytes");
  }

  @Test
  void notADatabaseIsRefused() throws Exception {
    Files.write(dir.resolve("cairn.db"), new byte[8192]);
    assertThatThrownBy(() -> TestBackends.open(dir, ""))
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessageContaining("not a database");
  }

  @Test
  void quarantineMovesFilesAsideAndStartsEmpty() throws Exception {
    Path db = populate();
    garbleMiddlePages(db);
    try (PersistenceRegistry r =
        TestBackends.open(dir, "on-corruption = quarantine, open-check = quick")) {
      var be = r.backend("main");
      assertThat(be.keyValue("data").get(b("key-00001"))).isNull();
      assertThat(r.metrics().getCounters().get("cairn.backends.main.sqlite.quarantined").getCount())
          .isEqualTo(1);
      be.keyValue("data").put(b("fresh"), b("v"));
      assertThat(be.verify(Progress.NONE).healthy()).isTrue();
    }
    try (Stream<Path> files = Files.list(dir)) {
      // DataDirectory's one rule: corrupt-<UTC stamp>/ inside the data directory
      Path aside =
          files.filter(p -> p.getFileName().toString().startsWith("corrupt-")).findFirst().get();
      assertThat(aside.getFileName().toString()).matches("corrupt-\\d{8}T\\d{6}Z");
      assertThat(aside.resolve("cairn.db")).exists();
    }
    try (PersistenceRegistry r = TestBackends.open(dir, "")) {
      assertThat(r.backend("main").keyValue("data").get(b("fresh"))).isEqualTo(b("v"));
    }
  }

  @Test
  void newerSchemaIsRefusedWithAClearMessage() throws Exception {
    populate();
    try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cairn.db"));
        var st = c.createStatement()) {
      st.execute("PRAGMA user_version = 99");
    }
    assertThatThrownBy(() -> TestBackends.open(dir, ""))
        .isInstanceOf(PersistenceException.class)
        .hasMessageContaining("schema version 99")
        .hasMessageContaining("newer Cairn");
  }

  @Test
  void foreignSqliteDatabaseIsRefused() throws Exception {
    try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cairn.db"));
        var st = c.createStatement()) {
      st.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY)");
    }
    assertThatThrownBy(() -> TestBackends.open(dir, ""))
        .isInstanceOf(PersistenceException.class)
        .hasMessageContaining("not a Cairn one");
  }

  @Test
  void corruptValueIsNeverReturned() throws Exception {
    try (PersistenceRegistry r = TestBackends.open(dir, "")) {
      r.backend("main").keyValue("d").put(b("k"), b("good"));
      r.backend("main").log("l").append(b("rec"));
    }
    try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cairn.db"));
        var st = c.createStatement()) {
      // the entry's and the record's rows of the rec table (EngineSchema)
      st.executeUpdate("UPDATE rec SET value = x'626164' WHERE kind = 0 AND store = 'd'");
      st.executeUpdate(
          "UPDATE rec SET value = x'626164' WHERE kind = 1 AND store = 'l' AND length(key) = 8");
    }
    try (PersistenceRegistry r = TestBackends.open(dir, "")) {
      var be = r.backend("main");
      assertThatThrownBy(() -> be.keyValue("d").get(b("k")))
          .isInstanceOf(StoreCorruptedException.class)
          .hasMessageContaining("namespace 'd'");
      assertThatThrownBy(() -> be.log("l").read(0, 10))
          .isInstanceOf(StoreCorruptedException.class)
          .hasMessageContaining("log 'l'");
      assertThat(be.verify(Progress.NONE).problems()).hasSize(2);
    }
  }
}
