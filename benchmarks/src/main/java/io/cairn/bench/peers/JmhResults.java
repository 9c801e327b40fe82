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
import java.util.stream.Stream;

/**
 * Every JMH result of a results directory ({@code *.json}, each a JMH JSON array; files written by
 * other tools in the same shape, such as {@code io.cairn.bench.scale.ScaleFootprint}, count too),
 * found by benchmark name and parameters. The report renders a section only from rows found here,
 * so a benchmark that did not run shows as "not measured in this run", never as a figure.
 */
final class JmhResults {
  /** One result row: the benchmark's full name ({@code package.Class.method}) and its figures. */
  record Row(
      String benchmark,
      String mode,
      int threads,
      Map<String, String> params,
      double score,
      double error,
      String unit,
      String file,
      Map<String, Double> secondary) {
    String method() {
      return benchmark.substring(benchmark.lastIndexOf('.') + 1);
    }

    String param(String name) {
      return params.get(name);
    }

    /** The impl parameter, or "" without one. */
    String impl() {
      return params.getOrDefault("impl", "");
    }

    /** A secondary metric's score (a profiler's, e.g. perfnorm's "task-clock"), or null. */
    Double secondary(String name) {
      return secondary.get(name);
    }

    long longParam(String name) {
      String v = params.get(name);
      return v == null ? 0 : Long.parseLong(v);
    }
  }

  final List<Row> rows;

  JmhResults(List<Row> rows) {
    this.rows = rows;
  }

  /** Reads every {@code *.json} of {@code dir} (none when the directory is absent). */
  static JmhResults read(Path dir) throws IOException {
    List<Row> rows = new ArrayList<>();
    if (Files.isDirectory(dir)) {
      List<Path> files;
      try (Stream<Path> s = Files.list(dir)) {
        files = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
      }
      for (Path f : files) {
        rows.addAll(readFile(f));
      }
    }
    return new JmhResults(rows);
  }

  static List<Row> readFile(Path json) throws IOException {
    List<Row> rows = new ArrayList<>();
    String text = Files.readString(json, StandardCharsets.UTF_8).strip();
    if (text.isEmpty()) {
      return rows; // JMH writes nothing when every trial failed
    }
    Config root;
    try {
      root = ConfigFactory.parseString("{\"results\":" + text + "}");
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          json + " is not a JMH JSON result array: " + e.getMessage(), e);
    }
    for (ConfigObject o : root.getObjectList("results")) {
      Config c = o.toConfig();
      Map<String, String> params = new LinkedHashMap<>();
      if (c.hasPath("params")) {
        for (var e : c.getObject("params").entrySet()) {
          params.put(e.getKey(), String.valueOf(e.getValue().unwrapped()));
        }
      }
      Object error = c.getValue("primaryMetric.scoreError").unwrapped();
      Map<String, Double> secondary = new LinkedHashMap<>();
      if (c.hasPath("secondaryMetrics")) {
        for (var m : c.getObject("secondaryMetrics").entrySet()) {
          // A metric JMH could not compute has the score "NaN" (a string): left out, not zero.
          if (m.getValue() instanceof ConfigObject metric
              && metric.get("score") != null
              && metric.get("score").unwrapped() instanceof Number score) {
            secondary.put(m.getKey(), score.doubleValue());
          }
        }
      }
      rows.add(
          new Row(
              c.getString("benchmark"),
              c.hasPath("mode") ? c.getString("mode") : "",
              c.hasPath("threads") ? c.getInt("threads") : 1,
              params,
              c.getDouble("primaryMetric.score"),
              error instanceof Number n ? n.doubleValue() : Double.NaN,
              c.hasPath("primaryMetric.scoreUnit") ? c.getString("primaryMetric.scoreUnit") : "",
              json.getFileName().toString(),
              secondary));
    }
    return rows;
  }

  /** Rows whose benchmark is {@code className.*}. */
  List<Row> of(String className) {
    return rows.stream().filter(r -> r.benchmark().startsWith(className + ".")).toList();
  }

  /** Rows of {@code className.method}. */
  List<Row> of(String className, String method) {
    return rows.stream().filter(r -> r.benchmark().equals(className + "." + method)).toList();
  }

  /** A score with JMH's error when it has one, e.g. {@code 1,234 ± 56}. */
  static String format(Row r) {
    String pattern = Math.abs(r.score()) >= 100 ? "%,.0f" : "%,.2f";
    String s = String.format(Locale.ROOT, pattern, r.score());
    if (!Double.isNaN(r.error())) {
      s += " ± " + String.format(Locale.ROOT, pattern, r.error());
    }
    return s;
  }
}
