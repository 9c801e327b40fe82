package io.cairn.bench.peers;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;

/**
 * Writes {@code benchmarks/RESULTS.md} (the front page) and {@code benchmarks/charts/*.png} from
 * one run of {@code benchmarks/run --report}: the JMH JSON of {@link PeerKeyValueBenchmark} and
 * {@link PeerLogBenchmark}, the sync counts of {@link SyncCount}, the machine description the
 * script recorded and the JMH log (to name the peers that failed and why).
 *
 * <p>Tables are grouped by {@link Safety}; each ratio is to Cairn-RocksDB of the same group ({@code
 * durability = normal} beside the no-fsync peers, {@code full} beside the fsync-per-commit ones). A
 * configuration whose counted syncs contradict its group is flagged in the table, never silently
 * kept. Everything below the history marker of an existing RESULTS.md is kept as it is; an existing
 * file without the marker becomes the history whole.
 *
 * <p>Since issue 15 the page also carries {@link FrontPageSections} (threads, reopen, credential
 * workload, scale curves), read from any JMH JSON of the results directory by benchmark name.
 *
 * <p>Usage: {@code PeersReport <results-dir> <benchmarks-dir>}. The results directory holds what
 * {@code benchmarks/run --report --suite S} wrote, one set per suite: {@code S.json} (JMH JSON, or
 * rows of the same shape), {@code S.machine.txt} (command, date, machine, load before and after),
 * and for the peers {@code syncs.tsv} and {@code peers-jmh.log}. Every suite's results are kept
 * until that suite runs again, so the page can be produced in steps.
 */
public final class PeersReport {
  static final String HISTORY_MARKER =
      "<!-- history: everything below is kept as it was by PeersReport -->";

  private PeersReport() {}

  /** One JMH result. */
  record Result(String bench, String impl, int keys, double score, double error) {}

  public static void main(String[] args) throws IOException {
    if (args.length != 2) {
      System.err.println("usage: PeersReport <results-dir> <benchmarks-dir>");
      System.exit(2);
    }
    System.setProperty("java.awt.headless", "true");
    Path resultsDir = Path.of(args[0]);
    List<Result> results = new ArrayList<>();
    List<String> machine = new ArrayList<>();
    if (Files.isDirectory(resultsDir)) {
      try (var files = Files.list(resultsDir)) {
        for (Path f : files.sorted().toList()) {
          String name = f.getFileName().toString();
          if (name.endsWith(".json")) {
            results.addAll(readResults(f));
          } else if (name.endsWith(".machine.txt")) {
            machine.add("### " + name.substring(0, name.length() - ".machine.txt".length()));
            machine.addAll(Files.readAllLines(f));
          }
        }
      }
    }
    Map<String, String[]> syncs = readSyncs(resultsDir.resolve("syncs.tsv"));
    Map<String, String> failures = readFailures(resultsDir.resolve("peers-jmh.log"));
    Path out = Path.of(args[1]);
    Path charts = out.resolve("charts");
    Files.createDirectories(charts);
    for (String glob : List.of("{kv-get,kv-put,log-append}-*.png", FrontPageSections.CHART_GLOB)) {
      try (var old = Files.newDirectoryStream(charts, glob)) {
        for (Path stale : old) {
          Files.delete(stale); // a section without results this run must not show an old chart
        }
      }
    }
    Path resultsMd = out.resolve("RESULTS.md");
    String history = history(resultsMd);
    String page =
        render(results, syncs, machine, failures, charts)
            + FrontPageSections.all(JmhResults.read(resultsDir), charts);
    Files.writeString(
        resultsMd, page + "\n" + HISTORY_MARKER + "\n\n" + history, StandardCharsets.UTF_8);
    System.out.println("wrote " + resultsMd + " and " + charts);
  }

