package io.cairn.bench.peers;

import io.cairn.bench.peers.JmhResults.Row;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The front page's sections beyond the peers (issue 15): writers and readers by thread count,
 * reopen time by size, the 90/10 credential workload and the scale curves. Each section is drawn
 * only from the JMH results found by benchmark name; a benchmark without results is said to be "not
 * measured in this run", never filled in.
 */
final class FrontPageSections {
  static final String ROCKS_THREADS = "io.cairn.bench.rocksdb.RocksDbThreadsBenchmark";
  static final String SQLITE_THREADS = "io.cairn.bench.sqlite.SqliteThreadsBenchmark";
  static final String SYNCED_WRITERS = "io.cairn.bench.peers.PeerSyncedWritersBenchmark";
  static final String ROCKS_REOPEN = "io.cairn.bench.rocksdb.RocksDbReopenBenchmark";
  static final String SQLITE_REOPEN = "io.cairn.bench.sqlite.SqliteReopenBenchmark";
  static final String CREDENTIAL = "io.cairn.bench.cache.CredentialWorkloadBenchmark";
  static final String SCALE_KV = "io.cairn.bench.scale.ScaleKeyValueBenchmark";
  static final String SCALE_REPLAY = "io.cairn.bench.scale.ScaleLogReplayBenchmark";
  static final String SCALE_FOOTPRINT = "io.cairn.bench.scale.ScaleFootprint";

  /** The sizes issue 15 asks for; a size without results is named as not measured. */
  static final List<Long> KV_SIZES = List.of(100_000L, 1_000_000L, 10_000_000L);

  static final List<Long> LOG_SIZES = List.of(1_000_000L, 10_000_000L);

  /** Chart files this class writes (stale ones are deleted before each generation). */
  static final String CHART_GLOB = "{threads,writers,reopen,credential,scale}-*.png";

  private FrontPageSections() {}

  static String all(JmhResults res, Path charts) throws IOException {
    StringBuilder md = new StringBuilder();
    md.append("## Writers and readers at 1, 4 and 8 threads\n\n");
    md.append(
        "KV get and put, 16-byte keys, 100-byte values, Cairn beside its raw engine in one JMH run;"
            + " ratios are Cairn ÷ raw (target ≥ 0.9).\n\n");
    md.append(generic(res, ROCKS_THREADS, "RocksDB", charts, "threads-rocksdb"));
    md.append(generic(res, SQLITE_THREADS, "SQLite", charts, "threads-sqlite"));
    md.append("## Eight writers at fsync per commit\n\n");
    md.append(
        "8 threads put at once, each overwriting its own eighth of 10,000 preloaded keys (16-byte"
            + " keys, 100-byte values); every put returns once it is on disk. Only the stores of the"
            + " fsync-per-commit group above take part. Ratios: Cairn ÷ raw rocksdbjni with `sync ="
            + " true` (target for Cairn-RocksDB at `durability = full`: ≥ 1.0).\n\n");
    md.append(generic(res, SYNCED_WRITERS, "8 writers, fsync per commit", charts, "writers"));
    md.append("## Reopen time by size\n\n");
    md.append(
        "Time to open a backend holding 100k, 1M and 10M entries (single shot; target < 200 ms at"
            + " 10M).\n\n");
    md.append(generic(res, ROCKS_REOPEN, "RocksDB", charts, "reopen-rocksdb"));
    md.append(generic(res, SQLITE_REOPEN, "SQLite", charts, "reopen-sqlite"));
    md.append("## The 90/10 credential workload\n\n");
    md.append(
        "100k credentials × 300 B, Zipfian, 4 threads, 90% reads: Cairn's tiered cache with the"
            + " default configuration and with `low-latency` beside Caffeine + raw SQLite written by"
            + " hand (target ≥ 100k req/s and above the hand-written one).\n\n");
    md.append(generic(res, CREDENTIAL, "Credential workload", charts, "credential"));
    md.append(scale(res, charts));
    return md.toString();
  }

