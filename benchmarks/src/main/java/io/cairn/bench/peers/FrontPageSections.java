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
import java.util.function.Function;
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

  /**
   * perfnorm's task-clock secondary metric: milliseconds of CPU of the whole fork per operation.
   */
  static final String TASK_CLOCK = "task-clock";

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
        "KV get and put, 16-byte keys, 100-byte values, 100,000 keys preloaded, Cairn beside its"
            + " raw engine. Throughput on this machine drifts over tens of seconds (RocksDB puts"
            + " slow as L0 files pile up, the virtual disk, other load), so the sides run in"
            + " pairs: each row is a number of rounds (column rounds), each round one single-fork"
            + " JMH run per side, the order of the sides flipped every round, so that drift slows"
            + " both sides of a round alike. Ops/s: each side's median over the rounds. Cairn ÷"
            + " raw: the median of the per-round ratios, their min-max in parentheses (target ≥"
            + " 0.9). CPU µs/op: CPU time of the whole benchmark process (every thread: the"
            + " callers, RocksDB's flushes and compactions, JIT, GC) over the measurement"
            + " iterations per operation, perf's task-clock through JMH's `-prof"
            + " perfnorm:events=task-clock`, median over the rounds; CPU per operation hardly"
            + " moves when other processes take the cores, so raw ÷ Cairn of it (per round, median"
            + " and min-max; below 1: Cairn spends more CPU per operation) is the figure least"
            + " moved by this machine's load. Settings and rounds: How this was measured,"
            + " threads.\n\n");
    md.append(paired(res, ROCKS_THREADS, "RAW_ROCKSDB", "RocksDB", charts, "threads-rocksdb"));
    md.append(paired(res, SQLITE_THREADS, "RAW_SQLITE", "SQLite", charts, "threads-sqlite"));
    md.append("## Eight writers at fsync per commit\n\n");
    md.append(
        "8 threads put at once, each overwriting its own eighth of 10,000 preloaded keys (16-byte"
            + " keys, 100-byte values); every put returns once it is on disk. Only the stores of the"
            + " fsync-per-commit group above take part. Run in paired rounds like the threads"
            + " section (one run of every store after the other moved Cairn-RocksDB ÷ raw by tens"
            + " of percent between runs): each round one single-fork JMH run per store, the order"
            + " of the stores flipped every round. Ops/s and CPU µs/op: each store's median over"
            + " the rounds. Ratios: per round, Cairn ÷ raw rocksdbjni with `sync = true`"
            + " (RAW_ROCKSDB_SYNC), their median and min-max (target for Cairn-RocksDB at"
            + " `durability = full`: ≥ 1.0); CPU per operation as in the threads section. Settings"
            + " and rounds: How this was measured, writers.\n\n");
    md.append(
        paired(
            res,
            SYNCED_WRITERS,
            "RAW_ROCKSDB_SYNC",
            "8 writers, fsync per commit",
            charts,
            "writers"));
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
            + " hand (CAFFEINE_RAW_SQLITE; CAFFEINE_100K_RAW_SQLITE: the same with a 100k-entry"
            + " Caffeine). Run in paired rounds like the threads section: each round one"
            + " single-fork JMH run per impl, the order flipped every round. Ops/s (requests) and CPU µs/op:"
            + " each impl's median over the rounds; the target's absolute half (Cairn default ≥ 100k"
            + " req/s) is judged on CAIRN_DEFAULT's median shown here. Ratios: per round, Cairn ÷"
            + " CAFFEINE_RAW_SQLITE, their median and min-max (target: above 1). Settings and"
            + " rounds: How this was measured, credential.\n\n");
    md.append(
        paired(
            res, CREDENTIAL, "CAFFEINE_RAW_SQLITE", "Credential workload", charts, "credential"));
    md.append(scale(res, charts));
    return md.toString();
  }

  /** The impls of {@code rows}, in the order they first appear. */
  private static Set<String> impls(List<Row> rows) {
    Set<String> impls = new LinkedHashSet<>();
    rows.forEach(r -> impls.add(r.impl()));
    return impls;
  }

  /** Whether {@code rows} were run at more than one thread count (then rows name theirs). */
  private static boolean threadsVary(List<Row> rows) {
    return rows.stream().map(Row::threads).distinct().count() > 1;
  }

  /** The first impl that is not Cairn's: what Cairn's ratios are to; null if there is none. */
  private static String baseline(Set<String> impls) {
    return impls.stream().filter(i -> !isCairn(i)).findFirst().orElse(null);
  }

  /** Cairn's impls, which get a ratio column each; none without a baseline. */
  private static List<String> cairnsBeside(Set<String> impls, String baseline) {
    return baseline == null
        ? List.of()
        : impls.stream().filter(FrontPageSections::isCairn).toList();
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
      return md.append(noResult(className)).toString();
    }
    Set<String> impls = impls(rows);
    boolean threadsVary = threadsVary(rows);
    Map<String, Map<String, Row>> table = new TreeMap<>();
    Map<String, String> labels = new LinkedHashMap<>();
    for (Row r : rows) {
      String sort = rowKey(r, threadsVary, labels);
      table.computeIfAbsent(sort, k -> new LinkedHashMap<>()).put(r.impl(), r);
    }
    String baseline = baseline(impls);
    List<String> ratioImpls = cairnsBeside(impls, baseline);
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

    Map<String, List<Double>> series = new LinkedHashMap<>();
    for (String i : impls) {
      List<Double> y = new ArrayList<>();
      for (var e : table.entrySet()) {
        Row r = e.getValue().get(i);
        y.add(r == null ? 0.0 : r.score());
      }
      series.put(i.isEmpty() ? "score" : i, y);
    }
    md.append(
        bars(
            charts, chart, title, unit, table.keySet().stream().map(labels::get).toList(), series));
    return md.toString();
  }

  /**
   * The row of a table {@code r} belongs to: its method and parameters but {@code impl} (and its
   * thread count when {@code threadsVary}). Returns the row's sort key and puts its label (e.g.
   * {@code put, 4 threads}) into {@code labels} under it.
   */
  private static String rowKey(Row r, boolean threadsVary, Map<String, String> labels) {
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
    return sort.toString();
  }

  /** A bar chart, one series per impl over the rows {@code x}; returns the Markdown showing it. */
  private static String bars(
      Path charts,
      String chart,
      String title,
      String unit,
      List<String> x,
      Map<String, List<Double>> series)
      throws IOException {
    CategoryChart c =
        new CategoryChartBuilder().width(900).height(500).title(title).yAxisTitle(unit).build();
    c.getStyler().setXAxisLabelRotation(20);
    c.getStyler().setYAxisDecimalPattern("#,###.##");
    series.forEach((name, y) -> c.addSeries(name, x, y));
    BitmapEncoder.saveBitmap(
        c, charts.resolve(chart + ".png").toString(), BitmapEncoder.BitmapFormat.PNG);
    return "![" + title + "](charts/" + chart + ".png)\n\n";
  }

  /**
   * The table of a class measured in paired rounds (benchmarks/run's threads suite: each side in
   * its own one-fork run, saved as {@code ...-r<round>-<impl>.json}). A run's file name without its
   * {@code -<impl>.json} names its round, so the sides of a round are the runs that differ only by
   * impl; a file that holds every side (one JMH run taking all impls) is one round by itself. Rows
   * as in {@link #generic}. Per row: the number of rounds with every side, each side's median score
   * over the rounds, for each {@code CAIRN*} impl the median and min-max of its per-round ratios to
   * {@code baseline}, and the same for CPU per operation (perfnorm's task-clock, in µs) with the
   * ratio baseline ÷ Cairn. The baseline is named, not taken as the first other impl: files are
   * read in name order, so the first other impl of paired files is the alphabetically first
   * (LMDB_SYNC among the writers, not RAW_ROCKSDB_SYNC). Columns: Cairn's impls, the baseline, the
   * others. A side without task-clock says "not measured"; without a result of the baseline the
   * table says so and has no ratios. Plus a bar chart of the medians.
   */
  static String paired(
      JmhResults res, String className, String baseline, String title, Path charts, String chart)
      throws IOException {
    List<Row> rows = res.of(className);
    StringBuilder md = new StringBuilder("### ").append(title).append("\n\n");
    if (rows.isEmpty()) {
      return md.append(noResult(className)).toString();
    }
    Set<String> found = impls(rows);
    Set<String> impls = new LinkedHashSet<>();
    found.stream().filter(FrontPageSections::isCairn).forEach(impls::add);
    if (found.contains(baseline)) {
      impls.add(baseline);
    }
    impls.addAll(found);
    boolean threadsVary = threadsVary(rows);
    // row key -> round -> impl -> result
    Map<String, Map<String, Map<String, Row>>> table = new TreeMap<>();
    Map<String, String> labels = new LinkedHashMap<>();
    for (Row r : rows) {
      String suffix = "-" + r.impl() + ".json";
      String round =
          r.file().endsWith(suffix)
              ? r.file().substring(0, r.file().length() - suffix.length())
              : r.file();
      table
          .computeIfAbsent(rowKey(r, threadsVary, labels), k -> new TreeMap<>())
          .computeIfAbsent(round, k -> new LinkedHashMap<>())
          .put(r.impl(), r);
    }
    List<String> cairns =
        impls.contains(baseline) ? cairnsBeside(impls, baseline) : List.<String>of();
    if (!impls.contains(baseline)) {
      md.append("No result of the baseline `")
          .append(baseline)
          .append("` in this run: no ratios.\n\n");
    }
    String unit = rows.get(0).unit();
    md.append("| benchmark | rounds |");
    impls.forEach(i -> md.append(' ').append(i).append(' ').append(unit).append(" |"));
    cairns.forEach(i -> md.append(' ').append(i).append(" ÷ ").append(baseline).append(" |"));
    impls.forEach(i -> md.append(' ').append(i).append(" CPU µs/op |"));
    cairns.forEach(i -> md.append(" CPU ").append(baseline).append(" ÷ ").append(i).append(" |"));
    md.append("\n|---|")
        .append("---:|".repeat(1 + 2 * impls.size() + 2 * cairns.size()))
        .append('\n');
    Map<String, List<Double>> series = new LinkedHashMap<>();
    impls.forEach(i -> series.put(i, new ArrayList<>()));
    for (var e : table.entrySet()) {
      Map<String, Map<String, Row>> rounds = e.getValue();
      md.append("| ").append(labels.get(e.getKey())).append(" | ");
      md.append(roundsCell(rounds, impls)).append(" |");
      for (String i : impls) {
        List<Double> scores = values(rounds, i, r -> r.score());
        series.get(i).add(scores.isEmpty() ? 0.0 : median(scores));
        md.append(' ')
            .append(
                scores.isEmpty()
                    ? "not measured"
                    : String.format(Locale.ROOT, "%,.0f", median(scores)))
            .append(" |");
      }
      for (String i : cairns) {
        md.append(' ')
            .append(spread(ratios(rounds, i, baseline, r -> r.score()), "—"))
            .append(" |");
      }
      for (String i : impls) {
        List<Double> cpu = values(rounds, i, FrontPageSections::cpuMicros);
        md.append(' ')
            .append(
                cpu.isEmpty() ? "not measured" : String.format(Locale.ROOT, "%.2f", median(cpu)))
            .append(" |");
      }
      for (String i : cairns) {
        md.append(' ')
            .append(
                spread(ratios(rounds, baseline, i, FrontPageSections::cpuMicros), "not measured"))
            .append(" |");
      }
      md.append('\n');
    }
    md.append("\nUnit: ")
        .append(unit)
        .append(", median over the rounds; mode ")
        .append(rows.get(0).mode())
        .append(".\n\n");
    md.append(
        bars(
            charts, chart, title, unit, table.keySet().stream().map(labels::get).toList(), series));
    return md.toString();
  }

  /** µs of CPU per operation from perfnorm's task-clock (ms/op), or null when not measured. */
  private static Double cpuMicros(Row r) {
    Double ms = r.secondary(TASK_CLOCK);
    return ms == null ? null : ms * 1000;
  }

  /** {@code value} of {@code impl}'s result in every round that has one (and a value). */
  private static List<Double> values(
      Map<String, Map<String, Row>> rounds, String impl, Function<Row, Double> value) {
    List<Double> out = new ArrayList<>();
    for (Map<String, Row> round : rounds.values()) {
      Row r = round.get(impl);
      Double v = r == null ? null : value.apply(r);
      if (v != null) {
        out.add(v);
      }
    }
    return out;
  }

  /** Per round with both sides (and both values): {@code value(top) ÷ value(bottom)}. */
  static List<Double> ratios(
      Map<String, Map<String, Row>> rounds,
      String top,
      String bottom,
      Function<Row, Double> value) {
    List<Double> out = new ArrayList<>();
    for (Map<String, Row> round : rounds.values()) {
      Row t = round.get(top);
      Row b = round.get(bottom);
      Double tv = t == null ? null : value.apply(t);
      Double bv = b == null ? null : value.apply(b);
      if (tv != null && bv != null && bv != 0) {
        out.add(tv / bv);
      }
    }
    return out;
  }

  /** Rounds holding every side; rounds missing a side (a failed run) are counted apart. */
  private static String roundsCell(Map<String, Map<String, Row>> rounds, Set<String> impls) {
    long complete = rounds.values().stream().filter(r -> r.keySet().containsAll(impls)).count();
    long partial = rounds.size() - complete;
    return partial == 0 ? Long.toString(complete) : complete + " (+" + partial + " missing a side)";
  }

  /** The median (of an even count: the mean of the middle two). */
  static double median(List<Double> values) {
    if (values.isEmpty()) {
      throw new IllegalArgumentException("the median of no values");
    }
    List<Double> sorted = values.stream().sorted().toList();
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  /**
   * Ratios as {@code median (min-max)}, e.g. {@code 0.61 (0.55-0.66)}; one ratio alone; {@code
   * none} when there is no ratio.
   */
  static String spread(List<Double> ratios, String none) {
    if (ratios.isEmpty()) {
      return none;
    }
    String median = String.format(Locale.ROOT, "%.2f", median(ratios));
    if (ratios.size() == 1) {
      return median;
    }
    return String.format(
        Locale.ROOT,
        "%s (%.2f-%.2f)",
        median,
        ratios.stream().mapToDouble(Double::doubleValue).min().orElseThrow(),
        ratios.stream().mapToDouble(Double::doubleValue).max().orElseThrow());
  }

  /** What a section says of a class without results: never an old or made-up figure. */
  private static String noResult(String className) {
    return "Not measured in this run (no result of `" + className + "`).\n\n";
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
      md.append(noResult(SCALE_KV));
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
      md.append(noResult(SCALE_REPLAY));
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
      Function<String, TreeMap<Long, Double>> series)
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