  static List<Result> readResults(Path json) throws IOException {
    List<Result> rows = new ArrayList<>();
    if (!Files.exists(json)) {
      return rows;
    }
    Config root =
        ConfigFactory.parseString(
            "{\"results\":" + Files.readString(json, StandardCharsets.UTF_8) + "}");
    for (ConfigObject o : root.getObjectList("results")) {
      Config c = o.toConfig();
      String bench = c.getString("benchmark");
      if (!bench.contains(".peers.")) {
        continue;
      }
      Object error = c.getValue("primaryMetric.scoreError").unwrapped();
      rows.add(
          new Result(
              bench.substring(bench.lastIndexOf('.', bench.lastIndexOf('.') - 1) + 1),
              c.getString("params.impl"),
              c.hasPath("params.keys") ? Integer.parseInt(c.getString("params.keys")) : 0,
              c.getDouble("primaryMetric.score"),
              error instanceof Number n ? n.doubleValue() : Double.NaN));
    }
    return rows;
  }

  static Map<String, String[]> readSyncs(Path tsv) throws IOException {
    Map<String, String[]> syncs = new LinkedHashMap<>();
    if (Files.exists(tsv)) {
      for (String line : Files.readAllLines(tsv)) {
        String[] f = line.split("\t");
        if (f.length == 3 && !f[0].equals("impl")) {
          syncs.put(f[0], new String[] {f[1], f[2]});
        }
      }
    }
    return syncs;
  }

  /** impl → first line of the exception JMH printed for its failed trial. */
  static Map<String, String> readFailures(Path log) throws IOException {
    Map<String, String> failures = new LinkedHashMap<>();
    if (!Files.exists(log)) {
      return failures;
    }
    String impl = null;
    boolean failed = false;
    for (String line : Files.readAllLines(log)) {
      if (line.startsWith("# Parameters: (impl = ")) {
        impl = line.substring(22).split("[,)]")[0].trim();
        failed = false;
      } else if (line.startsWith("<failure>")) {
        failed = true;
      } else if (failed && impl != null && !line.isBlank()) {
        failures.putIfAbsent(impl, line.trim());
        failed = false;
      }
    }
    return failures;
  }

  static String history(Path resultsMd) throws IOException {
    if (!Files.exists(resultsMd)) {
      return "";
    }
    String old = Files.readString(resultsMd, StandardCharsets.UTF_8);
    int at = old.indexOf(HISTORY_MARKER);
    if (at >= 0) {
      return old.substring(at + HISTORY_MARKER.length()).stripLeading();
    }
    // First generation: the old front page becomes the history, its title demoted.
    return old.replaceFirst(
        "\\A# Benchmark results", "## History: the previous front page (kept as it was)");
  }