  /**
   * A table of every result of {@code className}: one row per method and parameter set (threads
   * included when they vary), one column per {@code impl}, and for each {@code CAIRN*} impl its
   * ratio to the first impl that is not Cairn's (throughput: Cairn ÷ baseline, above 1 = Cairn
   * faster; time: Cairn's time ÷ the baseline's, below 1 = Cairn faster). Plus a bar chart.
   */
  static String generic(JmhResults res, String className, String title, Path charts, String chart)
      throws IOException {
    List<Row> rows = res.of(className);
    StringBuilder md = new StringBuilder("### ").append(title).append("\n\n");
    if (rows.isEmpty()) {
      return md.append("Not measured in this run (no result of `")
          .append(className)
          .append("`).\n\n")
          .toString();
    }
    Set<String> impls = new LinkedHashSet<>();
    rows.forEach(r -> impls.add(r.impl()));
    boolean threadsVary = rows.stream().map(Row::threads).distinct().count() > 1;
    Map<String, Map<String, Row>> table = new TreeMap<>();
    Map<String, String> labels = new LinkedHashMap<>();
    for (Row r : rows) {
      StringBuilder label = new StringBuilder(r.method());
      StringBuilder sort = new StringBuilder(r.method());
      r.params()
          .forEach(
              (k, v) -> {
                if (!k.equals("impl")) {
                  label.append(", ").append(k).append(" = ").append(v);
                  sort.append('|').append(sortable(v));
                }
              });
      if (threadsVary) {
        label.append(", ").append(r.threads()).append(" thread").append(r.threads() > 1 ? "s" : "");
        sort.append('|').append(sortable(Integer.toString(r.threads())));
      }
      labels.put(sort.toString(), label.toString());
      table.computeIfAbsent(sort.toString(), k -> new LinkedHashMap<>()).put(r.impl(), r);
    }
    String baseline = impls.stream().filter(i -> !isCairn(i)).findFirst().orElse(null);
    List<String> ratioImpls =
        baseline == null ? List.of() : impls.stream().filter(FrontPageSections::isCairn).toList();
    String unit = rows.get(0).unit();
    boolean time = !rows.get(0).mode().equals("thrpt");
    md.append("| benchmark |");
    impls.forEach(i -> md.append(' ').append(i.isEmpty() ? "score" : i).append(" |"));
    ratioImpls.forEach(
        i ->
            md.append(' ')
                .append(i)
                .append(time ? " time ÷ " : " × ")
                .append(baseline)
                .append(time ? " time" : "")
                .append(" |"));
    md.append("\n|---|").append("---:|".repeat(impls.size() + ratioImpls.size())).append('\n');
    for (var e : table.entrySet()) {
      md.append("| ").append(labels.get(e.getKey())).append(" |");
      for (String i : impls) {
        Row r = e.getValue().get(i);
        md.append(' ').append(r == null ? "not measured" : JmhResults.format(r)).append(" |");
      }
      for (String i : ratioImpls) {
        Row r = e.getValue().get(i);
        Row b = e.getValue().get(baseline);
        md.append(' ')
            .append(
                r == null || b == null || b.score() == 0
                    ? "—"
                    : String.format(Locale.ROOT, "%.2f", r.score() / b.score()))
            .append(" |");
      }
      md.append('\n');
    }
    md.append("\nUnit: ")
        .append(unit)
        .append(" (± JMH's 99.9% error where it has one); mode ")
        .append(rows.get(0).mode())
        .append(".\n\n");

    CategoryChart c =
        new CategoryChartBuilder().width(900).height(500).title(title).yAxisTitle(unit).build();
    c.getStyler().setXAxisLabelRotation(20);
    c.getStyler().setYAxisDecimalPattern("#,###.##");
    List<String> x = new ArrayList<>();
    table.keySet().forEach(k -> x.add(labels.get(k)));
    for (String i : impls) {
      List<Double> y = new ArrayList<>();
      for (var e : table.entrySet()) {
        Row r = e.getValue().get(i);
        y.add(r == null ? 0.0 : r.score());
      }
      c.addSeries(i.isEmpty() ? "score" : i, x, y);
    }
    BitmapEncoder.saveBitmap(
        c, charts.resolve(chart + ".png").toString(), BitmapEncoder.BitmapFormat.PNG);
    md.append("![").append(title).append("](charts/").append(chart).append(".png)\n\n");
    return md.toString();
  }

