package io.cairn.backend.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.Capability;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.ReadOnlyBackendException;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StorageEngineException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code read-only = true}: reading beside the process that holds the lock (issue 13). */
class SqliteReadOnlyTest {
  @TempDir Path tmp;

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void readsBesideTheLockHolderRefusesEveryWriteAndLeavesTheOwnerWorking() throws Exception {
    Path dir = tmp.resolve("data");
    try (PersistenceRegistry owner = TestBackends.open(dir, "durability = normal")) {
      StorageBackend w = owner.backend("main");
      w.keyValue("k").put(b("a"), b("1"));
      w.log("l").append(b("r0"));
      byte[] lockBefore = Files.readAllBytes(dir.resolve("cairn.lock"));
      try (PersistenceRegistry reader = TestBackends.open(dir, "read-only = true")) {
        StorageBackend r = reader.backend("main");
        assertThat(r.keyValue("k").get(b("a"))).contains(b("1"));
        w.keyValue("k").put(b("b"), b("2")); // the owner keeps writing; the reader sees it
        assertThat(r.keyValue("k").get(b("b"))).contains(b("2"));
        assertThat(r.log("l").read(0, 10)).hasSize(1);
        assertThat(r.capabilities()).contains(Capability.CHECKPOINT); // VACUUM INTO only reads
        // a put is refused by the base's version sequence before the engine is asked, an append
        // by the engine: both name the key that made the backend read-only
        assertThatThrownBy(() -> r.keyValue("k").put(b("c"), b("3")))
            .isInstanceOf(ReadOnlyBackendException.class)
            .hasMessageContaining("read-only = true")
            .hasMessageContaining("main");
        assertThatThrownBy(() -> r.log("l").append(b("x")))
            .isInstanceOf(ReadOnlyBackendException.class)
            .hasMessageContaining("read-only = true");
        assertThat(r.health().isHealthy()).isTrue();
      }
      assertThat(Files.readAllBytes(dir.resolve("cairn.lock"))).isEqualTo(lockBefore);
      w.keyValue("k").put(b("d"), b("4"));
      assertThat(w.keyValue("k").get(b("c"))).isNull();
      assertThat(w.log("l").read(0, 10)).hasSize(1);
    }
  }

  @Test
  void readOnlyCreatesNothing() {
    Path dir = tmp.resolve("absent");
    assertThatThrownBy(() -> TestBackends.open(dir, "read-only = true"))
        .isInstanceOf(StorageEngineException.class)
        .hasMessageContaining("read-only");
    assertThat(dir).doesNotExist();
  }

  @Test
  void readOnlyOfADirectoryWithoutDatabaseCreatesNoDatabase() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("empty"));
    assertThatThrownBy(() -> TestBackends.open(dir, "read-only = true"))
        .isInstanceOf(StorageEngineException.class)
        .hasMessageContaining("cairn.db does not exist (a read-only open creates nothing)");
    assertThat(dir.resolve("cairn.db")).doesNotExist();
    try (PersistenceRegistry owner = TestBackends.open(dir, "")) {
      owner.backend("main").keyValue("k").put(b("a"), b("1")); // nothing left open or held
    }
  }
}
