package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cairn verify} on damaged SQLite files: exit 1 and a message naming the file. */
class VerifyCorruptDataTest {
  @TempDir Path dir;
  Path config;
  Path dataDir;

  @BeforeEach
  void writeData() throws IOException {
    dataDir = dir.resolve("main");
    config = dir.resolve("app.conf");
    Files.writeString(
        config, "cairn.backends.main { type = sqlite, data-dir = \"" + dataDir + "\" }\n");
    try (PersistenceRegistry registry =
        PersistenceRegistry.open(ConfigFactory.parseFile(config.toFile()))) {
      KeyValueStore kv = registry.backend("main").keyValue("data");
      byte[] value = new byte[512];
      for (int i = 0; i < 2000; i++) {
        kv.put(("key-" + i).getBytes(), value);
      }
      registry.backend("main").compact(io.cairn.persistence.Progress.NONE); // all pages in cairn.db
    }
  }

  @Test
  void healthyDataExitsZero() {
    CliRunner r = CliRunner.run("verify", "--config", config.toString());
    assertThat(r.exitCode()).as(r.out() + r.err()).isZero();
  }

  @Test
  void garbageInTheMiddleExitsOne() throws IOException {
    Path db = dataDir.resolve("cairn.db");
    try (RandomAccessFile f = new RandomAccessFile(db.toFile(), "rw")) {
      byte[] garbage = new byte[8 * 4096];
      new Random(7).nextBytes(garbage);
      f.seek(f.length() / 2);
      f.write(garbage);
    }
    CliRunner r = CliRunner.run("verify", "--config", config.toString());
    assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(CairnCommand.PROBLEMS);
    assertThat(r.out() + r.err()).contains("cairn.db").doesNotContain("\tat ");
  }

  @Test
  void truncatedFileExitsOne() throws IOException {
    Path db = dataDir.resolve("cairn.db");
    try (RandomAccessFile f = new RandomAccessFile(db.toFile(), "rw")) {
      f.setLength(f.length() / 3);
    }
    CliRunner r = CliRunner.run("verify", "--config", config.toString());
    assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(CairnCommand.PROBLEMS);
    assertThat(r.out() + r.err()).contains("cairn.db");
  }
}
