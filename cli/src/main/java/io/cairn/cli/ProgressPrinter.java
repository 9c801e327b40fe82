package io.cairn.cli;

import io.cairn.persistence.Progress;
import java.io.PrintWriter;

/** Prints progress of long operations on one line, at most every 250 ms and at each phase's end. */
final class ProgressPrinter implements Progress {
  private final PrintWriter err;
  private final String label;
  private long lastPrint;
  private String lastPhase = "";

  ProgressPrinter(PrintWriter err, String label) {
    this.err = err;
    this.label = label;
  }

  @Override
  public void report(String phase, long done, long total) {
    long now = System.nanoTime();
    boolean finished = total >= 0 && done >= total;
    if (!finished && phase.equals(lastPhase) && now - lastPrint < 250_000_000L) {
      return;
    }
    lastPhase = phase;
    lastPrint = now;
    String amount =
        total > 0 ? String.format("%d/%d (%d%%)", done, total, done * 100 / total) : done + "";
    err.println(label + ": " + phase + " " + amount);
    err.flush();
  }
}
