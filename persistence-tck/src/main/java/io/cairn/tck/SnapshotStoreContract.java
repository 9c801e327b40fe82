package io.cairn.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.BackendClosedException;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.SnapshotInfo;
import io.cairn.persistence.SnapshotStore;
import io.cairn.persistence.spi.Checksums;
import io.cairn.tck.Fixtures.GeneratedStream;
import java.util.List;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;

/**
 * Contract of {@link SnapshotStore}: streamed save and load (a 20 MiB generated stream that the
 * test never holds in memory), CRC-32C metadata, list/latest/delete/retainLatest, atomic replace,
 * failed saves leaving no trace, unknown versions and use after close. Extend and implement {@link
 * #backendConfig()}.
 */
public abstract class SnapshotStoreContract extends ContractSupport {
  /** Size of the large streamed snapshot; override to test bigger ones. */
  protected long largeSnapshotBytes() {
    return 20L * 1024 * 1024;
  }

  /** The snapshot set most tests use. */
  protected SnapshotStore snaps() {
    return backend().snapshots("tck-snap");
  }

  @Test
  public void newSetIsEmpty() {
    assertThat(snaps().name()).isEqualTo("tck-snap");
    assertThat(snaps().list()).isEmpty();
    assertThat(snaps().latest()).isEmpty();
  }

  @Test
  public void smallSnapshotRoundTripsWithMetadata() {
    byte[] data = bytes("the state at offset 41");
    SnapshotInfo info = snaps().save(41, data);
    assertThat(info.version()).isEqualTo(41);
    assertThat(info.sizeBytes()).isEqualTo(data.length);
    assertThat(info.crc32c()).isEqualTo(Checksums.crc32c(data));
    assertThat(info.createdAtMillis()).isEqualTo(clock().millis());
    assertThat(Fixtures.readAll(snaps().load(41))).isEqualTo(data);
    assertThat(snaps().list()).containsExactly(info);
    assertThat(snaps().latest()).contains(info);
  }

  @Test
  public void emptySnapshotRoundTrips() {
    SnapshotInfo info = snaps().save(0, new byte[0]);
    assertThat(info.sizeBytes()).isZero();
    assertThat(info.crc32c()).isEqualTo(Checksums.crc32c(new byte[0]));
    assertThat(Fixtures.readAll(snaps().load(0))).isEmpty();
  }

  @Test
  public void largeSnapshotIsStreamedInAndOut() {
    long length = largeSnapshotBytes();
    long seed = random().nextLong();
    GeneratedStream in = Fixtures.generatedStream(seed, length);
    SnapshotInfo info = snaps().save(7, in);
    assertThat(in.reachedEnd()).as("save must read its input to the end").isTrue();
    assertThat(in.closed()).as("save must not close the caller's stream").isFalse();
    assertThat(info.sizeBytes()).isEqualTo(length);
    assertThat(info.crc32c()).isEqualTo(Fixtures.crc32cOf(seed, length));
    Fixtures.assertStreamEquals(snaps().load(7), seed, length);
    assertThat(snaps().latest().orElseThrow().sizeBytes()).isEqualTo(length);
  }

  @Test
  public void loadedStreamSupportsSingleByteReadsAndSkip() throws Exception {
    long seed = random().nextLong();
    snaps().save(3, Fixtures.generatedStream(seed, 100_000));
    try (var in = snaps().load(3)) {
      assertThat((byte) in.read()).isEqualTo(Fixtures.byteAt(seed, 0));
      assertThat(in.skip(49_999)).isEqualTo(49_999);
      assertThat((byte) in.read()).isEqualTo(Fixtures.byteAt(seed, 50_000));
      byte[] rest = in.readAllBytes();
      assertThat(rest).hasSize(49_999);
      assertThat(rest[rest.length - 1]).isEqualTo(Fixtures.byteAt(seed, 99_999));
      assertThat(in.read()).isEqualTo(-1);
    }
  }

  @Test
  public void listIsAscendingAndLatestIsTheHighestVersion() {
    for (long v : new long[] {30, 10, 20, 0}) {
      snaps().save(v, bytes("v" + v));
    }
    assertThat(snaps().list()).extracting(SnapshotInfo::version).containsExactly(0L, 10L, 20L, 30L);
    assertThat(snaps().latest().orElseThrow().version()).isEqualTo(30);
    assertThat(Fixtures.readAll(snaps().load(20))).isEqualTo(bytes("v20"));
  }

  @Test
  public void savingAnExistingVersionReplacesIt() {
    snaps().save(5, bytes("first"));
    SnapshotInfo second = snaps().save(5, bytes("second, longer"));
    assertThat(snaps().list()).containsExactly(second);
    assertThat(second.sizeBytes()).isEqualTo(bytes("second, longer").length);
    assertThat(Fixtures.readAll(snaps().load(5))).isEqualTo(bytes("second, longer"));
  }

  @Test
  public void deleteRemovesOneVersion() {
    snaps().save(1, bytes("one"));
    snaps().save(2, bytes("two"));
    assertThat(snaps().delete(1)).isTrue();
    assertThat(snaps().delete(1)).isFalse();
    assertThat(snaps().delete(99)).isFalse();
    assertThat(snaps().list()).extracting(SnapshotInfo::version).containsExactly(2L);
    assertThatThrownBy(() -> snaps().load(1)).isInstanceOf(NoSuchElementException.class);
  }

