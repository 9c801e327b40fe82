package io.cairn.bench.scale;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Locale;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * The data sets of the scale benchmarks, built once and reused across runs (building 10M entries
 * takes minutes).
 *
 * <p>Layout: {@code <root>/cairn-scale-v1/<impl>-<entries>/} where root is {@code
 * -Dcairn.bench.dir} or the temp directory. The directory holds the engine's files under {@code
 * data/} and, written last, {@code complete.properties} (entries, build seconds, build date, a note
 * on how it was built from {@code -Dcairn.scale.build-note}). A directory without that file is a
 * build that did not finish (killed, crashed, disk full): it is deleted and built again, never
 * measured. Benchmarks that write (put) overwrite existing keys with values of the same size, so a
 * reused data set keeps its entry count and size class.
 *
 * <p>Keys are 16 bytes: the entry's index as 8 big-endian bytes, then 8 bytes mixed from it (so
 * keys are not all-zero-prefixed); built in index order. Values are 100 bytes.
 */
public final class ScaleData {
  static final int KEY_BYTES = 16;
  static final int VALUE_BYTES = 100;
  private static final String MARKER = "complete.properties";

  private ScaleData() {}

  static byte[] key(long i) {
    return ByteBuffer.allocate(KEY_BYTES).putLong(i).putLong(mix(i)).array();
  }

  static byte[] value(long i) {
    byte[] v = new byte[VALUE_BYTES];
    long x = mix(i + 1);
    for (int j = 0; j < v.length; j++) {
      x = mix(x);
      v[j] = (byte) x;
    }
    return v;
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  /** Root of every scale data set. */
  static Path root() {
    Path root =
        Path.of(
            System.getProperty("cairn.bench.dir", System.getProperty("java.io.tmpdir")),
            "cairn-scale-v1");
    try {
      Files.createDirectories(root);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the scale data root " + root, e);
    }
    return root;
  }

  /** The directory of one data set (it may not exist yet). */
  static Path dir(String impl, long entries) {
    return root().resolve(impl.toLowerCase(Locale.ROOT) + "-" + entries);
  }

  /** What {@link #ensure} knows about a finished build. */
  record Build(long entries, double seconds, String date, String note, boolean builtNow) {
    double entriesPerSecond() {
      return entries / seconds;
    }
  }

  /** Something that writes {@code entries} entries into an empty directory. */
  interface Builder {
    void build(Path dataDir, long entries);
  }

  /**
   * Returns the finished data set of {@code impl} with {@code entries}, building it first (timed)
   * when absent or unfinished. Prints what it did.
   */
  static Build ensure(String impl, long entries, Builder builder) {
    Path dir = dir(impl, entries);
    Path marker = dir.resolve(MARKER);
    try {
      if (Files.isRegularFile(marker)) {
        Properties p = new Properties();
        try (var in = Files.newBufferedReader(marker, StandardCharsets.UTF_8)) {
          p.load(in);
        }
        return new Build(
            Long.parseLong(p.getProperty("entries")),
            Double.parseDouble(p.getProperty("seconds")),
            p.getProperty("date"),
            p.getProperty("note", ""),
            false);
      }
      if (Files.exists(dir)) {
        System.out.println(
            "scale: " + dir + " has no " + MARKER + " (an unfinished build): deleting it");
        io.cairn.bench.BenchFiles.deleteTree(dir);
      }
      Files.createDirectories(dir);
      System.out.printf(
          Locale.ROOT, "scale: building %s with %,d entries in %s%n", impl, entries, dir);
      long start = System.nanoTime();
      builder.build(dir.resolve("data"), entries);
      double seconds = (System.nanoTime() - start) / 1e9;
      // How the build ran when that differs from a measurement (e.g. "niced, outside the bench
      // lock"): kept with the data set and shown beside its build time.
      String note = System.getProperty("cairn.scale.build-note", "");
      Build b = new Build(entries, seconds, Instant.now().toString(), note, true);
      Properties p = new Properties();
      p.setProperty("entries", Long.toString(entries));
      p.setProperty("seconds", Double.toString(seconds));
      p.setProperty("date", b.date());
      p.setProperty("note", note);
      try (var out = Files.newBufferedWriter(marker, StandardCharsets.UTF_8)) {
        p.store(out, "a finished scale data set (ScaleData)");
      }
      System.out.printf(
          Locale.ROOT,
          "scale: built %s, %,d entries in %.1f s (%,.0f entries/s), %,d bytes on disk%n",
          impl,
          entries,
          seconds,
          b.entriesPerSecond(),
          diskBytes(dir.resolve("data")));
      return b;
    } catch (IOException e) {
      throw new UncheckedIOException("scale data set " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Sum of the sizes of the regular files below {@code dir}. */
  static long diskBytes(Path dir) {
    try (Stream<Path> all = Files.walk(dir)) {
      return all.filter(Files::isRegularFile)
          .mapToLong(
              p -> {
                try {
                  return Files.size(p);
                } catch (IOException e) {
                  return 0; // deleted during the walk (a RocksDB compaction's input): not there
                }
              })
          .sum();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot size " + dir, e);
    }
  }
}