  private static boolean isCairn(String impl) {
    return impl.startsWith("CAIRN");
  }

  private static String sortable(String v) {
    try {
      return String.format(Locale.ROOT, "%020d", Long.parseLong(v));
    } catch (NumberFormatException e) {
      return v;
    }
  }

  /** The scale curves: KV get/put, log replay, build, heap/RSS/disk per entry. */
  static String scale(JmhResults res, Path charts) throws IOException {
    StringBuilder md = new StringBuilder("## Scale curves\n\n");
    md.append(
        "16-byte keys, 100-byte values (log records: 100 bytes), one thread, stores at"
            + " `durability = normal` (raw: WAL without fsync, SQLite synchronous=NORMAL), on data"
            + " sets built once and reused (`io.cairn.bench.scale`). Get reads a uniformly random"
            + " existing key; put overwrites one with a different value.\n\n");
    List<String> kvImpls = List.of("CAIRN_ROCKSDB", "RAW_ROCKSDB", "CAIRN_SQLITE", "RAW_SQLITE");
    List<String> logImpls = List.of("CAIRN_ROCKSDB_LOG", "CAIRN_SQLITE_LOG", "RAW_ROCKSDB_LOG");

    md.append("### KV get and put by key count (ops/s)\n\n");
    List<Row> kv = res.of(SCALE_KV);
    if (kv.isEmpty()) {
      md.append("Not measured in this run (no result of `").append(SCALE_KV).append("`).\n\n");
    } else {
      TreeSet<Long> sizes = sizes(kv, "keys");
      header(md, "store | op", sizes, "keys");
      for (String op : List.of("get", "put")) {
        for (String impl : kvImpls) {
          md.append("| ").append(impl).append(" | ").append(op).append(" |");
          for (long s : sizes) {
            Row r = find(kv, op, impl, "keys", s);
            md.append(' ').append(r == null ? "not measured" : JmhResults.format(r)).append(" |");
          }
          md.append('\n');
        }
      }
      for (String op : List.of("get", "put")) {
        for (String engine : List.of("ROCKSDB", "SQLITE")) {
          md.append("| Cairn ÷ raw ").append(engine).append(" | ").append(op).append(" |");
          for (long s : sizes) {
            Row c = find(kv, op, "CAIRN_" + engine, "keys", s);
            Row r = find(kv, op, "RAW_" + engine, "keys", s);
            md.append(' ')
                .append(
                    c == null || r == null || r.score() == 0
                        ? "—"
                        : String.format(Locale.ROOT, "**%.2f**", c.score() / r.score()))
                .append(" |");
          }
          md.append('\n');
        }
      }
      md.append('\n').append(notMeasured(KV_SIZES, sizes, "keys"));
      for (String op : List.of("get", "put")) {
        md.append(
            curve(
                charts,
                "scale-" + op,
                "KV " + op + " by key count, 1 thread",
                "keys",
                "ops/s",
                kvImpls,
                impl -> points(kv, op, impl, "keys", false)));
      }
    }

    md.append("### Log replay: every record from offset 0\n\n");
    List<Row> replay = res.of(SCALE_REPLAY);
    if (replay.isEmpty()) {
      md.append("Not measured in this run (no result of `").append(SCALE_REPLAY).append("`).\n\n");
    } else {
      TreeSet<Long> sizes = sizes(replay, "records");
      md.append(
          "Milliseconds per full replay (single shot, ± JMH's error) and records per second."
              + " Cairn reads pages of 1,000 records with `LogStore.read`; raw RocksDB iterates"
              + " 8-byte offset keys with one iterator.\n\n");
      header(md, "log", sizes, "records");
      for (String impl : logImpls) {
        md.append("| ").append(impl).append(" |");
        for (long s : sizes) {
          Row r = find(replay, "replay", impl, "records", s);
          md.append(' ')
              .append(
                  r == null
                      ? "not measured"
                      : JmhResults.format(r)
                          + " ms ("
                          + String.format(Locale.ROOT, "%,.0f", s / (r.score() / 1000))
                          + " records/s)")
              .append(" |");
        }
        md.append('\n');
      }
      md.append('\n').append(notMeasured(LOG_SIZES, sizes, "records"));
      md.append(
          curve(
              charts,
              "scale-replay",
              "Log replay, records per second",
              "records",
              "records/s",
              logImpls,
              impl -> points(replay, "replay", impl, "records", true)));
    }

    md.append("### Building the data sets (a put-at-scale figure)\n\n");
    List<Row> build = res.of(SCALE_FOOTPRINT, "buildEntriesPerSecond");
    if (build.isEmpty()) {
      md.append("Not measured in this run (no build result of `")
          .append(SCALE_FOOTPRINT)
          .append("`).\n\n");
    } else {
      md.append(
          "Entries written in batches of 10,000 (Cairn: `putAll` / `appendAll`; raw RocksDB:"
              + " `WriteBatch`; raw SQLite: one transaction per 100,000 inserts), unsynced, keys in"
              + " order, from an empty directory; open and close included. A data set reused from"
              + " an earlier run shows the figure of its own build and when it was built.\n\n");
      md.append("| store | entries | build time | entries/s | built |\n|---|---:|---:|---:|---|\n");
      List<String> order = new ArrayList<>(kvImpls);
      order.addAll(logImpls);
      for (String impl : order) {
        for (Row r : build) {
          if (!r.impl().equals(impl)) {
            continue;
          }
          long n = entries(r);
          Row secs =
              res.of(SCALE_FOOTPRINT, "buildSeconds").stream()
                  .filter(x -> x.impl().equals(impl) && entries(x) == n)
                  .findFirst()
                  .orElse(null);
          md.append(
              String.format(
                  Locale.ROOT,
                  "| %s | %,d | %s | %,.0f | %s |\n",
                  impl,
                  n,
                  secs == null ? "—" : String.format(Locale.ROOT, "%.1f s", secs.score()),
                  r.score(),
                  r.params().getOrDefault("built", "")));
        }
      }
      md.append('\n');
    }

    md.append("### Memory and disk per entry\n\n");
    List<Row> heap = res.of(SCALE_FOOTPRINT, "heapBytesPerEntry");
    if (heap.isEmpty()) {
      md.append("Not measured in this run (no footprint result of `")
          .append(SCALE_FOOTPRINT)
          .append("`).\n\n");
    } else {
      md.append(
          "Measured in a fresh JVM per store and size, on the data set reopened (not the process"
              + " that built it), after 100,000 random gets (a log: one full replay) and"
              + " `System.gc()`. Heap: `MemoryMXBean` used heap minus the same before opening. RSS:"
              + " `VmRSS` of `/proc/self/status`, same delta (engine native memory included: block"
              + " cache, memtables, page cache, mapped files). Disk: sum of the data set's file"
              + " sizes after close. Each divided by the entry count, so fixed costs dominate small"
              + " data sets.\n\n");
      md.append(
          "| store | entries | heap B/entry | RSS B/entry | disk B/entry | heap | RSS | disk |\n"
              + "|---|---:|---:|---:|---:|---:|---:|---:|\n");
      List<String> order = new ArrayList<>(kvImpls);
      order.addAll(logImpls);
      for (String impl : order) {
        for (Row h : heap) {
          if (!h.impl().equals(impl)) {
            continue;
          }
          long n = entries(h);
          md.append(String.format(Locale.ROOT, "| %s | %,d |", impl, n));
          for (String m : List.of("heapBytesPerEntry", "rssBytesPerEntry", "diskBytesPerEntry")) {
            Row r = footprint(res, m, impl, n);
            md.append(r == null ? " — |" : String.format(Locale.ROOT, " %,.1f |", r.score()));
          }
          for (String m : List.of("heapBytes", "rssBytes", "diskBytes")) {
            Row r = footprint(res, m, impl, n);
            md.append(
                r == null
                    ? " — |"
                    : String.format(Locale.ROOT, " %.1f MiB |", r.score() / 1048576));
          }
          md.append('\n');
        }
      }
      md.append('\n');
      List<String> all = new ArrayList<>(kvImpls);
      all.addAll(logImpls);
      for (String m : List.of("heap", "rss", "disk")) {
        md.append(
            curve(
                charts,
                "scale-" + m + "-per-entry",
                (m.equals("rss")
                        ? "RSS"
                        : m.substring(0, 1).toUpperCase(Locale.ROOT) + m.substring(1))
                    + " bytes per entry",
                "entries",
                "bytes per entry",
                all,
                impl -> {
                  TreeMap<Long, Double> p = new TreeMap<>();
                  for (Row r : res.of(SCALE_FOOTPRINT, m + "BytesPerEntry")) {
                    if (r.impl().equals(impl)) {
                      p.put(entries(r), r.score());
                    }
                  }
                  return p;
                }));
      }
    }
    return md.toString();
  }

