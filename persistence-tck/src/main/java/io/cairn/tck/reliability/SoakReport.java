package io.cairn.tck.reliability;

import io.cairn.persistence.Durability;
import io.cairn.tck.crash.CrashReport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The result of a {@link SoakRun}: the crash report (acknowledged writes, lost, wrong, violations),
 * the samples and the cycles, rendered as Markdown ({@link #markdown()}); {@code SoakChart} draws
 * them.
 */
public record SoakReport(
    String backendConfig,
    Durability durability,
    Duration duration,
    Duration killEvery,
    long elapsedMillis,
    CrashReport crash,
    List<SoakRun.Sample> samples,
    List<SoakRun.Cycle> cycles) {
  public SoakReport {
    samples = List.copyOf(samples);
    cycles = List.copyOf(cycles);
  }

  private static String mib(long bytes) {
    return bytes < 0 ? "-" : String.format(Locale.ROOT, "%.1f", bytes / 1048576.0);
  }

  private static String min(long millis) {
    return String.format(Locale.ROOT, "%.1f", millis / 60000.0);
  }

  /** Recovery times of all cycles, sorted. */
  List<Long> recoveryTimes() {
    return cycles.stream().map(SoakRun.Cycle::recoveryMillis).filter(t -> t >= 0).sorted().toList();
  }

  /** Markdown: summary, growth, one row per kill, samples about once a minute. */
  public String markdown() {
    StringBuilder sb = new StringBuilder();
    sb.append("Soak of {")
        .append(backendConfig)
        .append("} durability=")
        .append(durability.configName())
        .append(": ")
        .append(min(elapsedMillis))
        .append(" min (asked ")
        .append(duration)
        .append(", a kill every ~")
        .append(killEvery)
        .append("), ")
        .append(crash.cycles())
        .append(" kills, ")
        .append(crash.acknowledgedWrites())
        .append(" acknowledged writes, ")
        .append(crash.lostWrites())
        .append(" lost, ")
        .append(crash.wrongValues())
        .append(" wrong, ")
        .append(crash.violations().size())
        .append(" violations\n\n");
    List<Long> rec = recoveryTimes();
    if (!rec.isEmpty()) {
      sb.append("Recovery (reopen after kill -9): min ")
          .append(rec.get(0))
          .append(" ms, median ")
          .append(rec.get(rec.size() / 2))
          .append(" ms, max ")
          .append(rec.get(rec.size() - 1))
          .append(" ms\n\n");
    }
    if (samples.size() >= 2) {
      SoakRun.Sample a = samples.get(0);
      SoakRun.Sample z = samples.get(samples.size() - 1);
      sb.append("Growth from the first to the last sample: heap after GC ")
          .append(mib(a.heapAfterGcBytes()))
          .append(" -> ")
          .append(mib(z.heapAfterGcBytes()))
          .append(" MiB, files ")
          .append(a.files())
          .append(" -> ")
          .append(z.files())
          .append(", data ")
          .append(mib(a.dataBytes()))
          .append(" -> ")
          .append(mib(z.dataBytes()))
          .append(" MiB, WAL ")
          .append(mib(a.walBytes()))
          .append(" -> ")
          .append(mib(z.walBytes()))
          .append(" MiB\n\n");
    }
    sb.append("| kill | at (min) | recovery (ms) | acknowledged so far | violations |\n");
    sb.append("|---:|---:|---:|---:|---:|\n");
    for (SoakRun.Cycle c : cycles) {
      sb.append("| ")
          .append(c.cycle() + 1)
          .append(" | ")
          .append(min(c.atMillis()))
          .append(" | ")
          .append(c.recoveryMillis())
          .append(" | ")
          .append(c.acknowledged())
          .append(" | ")
          .append(c.violations())
          .append(" |\n");
    }
    sb.append("\n| at (min) | run | heap used (MiB) | heap after GC (MiB) | files | data (MiB) |")
        .append(" WAL (MiB) |\n|---:|---:|---:|---:|---:|---:|---:|\n");
    long nextMinute = 0;
    List<SoakRun.Sample> shown = new ArrayList<>();
    for (SoakRun.Sample s : samples) {
      if (s.atMillis() >= nextMinute) {
        shown.add(s);
        nextMinute = s.atMillis() + 60_000 - 1;
      }
    }
    for (SoakRun.Sample s : shown) {
      sb.append("| ")
          .append(min(s.atMillis()))
          .append(" | ")
          .append(s.cycle() + 1)
          .append(" | ")
          .append(mib(s.heapUsedBytes()))
          .append(" | ")
          .append(mib(s.heapAfterGcBytes()))
          .append(" | ")
          .append(s.files())
          .append(" | ")
          .append(mib(s.dataBytes()))
          .append(" | ")
          .append(mib(s.walBytes()))
          .append(" |\n");
    }
    for (String v : crash.violations()) {
      sb.append("\nVIOLATION ").append(v);
    }
    return sb.toString();
  }
}