  static String render(
      List<Result> results,
      Map<String, String[]> syncs,
      List<String> machine,
      Map<String, String> failures,
      Path charts)
      throws IOException {
    StringBuilder md = new StringBuilder();
    md.append("# Benchmark results\n\n");
    md.append(
        "The front page, generated by `benchmarks/run --report` (`io.cairn.bench.peers.PeersReport`):"
            + " do not edit above the history marker, rerun instead. It can be produced in steps"
            + " (`--suite`): each suite is one run, listed with its command, machine and load under"
            + " How this was measured; ratios are taken only within one suite's run, never across"
            + " runs. A section whose benchmark did not run says so. Peers: Cairn beside the raw"
            + " engines and its peers, grouped by crash safety so that no durable store is"
            + " compared with a non-durable one unseen. Each peers ratio is to Cairn-RocksDB **of"
            + " the same group** (`durability = normal` beside the no-fsync stores, `full` beside"
            + " the fsync-per-commit ones); above 1 means faster than Cairn-RocksDB.\n\n");
    md.append("## How this was measured\n\n");
    for (String line : machine) {
      if (line.startsWith("#")) {
        md.append('\n').append(line).append("\n\n");
      } else if (!line.isBlank()) {
        md.append("- ").append(line).append('\n');
      }
    }
    if (machine.isEmpty()) {
      md.append("No run recorded its machine and command (no `*.machine.txt` in the results).\n");
    }
    md.append(
        "\nRead the load averages above: work beside the run widens the error bars (a quick run"
            + " has one fork and two short iterations, so its errors are wide anyway). Only ratios"
            + " within this one run mean much.\n\n");
    if (results.isEmpty()) {
      md.append("## Key-value get and put, log append: Cairn beside its peers\n\n");
      md.append("Not measured in this run (no result of `io.cairn.bench.peers.*`).\n\n");
      return md.toString();
    }
    int keys = results.stream().mapToInt(Result::keys).filter(k -> k > 0).min().orElse(0);
    md.append("## Key-value get and put\n\n");
    md.append(
        String.format(
            Locale.ROOT,
            "One thread, 16-byte keys, 100-byte values, %,d keys preloaded; put overwrites"
                + " existing keys. Operations per second (± JMH's 99.9%% error).\n\n",
            keys));
    List<String[]> kvRows = new ArrayList<>();
    for (Safety safety : Safety.values()) {
      md.append("### ").append(safety.title).append("\n\n");
      md.append(
          "| store | setting | get ops/s | put ops/s | get × Cairn-RocksDB | put ×"
              + " Cairn-RocksDB | syncs per put |\n|---|---|---:|---:|---:|---:|---|\n");
      KvPeer ref = safety == Safety.NO_FSYNC ? KvPeer.CAIRN_ROCKSDB : KvPeer.CAIRN_ROCKSDB_FULL;
      Result refGet = find(results, "PeerKeyValueBenchmark.get", ref.name(), keys);
      Result refPut = find(results, "PeerKeyValueBenchmark.put", ref.name(), keys);
      for (KvPeer p : KvPeer.values()) {
        if (p.safety != safety) {
          continue;
        }
        Result get = find(results, "PeerKeyValueBenchmark.get", p.name(), keys);
        Result put = find(results, "PeerKeyValueBenchmark.put", p.name(), keys);
        md.append(
            String.format(
                "| %s | %s | %s | %s | %s | %s | %s |\n",
                p.name(),
                p.note,
                score(get, failures.get(p.name())),
                score(put, failures.get(p.name())),
                ratio(get, refGet),
                ratio(put, refPut),
                syncCell(p.name(), safety, syncs)));
        kvRows.add(
            new String[] {
              p.name(), safety.name(), value(get), value(put),
            });
      }
      md.append('\n');
    }
    md.append(chart(charts, "kv-get", "KV get, 1 thread", kvRows, 2));
    md.append(chart(charts, "kv-put", "KV put, 1 thread", kvRows, 3));

    md.append("## Log append and queue\n\n");
    md.append("One thread appends 100-byte records, one commit each. Appends per second.\n\n");
    List<String[]> logRows = new ArrayList<>();
    for (Safety safety : Safety.values()) {
      md.append("### ").append(safety.title).append("\n\n");
      md.append(
          "| log | setting | appends/s | × Cairn-RocksDB log | syncs per append |\n"
              + "|---|---|---:|---:|---|\n");
      LogPeer ref =
          safety == Safety.NO_FSYNC ? LogPeer.CAIRN_ROCKSDB_LOG : LogPeer.CAIRN_ROCKSDB_LOG_FULL;
      Result refAppend = find(results, "PeerLogBenchmark.append", ref.name(), 0);
      for (LogPeer p : LogPeer.values()) {
        if (p.safety != safety) {
          continue;
        }
        Result append = find(results, "PeerLogBenchmark.append", p.name(), 0);
        md.append(
            String.format(
                "| %s | %s | %s | %s | %s |\n",
                p.name(),
                p.note,
                score(append, failures.get(p.name())),
                ratio(append, refAppend),
                syncCell(p.name(), safety, syncs)));
        logRows.add(new String[] {p.name(), safety.name(), value(append)});
      }
      md.append('\n');
    }
    md.append(chart(charts, "log-append", "Log append, 1 thread", logRows, 2));

    TreeSet<Integer> sizes = new TreeSet<>();
    results.stream().mapToInt(Result::keys).filter(k -> k > 0).forEach(sizes::add);
    if (sizes.size() > 1) {
      md.append("## Scale: KV ops/s by key count\n\n| store | op |");
      sizes.forEach(s -> md.append(String.format(Locale.ROOT, " %,d keys |", s)));
      md.append("\n|---|---|").append("---:|".repeat(sizes.size())).append('\n');
      for (KvPeer p : KvPeer.values()) {
        for (String op : List.of("get", "put")) {
          md.append("| ").append(p.name()).append(" | ").append(op).append(" |");
          for (int s : sizes) {
            md.append(' ')
                .append(score(find(results, "PeerKeyValueBenchmark." + op, p.name(), s), null))
                .append(" |");
          }
          md.append('\n');
        }
      }
      md.append('\n');
    }

    md.append("## How the groups are checked: sync calls per operation\n\n");
    md.append(
        "`benchmarks/run --report` runs `io.cairn.bench.peers.SyncCount` under `strace -f -e"
            + " trace=fsync,fdatasync,msync,sync_file_range,syncfs,openat`: each store does N puts"
            + " (or appends) between two marker files, and every sync call of any thread between"
            + " the markers is counted (a background thread's sync is part of the cost). A store"
            + " that opens a file with O_SYNC/O_DSYNC (Tape) syncs in its writes without a sync"
            + " call; the column says so. A count that contradicts the group is flagged"
            + " **CONTRADICTS GROUP** in the tables above. Fractions below 1 in the no-fsync group"
            + " are background flushes (RocksDB's memtable, MapDB's file growth), not per-commit"
            + " syncs.\n\n");
    if (!failures.isEmpty()) {
      md.append("## Configurations that did not run here\n\n");
      failures.forEach((impl, error) -> md.append("- ").append(impl).append(": `").append(error));
      md.append("`\n\n");
    }
    return md.toString();
  }

