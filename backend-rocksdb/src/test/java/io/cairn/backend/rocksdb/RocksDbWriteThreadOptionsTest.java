package io.cairn.backend.rocksdb;

import static io.cairn.backend.rocksdb.Rocks.b;
import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.StorageBackend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cairn opens RocksDB with {@code enable_write_thread_adaptive_yield} off (a writer waiting for
 * RocksDB's write group blocks after its short spin instead of yielding for up to 100 µs; see
 * {@link RocksOptions#ADAPTIVE_YIELD}), unless {@code advanced.db-options} names the option. Read
 * back from the OPTIONS file RocksDB writes, which records what the engine actually runs with.
 */
class RocksDbWriteThreadOptionsTest {
  @TempDir Path work;

  @Test
  void adaptiveYieldIsOffByDefault() throws IOException {
    Path dir = work.resolve("default");
    try (StorageBackend be = Rocks.open(dir)) {
      be.keyValue("k").put(b("a"), b("1"));
    }
    assertThat(optionsFile(dir)).contains("enable_write_thread_adaptive_yield=false");
  }

  @Test
  void dbOptionsCanTurnAdaptiveYieldBackOn() throws IOException {
    Path dir = work.resolve("on");
    try (StorageBackend be =
        Rocks.open(dir, "advanced.db-options { enable_write_thread_adaptive_yield = true }")) {
      be.keyValue("k").put(b("a"), b("1"));
    }
    assertThat(optionsFile(dir)).contains("enable_write_thread_adaptive_yield=true");
  }

  private static String optionsFile(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      Path latest =
          files
              .filter(p -> p.getFileName().toString().startsWith("OPTIONS-"))
              .max(Path::compareTo)
              .orElseThrow();
      return Files.readString(latest);
    }
  }
}
