package io.cairn.backend.rocksdb;

import static io.cairn.backend.rocksdb.Rocks.b;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.Capability;
import io.cairn.persistence.ReadOnlyBackendException;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StorageEngineException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code read-only = true}: a secondary instance beside the lock holder (issue 13). It sees the
 * owner's state as of its open, refuses every write, and writes nothing in the data directory.
 */
class RocksDbReadOnlyTest {
  private static final String READ_ONLY = "read-only = true";

  @TempDir Path tmp;

  @Test
  void secondaryReadsBesideTheOwnerAndRefusesWrites() throws Exception {
    Path dir = tmp.resolve("data");
    try (StorageBackend owner = Rocks.open(dir)) {
      owner.keyValue("k").put(b("a"), b("1"));
      owner.log("l").append(b("r0"));
      owner.log("l").append(b("r1"));
      byte[] lockBefore = Files.readAllBytes(dir.resolve("cairn.lock"));
      long secondariesBefore = secondaryDirs();
      try (StorageBackend r = Rocks.open(dir, READ_ONLY)) {
        assertThat(r.keyValue("k").get(b("a"))).contains(b("1")); // unflushed: from the WAL
        assertThat(r.log("l").read(0, 10)).hasSize(2);
        assertThat(r.capabilities()).doesNotContain(Capability.CHECKPOINT);
        assertThatThrownBy(() -> r.keyValue("k").put(b("c"), b("3")))
            .isInstanceOf(ReadOnlyBackendException.class)
            .hasMessageContaining("read-only = true");
        assertThatThrownBy(() -> r.log("l").append(b("x")))
            .isInstanceOf(ReadOnlyBackendException.class);
        owner.keyValue("k").put(b("b"), b("2")); // the owner is not disturbed
      }
      assertThat(secondaryDirs()).isEqualTo(secondariesBefore); // its temp directory is gone
      assertThat(Files.readAllBytes(dir.resolve("cairn.lock"))).isEqualTo(lockBefore);
      assertThat(owner.keyValue("k").get(b("b"))).contains(b("2"));
      assertThat(owner.keyValue("k").get(b("c"))).isNull();
      assertThat(owner.verify(io.cairn.persistence.Progress.NONE).healthy()).isTrue();
    }
  }

  @Test
  void readOnlyCreatesNothing() {
    Path dir = tmp.resolve("absent");
    assertThatThrownBy(() -> Rocks.open(dir, READ_ONLY))
        .isInstanceOf(StorageEngineException.class)
        .hasMessageContaining("read-only");
    assertThat(dir).doesNotExist();
  }

  private static long secondaryDirs() throws Exception {
    try (Stream<Path> s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
      return s.filter(p -> p.getFileName().toString().startsWith("cairn-rocksdb-secondary-"))
          .count();
    }
  }
}