  private static long entries(Row r) {
    return r.params().containsKey("keys") ? r.longParam("keys") : r.longParam("records");
  }

  private static Row footprint(JmhResults res, String metric, String impl, long n) {
    return res.of(SCALE_FOOTPRINT, metric).stream()
        .filter(r -> r.impl().equals(impl) && entries(r) == n)
        .findFirst()
        .orElse(null);
  }

  private static TreeSet<Long> sizes(List<Row> rows, String param) {
    TreeSet<Long> sizes = new TreeSet<>();
    rows.forEach(r -> sizes.add(r.longParam(param)));
    return sizes;
  }

  private static void header(StringBuilder md, String first, Set<Long> sizes, String what) {
    md.append("| ").append(first).append(" |");
    sizes.forEach(s -> md.append(String.format(Locale.ROOT, " %,d %s |", s, what)));
    md.append("\n|---|").append(first.contains("|") ? "---|" : "");
    md.append("---:|".repeat(sizes.size())).append('\n');
  }

  private static String notMeasured(List<Long> wanted, Set<Long> measured, String what) {
    List<String> missing = new ArrayList<>();
    for (long s : wanted) {
      if (!measured.contains(s)) {
        missing.add(String.format(Locale.ROOT, "%,d %s", s, what));
      }
    }
    return missing.isEmpty()
        ? ""
        : "Not measured in this run: " + String.join(", ", missing) + ".\n\n";
  }

