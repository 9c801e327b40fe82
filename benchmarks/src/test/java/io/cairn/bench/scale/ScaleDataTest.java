package io.cairn.bench.scale;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Data sets are built once, reused when finished, and rebuilt when a build did not finish. */
class ScaleDataTest {
  @TempDir Path root;
  private String previous;

  @BeforeEach
  void useTempRoot() {
    previous = System.getProperty("cairn.bench.dir");
    System.setProperty("cairn.bench.dir", root.toString());
  }

  @AfterEach
  void restore() {
    if (previous == null) {
      System.clearProperty("cairn.bench.dir");
    } else {
      System.setProperty("cairn.bench.dir", previous);
    }
  }

  @Test
  void aFinishedDataSetIsReusedWithItsBuildFigure() {
    AtomicInteger builds = new AtomicInteger();
    ScaleData.Build first =
        ScaleData.ensure(
            "X",
            10,
            (dir, n) -> {
              builds.incrementAndGet();
              write(dir.resolve("f"));
            });
    ScaleData.Build second = ScaleData.ensure("X", 10, (dir, n) -> builds.incrementAndGet());
    assertThat(builds).hasValue(1);
    assertThat(first.builtNow()).isTrue();
    assertThat(second.builtNow()).isFalse();
    assertThat(second.seconds()).isEqualTo(first.seconds());
    assertThat(second.date()).isEqualTo(first.date());
  }

  @Test
  void anUnfinishedBuildIsDeletedAndBuiltAgain() throws Exception {
    Path dir = ScaleData.dir("X", 10);
    write(dir.resolve("data/stale-half-built-file"));
    AtomicInteger builds = new AtomicInteger();
    ScaleData.Build b =
        ScaleData.ensure(
            "X",
            10,
            (data, n) -> {
              builds.incrementAndGet();
              write(data.resolve("f"));
            });
    assertThat(builds).hasValue(1);
    assertThat(b.builtNow()).isTrue();
    assertThat(dir.resolve("data/stale-half-built-file")).doesNotExist();
    assertThat(ScaleData.diskBytes(dir.resolve("data"))).isEqualTo(3);
  }

  @Test
  void keysAreSixteenBytesDistinctAndOrderedByIndex() {
    assertThat(ScaleData.key(1)).hasSize(16);
    assertThat(ScaleData.value(1)).hasSize(100);
    assertThat(java.util.Arrays.compareUnsigned(ScaleData.key(255), ScaleData.key(256)))
        .isNegative();
    assertThat(ScaleData.key(7)).isNotEqualTo(ScaleData.key(8));
  }

  private static void write(Path file) {
    try {
      Files.createDirectories(file.getParent());
      Files.write(file, new byte[] {1, 2, 3});
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
