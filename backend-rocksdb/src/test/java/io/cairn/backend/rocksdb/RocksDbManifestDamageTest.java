package io.cairn.backend.rocksdb;

import static io.cairn.backend.rocksdb.Rocks.b;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.MetricRegistry;
import io.cairn.persistence.Durability;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreCorruptedException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 10 item 2: a truncated MANIFEST made RocksDB open an older version in which a whole log and
 * both snapshots were gone, with no error. Cairn's anchor must refuse it by name, and before
 * RocksDB can delete the data files the cut MANIFEST no longer references.
 */
class RocksDbManifestDamageTest {
  @TempDir Path work;

  @ParameterizedTest
  @ValueSource(ints = {1, 7, 40, 200, -2})
  void aTruncatedManifestIsRefusedByNameAndNothingIsDeleted(int cut) throws IOException {
    Path dir = work.resolve("db");
    populateInTwoSessions(dir);
    Path manifest = dir.resolve(Anchor.currentManifest(dir));
    long size = Files.size(manifest);
    long newSize = cut > 0 ? Math.max(0, size - cut) : size / -cut;
    RocksDbWalDamageTest.truncate(manifest, newSize);
    List<String> before = files(dir);
    assertThatThrownBy(() -> open(dir).close())
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessageContaining(manifest.getFileName().toString())
        .hasMessageContaining("truncated");
    assertThat(files(dir)).as("a refused open deletes nothing").containsAll(before);
  }

  @Test
  void anOlderCopyOfTheDirectoryIsRefusedUntilTheAnchorIsDeleted() throws IOException {
    Path dir = work.resolve("db");
    Path old = work.resolve("old");
    try (StorageBackend be = open(dir)) {
      be.keyValue("k").put(b("a"), b("1"));
    }
    RocksDbWalDamageTest.crashImage(dir, old);
    try (StorageBackend be = open(dir)) {
      for (int i = 0; i < 100; i++) {
        be.log("events").append(b("e" + i));
      }
    }
    // Put the older files back, keeping the newer anchor: the state went backwards.
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.filter(p -> !p.getFileName().toString().equals(Anchor.FILE)).toList()) {
        Files.delete(f);
      }
    }
    try (Stream<Path> files = Files.list(old)) {
      for (Path f : files.filter(p -> !p.getFileName().toString().equals(Anchor.FILE)).toList()) {
        Files.copy(f, dir.resolve(f.getFileName()));
      }
    }
    assertThatThrownBy(() -> open(dir).close())
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessageContaining("sequence number")
        .hasMessageContaining(Anchor.FILE);
    Files.delete(dir.resolve(Anchor.FILE));
    try (StorageBackend be = open(dir)) {
      assertThat(be.keyValue("k").get(b("a"))).isNotNull();
      assertThat(be.log("events").nextOffset()).isZero();
    }
  }

  @Test
  void aDamagedAnchorIsReportedNotIgnored() throws IOException {
    Path dir = work.resolve("db");
    try (StorageBackend be = open(dir)) {
      be.keyValue("k").put(b("a"), b("1"));
    }
    Path anchor = dir.resolve(Anchor.FILE);
    Files.writeString(anchor, Files.readString(anchor).replace("sequence=", "sequence=9"));
    assertThatThrownBy(() -> open(dir).close())
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessageContaining(Anchor.FILE)
        .hasMessageContaining("checksum");
  }

  @Test
  void reopeningUndamagedDirectoriesKeepsWorking() {
    Path dir = work.resolve("db");
    for (int i = 0; i < 5; i++) {
      try (StorageBackend be = open(dir)) {
        be.keyValue("k").put(b("a" + i), b("1"));
        be.log("l").append(b("x"));
      }
    }
    try (StorageBackend be = open(dir)) {
      assertThat(be.log("l").nextOffset()).isEqualTo(5);
    }
  }

  static void populateInTwoSessions(Path dir) {
    try (StorageBackend be = open(dir)) {
      for (int i = 0; i < 200; i++) {
        be.keyValue("k").put(b("key" + i), b("v" + i));
      }
    }
    try (StorageBackend be = open(dir)) {
      for (int i = 0; i < 200; i++) {
        be.log("events").append(b("event-" + i));
      }
      be.snapshots("snaps").save(1, new ByteArrayInputStream(new byte[10_000]));
      be.snapshots("snaps").save(2, new ByteArrayInputStream(new byte[10_000]));
    }
  }

  static StorageBackend open(Path dir) {
    return Rocks.open(dir, Durability.NORMAL, "", new MetricRegistry(), Clock.systemUTC());
  }

  static List<String> files(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return new ArrayList<>(files.map(p -> p.getFileName().toString()).toList());
    }
  }
}
