package io.cairn.cli;

import io.cairn.persistence.Progress;
import java.io.PrintStream;
import java.io.PrintWriter;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress of a long operation on stderr (made by {@link Cli#progress}). On a terminal: one
 * progress bar per phase, with rate and ETA, drawn by {@code me.tongfei:progressbar}. Otherwise
 * (stdout redirected, {@code --json}, CI logs): one plain line per phase at most every 250 ms and
 * at the phase's end, with the rate and, when the total is known, the ETA. Close it when done.
 */
final class ProgressPrinter implements Progress, AutoCloseable {
  private final PrintWriter err;
  private final String label;
  private final boolean bar;
  private ProgressBar current;
  private long lastPrint;
  private long phaseStart;
  private String lastPhase;

  ProgressPrinter(PrintWriter err, String label, boolean bar) {
    this.err = err;
    this.label = label;
    this.bar = bar;
  }

  /** Plain lines (tests and pipes). */
  ProgressPrinter(PrintWriter err, String label) {
    this(err, label, false);
  }

  @Override
  public synchronized void report(String phase, long done, long total) {
    long now = System.nanoTime();
    boolean newPhase = !phase.equals(lastPhase);
    if (newPhase) {
      closeBar();
      lastPhase = phase;
      phaseStart = now;
      lastPrint = 0;
    }
    if (bar) {
      if (current == null) {
        err.flush();
        current =
            new ProgressBarBuilder()
                .setTaskName(label + " " + phase)
                .setInitialMax(total)
                .setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(250)
                .showSpeed()
                .setConsumer(new ConsoleProgressBarConsumer(new PrintStream(System.err, true)))
                .build();
      }
      current.maxHint(total);
      current.stepTo(done);
      return;
    }
    boolean finished = total >= 0 && done >= total;
    if (!finished && !newPhase && now - lastPrint < 250_000_000L) {
      return;
    }
    lastPrint = now;
    double seconds = Math.max(1e-3, (now - phaseStart) / 1e9);
    double rate = done / seconds;
    StringBuilder line = new StringBuilder(label).append(": ").append(phase).append(' ');
    if (total > 0) {
      line.append(String.format("%d/%d (%d%%)", done, total, done * 100 / total));
    } else {
      line.append(done);
    }
    if (done > 0 && !newPhase) {
      line.append(String.format(" %.0f/s", rate));
      if (total > 0 && !finished && rate > 0) {
        line.append(String.format(" ETA %ds", (long) Math.ceil((total - done) / rate)));
      }
    }
    err.println(line);
    err.flush();
  }

  private void closeBar() {
    if (current != null) {
      current.close();
      current = null;
    }
  }

  @Override
  public synchronized void close() {
    closeBar();
  }
}