  private static Row find(List<Row> rows, String method, String impl, String param, long size) {
    return rows.stream()
        .filter(
            r -> r.method().equals(method) && r.impl().equals(impl) && r.longParam(param) == size)
        .findFirst()
        .orElse(null);
  }

  /** Size → ops/s (or, for a single-shot time in ms, records per second). */
  private static TreeMap<Long, Double> points(
      List<Row> rows, String method, String impl, String param, boolean perSecondFromMs) {
    TreeMap<Long, Double> p = new TreeMap<>();
    for (Row r : rows) {
      if (r.method().equals(method) && r.impl().equals(impl)) {
        long n = r.longParam(param);
        p.put(n, perSecondFromMs ? n / (r.score() / 1000) : r.score());
      }
    }
    return p;
  }

  /** A line chart, log-scaled size on x, one series per impl with points. */
  private static String curve(
      Path charts,
      String name,
      String title,
      String xTitle,
      String yTitle,
      List<String> impls,
      java.util.function.Function<String, TreeMap<Long, Double>> series)
      throws IOException {
    XYChart c =
        new XYChartBuilder()
            .width(900)
            .height(500)
            .title(title)
            .xAxisTitle(xTitle)
            .yAxisTitle(yTitle)
            .build();
    c.getStyler().setXAxisLogarithmic(true);
    c.getStyler().setXAxisDecimalPattern("#,###");
    c.getStyler().setYAxisDecimalPattern("#,###.#");
    int n = 0;
    for (String impl : impls) {
      TreeMap<Long, Double> p = series.apply(impl);
      if (p.isEmpty()) {
        continue;
      }
      c.addSeries(
              impl,
              p.keySet().stream().map(Long::doubleValue).toList(),
              new ArrayList<>(p.values()))
          .setMarker(SeriesMarkers.CIRCLE);
      n++;
    }
    if (n == 0) {
      return "";
    }
    BitmapEncoder.saveBitmap(
        c, charts.resolve(name + ".png").toString(), BitmapEncoder.BitmapFormat.PNG);
    return "![" + title + "](charts/" + name + ".png)\n\n";
  }
}
