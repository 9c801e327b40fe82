package io.cairn.bench;

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
import java.util.TreeMap;

/**
 * Turns a JMH JSON result file into a table of Cairn-to-baseline ratios. Rows are grouped by
 * benchmark method and every parameter except {@code impl}; inside a group, each implementation is
 * divided by the group's baseline: the first {@code impl} whose name does not start with {@code
 * CAIRN}. Ratios above 1 mean Cairn does more operations per second than the baseline.
 *
 * <p>Usage: {@code java -cp benchmarks.jar io.cairn.bench.RatioReport results.json}
 */
public final class RatioReport {
  private RatioReport() {}

  record Row(
      String benchmark,
      String impl,
      Map<String, String> params,
      double score,
      double error,
      String unit,
      int threads) {}

  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      System.err.println("usage: RatioReport <jmh-results.json>");
      System.exit(2);
    }
    String json = Files.readString(Path.of(args[0]), StandardCharsets.UTF_8);
    Config root = ConfigFactory.parseString("{\"results\":" + json + "}");
    List<Row> rows = new ArrayList<>();
    for (ConfigObject o : root.getObjectList("results")) {
      Config c = o.toConfig();
      Map<String, String> params = new TreeMap<>();
      String impl = "-";
      if (c.hasPath("params")) {
        for (Map.Entry<String, Object> p : c.getObject("params").unwrapped().entrySet()) {
          if (p.getKey().equals("impl")) {
            impl = String.valueOf(p.getValue());
          } else {
            params.put(p.getKey(), String.valueOf(p.getValue()));
          }
        }
      }
      String bench = c.getString("benchmark").replace("io.cairn.bench.", "");
      double error =
          c.getValue("primaryMetric.scoreError").unwrapped() instanceof Number n
              ? n.doubleValue()
              : Double.NaN;
      rows.add(
          new Row(
              bench,
              impl,
              params,
              c.getDouble("primaryMetric.score"),
              error,
              c.getString("primaryMetric.scoreUnit"),
              c.getInt("threads")));
    }
    Map<String, List<Row>> groups = new LinkedHashMap<>();
    for (Row r : rows) {
      groups
          .computeIfAbsent(
              r.benchmark() + " " + r.params() + " t=" + r.threads(), k -> new ArrayList<>())
          .add(r);
    }
    System.out.printf(
        "%-62s %-22s %16s %12s %-10s %8s%n",
        "BENCHMARK [params] threads", "IMPL", "SCORE", "± ERROR", "UNIT", "RATIO");
    for (Map.Entry<String, List<Row>> g : groups.entrySet()) {
      Row baseline =
          g.getValue().stream()
              .filter(r -> !r.impl().toUpperCase(Locale.ROOT).startsWith("CAIRN"))
              .findFirst()
              .orElse(null);
      for (Row r : g.getValue()) {
        String ratio =
            baseline == null || baseline.score() == 0
                ? ""
                : String.format("%.2fx", r.score() / baseline.score());
        System.out.printf(
            "%-62s %-22s %16.1f %12.1f %-10s %8s%n",
            g.getKey(), r.impl(), r.score(), r.error(), r.unit(), ratio);
      }
    }
  }
}