  @Test
  public void retainLatestKeepsTheHighestVersions() {
    for (long v : new long[] {1, 3, 5, 7, 9}) {
      snaps().save(v, bytes("v" + v));
    }
    assertThat(snaps().retainLatest(2)).isEqualTo(3);
    assertThat(snaps().list()).extracting(SnapshotInfo::version).containsExactly(7L, 9L);
    assertThat(snaps().retainLatest(2)).isZero();
    assertThat(snaps().retainLatest(10)).isZero();
    assertThat(snaps().retainLatest(1)).isEqualTo(1);
    assertThat(snaps().list()).extracting(SnapshotInfo::version).containsExactly(9L);
    assertThat(Fixtures.readAll(snaps().load(9))).isEqualTo(bytes("v9"));
    assertThatThrownBy(() -> snaps().retainLatest(0)).isInstanceOf(IllegalArgumentException.class);
    assertThat(snaps().list()).hasSize(1);
  }

  @Test
  public void unknownVersionThrowsNoSuchElement() {
    assertThatThrownBy(() -> snaps().load(12)).isInstanceOf(NoSuchElementException.class);
    snaps().save(11, bytes("x"));
    assertThatThrownBy(() -> snaps().load(12)).isInstanceOf(NoSuchElementException.class);
  }

  @Test
  public void badArgumentsAreRejected() {
    assertThatThrownBy(() -> snaps().save(-1, bytes("x")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> snaps().save(1, (java.io.InputStream) null))
        .isInstanceOf(NullPointerException.class);
    assertThat(snaps().list()).isEmpty();
  }

  @Test
  public void failedSaveLeavesNoTraceAndKeepsTheOldVersion() {
    snaps().save(4, bytes("good"));
    long seed = random().nextLong();
    assertThatThrownBy(() -> snaps().save(5, Fixtures.failingStream(seed, 1_000_000, 300_000)))
        .isInstanceOf(PersistenceException.class);
    assertThatThrownBy(() -> snaps().save(4, Fixtures.failingStream(seed, 1_000_000, 10)))
        .isInstanceOf(PersistenceException.class);
    assertThat(snaps().list()).extracting(SnapshotInfo::version).containsExactly(4L);
    assertThat(Fixtures.readAll(snaps().load(4))).isEqualTo(bytes("good"));
    assertThatThrownBy(() -> snaps().load(5)).isInstanceOf(NoSuchElementException.class);
  }

  @Test
  public void setsAreIndependent() {
    SnapshotStore a = backend().snapshots("tck-a");
    SnapshotStore b = backend().snapshots("tck-b");
    a.save(1, bytes("a"));
    assertThat(b.list()).isEmpty();
    b.save(1, bytes("b"));
    assertThat(Fixtures.readAll(a.load(1))).isEqualTo(bytes("a"));
    assertThat(Fixtures.readAll(b.load(1))).isEqualTo(bytes("b"));
  }

  @Test
  public void everyOperationThrowsBackendClosedAfterClose() {
    SnapshotStore s = snaps();
    s.save(1, bytes("x"));
    backend().close();
    assertThatThrownBy(() -> s.save(2, bytes("y"))).isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> s.load(1)).isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(s::list).isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(s::latest).isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> s.delete(1)).isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> s.retainLatest(1)).isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> backend().snapshots("tck-other"))
        .isInstanceOf(BackendClosedException.class);
  }

  /** Bytes held for a snapshot (for subclasses' extra tests). */
  protected static List<Long> versions(SnapshotStore store) {
    return store.list().stream().map(SnapshotInfo::version).toList();
  }

  /**
   * For backends that declare {@link io.cairn.persistence.Capability#LARGE_SNAPSHOTS}: a snapshot
   * of 96 MiB saved and loaded in a child JVM with a 48 MiB heap (skipped by capability for a
   * backend that keeps snapshots on the heap and states its limit, like the memory backend).
   */
  @Test
  public void aSnapshotLargerThanTheHeapIsSavedAndLoaded() {
    assumeCapability(io.cairn.persistence.Capability.LARGE_SNAPSHOTS);
    java.nio.file.Path config = writeConfigFile("large-snapshot.conf", "");
    closeRegistry();
    try (io.cairn.tck.crash.ChildJvm child =
        io.cairn.tck.crash.ChildJvm.builder(LargeSnapshotWriter.class)
            .jvmArgs(
                List.of(LargeSnapshotWriter.HEAP, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"))
            .args(config.toString())
            .start()) {
      String line =
          child.awaitLine(
              l -> l.startsWith("SAVED") || l.startsWith("FAILED") || l.contains("Error"),
              java.time.Duration.ofMinutes(5));
      assertThat(line)
          .as("child JVM with %s: %s", LargeSnapshotWriter.HEAP, child.output())
          .isEqualTo("SAVED");
    }
    var snaps = reopen().snapshots("tck-large");
    assertThat(snaps.latest().orElseThrow().sizeBytes()).isEqualTo(LargeSnapshotWriter.BYTES);
  }
}