  private static Result find(List<Result> results, String bench, String impl, int keys) {
    return results.stream()
        .filter(r -> r.bench().equals(bench) && r.impl().equals(impl) && r.keys() == keys)
        .findFirst()
        .orElse(null);
  }

  private static String score(Result r, String failure) {
    if (r == null) {
      return failure == null ? "not run" : "failed (see below)";
    }
    return Double.isNaN(r.error())
        ? String.format(Locale.ROOT, "%,.0f", r.score())
        : String.format(Locale.ROOT, "%,.0f ± %,.0f", r.score(), r.error());
  }

  private static String value(Result r) {
    return r == null ? "" : Double.toString(r.score());
  }

  private static String ratio(Result r, Result ref) {
    if (r == null || ref == null || ref.score() == 0) {
      return "—";
    }
    return String.format(Locale.ROOT, "%.2f", r.score() / ref.score());
  }

  private static String syncCell(String impl, Safety safety, Map<String, String[]> syncs) {
    String[] s = syncs.get(impl);
    if (s == null) {
      return "not counted";
    }
    if (s[0].equals("failed")) {
      return "failed to run under strace";
    }
    double perOp = Double.parseDouble(s[0]);
    boolean dsync = s[1].equals("yes");
    String cell = s[0] + (dsync ? " + O_DSYNC file" : "");
    boolean synced = perOp >= 0.9 || (dsync && !impl.startsWith("LMDB"));
    if ((safety == Safety.FSYNC_PER_COMMIT) != synced) {
      cell += " **CONTRADICTS GROUP**";
    }
    return cell;
  }

  /**
   * One bar chart per crash-safety group of column {@code col} of {@code rows} (the groups differ
   * by orders of magnitude on writes, so one axis would hide the synced stores), written as {@code
   * name-<group>.png}; returns the Markdown that shows them.
   */
  private static String chart(Path dir, String name, String title, List<String[]> rows, int col)
      throws IOException {
    StringBuilder md = new StringBuilder();
    for (Safety safety : Safety.values()) {
      List<String> names = new ArrayList<>();
      List<Double> values = new ArrayList<>();
      for (String[] row : rows) {
        if (row[1].equals(safety.name()) && !row[col].isEmpty()) {
          names.add(row[0]);
          values.add(Double.parseDouble(row[col]));
        }
      }
      if (names.isEmpty()) {
        continue;
      }
      String file = name + "-" + safety.name().toLowerCase(Locale.ROOT).replace('_', '-') + ".png";
      CategoryChart chart =
          new CategoryChartBuilder()
              .width(900)
              .height(500)
              .title(title + ", " + safety.title)
              .yAxisTitle("ops/s")
              .build();
      chart.getStyler().setLegendVisible(false);
      chart.getStyler().setXAxisLabelRotation(30);
      chart.getStyler().setYAxisDecimalPattern("#,###");
      chart.addSeries(safety.name(), names, values);
      BitmapEncoder.saveBitmap(chart, dir.resolve(file).toString(), BitmapEncoder.BitmapFormat.PNG);
      md.append("![").append(title).append(", ").append(safety.title).append("](charts/");
      md.append(file).append(")\n\n");
    }
    return md.toString();
  }
}
