package io.cairn.bench.scale;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Builds the scale data sets (timed: the build is a put-at-scale figure) and measures what an open
 * store costs per entry, writing JMH-shaped JSON rows the report reads like any JMH result.
 *
 * <ul>
 *   <li>{@code build <impl> <entries> <out.json>}: builds the data set when absent ({@link
 *       ScaleData#ensure}) and records the build's time and entries per second (a data set reused
 *       from an earlier run keeps the figure of its own build; the row says when it was built).
 *   <li>{@code footprint <impl> <entries> <out.json>}: run in a fresh JVM on a built data set, so
 *       the store is reopened, not the one that wrote it. Heap: {@code MemoryMXBean} used heap
 *       after {@code System.gc()} with the store open and 100,000 random reads done (caches warm),
 *       minus the same before opening. RSS: {@code VmRSS} of {@code /proc/self/status}, same delta
 *       (it includes the engine's native memory: RocksDB's block cache and memtables, SQLite's page
 *       cache, mapped files). Disk: the sum of the data set's file sizes after close. Each divided
 *       by the entry count; fixed costs (a 256 MiB block cache reserves nothing until filled, but
 *       the JVM and native libraries do) dominate small data sets.
 * </ul>
 */
public final class ScaleFootprint {
  private static final String CLASS = ScaleFootprint.class.getName();

  private ScaleFootprint() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 4 || !(args[0].equals("build") || args[0].equals("footprint"))) {
      System.err.println("usage: ScaleFootprint build|footprint <impl> <entries> <out.json>");
      System.exit(2);
    }
    ScaleImpl impl = ScaleImpl.valueOf(args[1]);
    long entries = Long.parseLong(args[2]);
    Path out = Path.of(args[3]);
    List<String> rows = new ArrayList<>();
    if (args[0].equals("build")) {
      ScaleData.Build b = impl.ensure(entries);
      String built =
          (b.builtNow() ? "this run" : "reused, built " + b.date())
              + (b.note().isEmpty() ? "" : " (" + b.note() + ")");
      rows.add(
          row("buildEntriesPerSecond", impl, entries, b.entriesPerSecond(), "entries/s", built));
      rows.add(row("buildSeconds", impl, entries, b.seconds(), "s", built));
    } else {
      rows.addAll(footprint(impl, entries));
    }
    Files.createDirectories(out.toAbsolutePath().getParent());
    Files.writeString(out, "[\n" + String.join(",\n", rows) + "\n]\n", StandardCharsets.UTF_8);
  }

  private static List<String> footprint(ScaleImpl impl, long entries) throws IOException {
    if (!Files.isDirectory(impl.dataDir(entries))) {
      throw new IllegalStateException(
          impl
              + " with "
              + entries
              + " entries is not built ("
              + impl.dataDir(entries)
              + "): run `ScaleFootprint build` first");
    }
    long heap0 = heapAfterGc();
    long rss0 = rss();
    long heap;
    long rss;
    if (impl.isLog()) {
      try (ScaleImpl.Log log = impl.openLog(entries)) {
        log.replay();
        heap = heapAfterGc() - heap0;
        rss = rss() - rss0;
      }
    } else {
      try (ScaleImpl.Kv kv = impl.openKv(entries)) {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        for (int i = 0; i < 100_000; i++) {
          if (kv.get(ScaleData.key(r.nextLong(entries))) == null) {
            throw new IllegalStateException(impl + " with " + entries + " entries misses a key");
          }
        }
        heap = heapAfterGc() - heap0;
        rss = rss() - rss0;
      }
    }
    long disk = ScaleData.diskBytes(impl.dataDir(entries));
    System.out.printf(
        Locale.ROOT,
        "scale: %s %,d entries: heap %,d B, RSS %,d B, disk %,d B (%.1f / %.1f / %.1f B per entry)%n",
        impl,
        entries,
        heap,
        rss,
        disk,
        (double) heap / entries,
        (double) rss / entries,
        (double) disk / entries);
    return List.of(
        row("heapBytesPerEntry", impl, entries, (double) heap / entries, "B/entry", null),
        row("rssBytesPerEntry", impl, entries, (double) rss / entries, "B/entry", null),
        row("diskBytesPerEntry", impl, entries, (double) disk / entries, "B/entry", null),
        row("heapBytes", impl, entries, heap, "B", null),
        row("rssBytes", impl, entries, rss, "B", null),
        row("diskBytes", impl, entries, disk, "B", null));
  }

  private static long heapAfterGc() {
    for (int i = 0; i < 3; i++) {
      System.gc();
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /** Resident set size in bytes (Linux); -1 elsewhere, which the report shows as not measured. */
  static long rss() throws IOException {
    Path status = Path.of("/proc/self/status");
    if (!Files.exists(status)) {
      return -1;
    }
    for (String line : Files.readAllLines(status)) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    return -1;
  }

  /** One result in the shape of a JMH JSON row. */
  static String row(
      String metric, ScaleImpl impl, long entries, double score, String unit, String built) {
    return String.format(
        Locale.ROOT,
        "{\"benchmark\":\"%s.%s\",\"mode\":\"other\",\"threads\":1,"
            + "\"params\":{\"impl\":\"%s\",\"%s\":\"%d\"%s},"
            + "\"primaryMetric\":{\"score\":%s,\"scoreError\":\"NaN\",\"scoreUnit\":\"%s\"}}",
        CLASS,
        metric,
        impl.name(),
        impl.isLog() ? "records" : "keys",
        entries,
        built == null ? "" : ",\"built\":\"" + built + "\"",
        Double.toString(score),
        unit);
  }
}
