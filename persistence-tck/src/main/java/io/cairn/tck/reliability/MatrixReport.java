package io.cairn.tck.reliability;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The result of a {@link CorruptionMatrix} run: one row per case, the undamaged control first.
 *
 * @param title backend, durability, variant and seed
 * @param rows one per case
 * @param millis how long the run took
 */
public record MatrixReport(String title, List<Row> rows, long millis) {
  /**
   * One case.
   *
   * @param damage what was damaged
   * @param outcome how the backend handled it
   * @param message the error, the verify problem or the loss that decided the outcome
   */
  public record Row(Damage damage, Outcome outcome, String message) {}

  public MatrixReport {
    rows = List.copyOf(rows);
  }

  /** Cases per outcome (the control included). */
  public Map<Outcome, Integer> counts() {
    Map<Outcome, Integer> m = new EnumMap<>(Outcome.class);
    for (Outcome o : Outcome.values()) {
      m.put(o, 0);
    }
    rows.forEach(r -> m.merge(r.outcome(), 1, Integer::sum));
    return m;
  }

  /** The rows with {@code outcome}. */
  public List<Row> rows(Outcome outcome) {
    return rows.stream().filter(r -> r.outcome() == outcome).toList();
  }

  /** Whether the control was intact and no case failed. */
  public boolean passed() {
    return !rows.isEmpty()
        && rows.get(0).damage().kind() == Damage.Kind.NONE
        && rows.get(0).outcome() == Outcome.INTACT
        && rows(Outcome.FAILED).isEmpty();
  }

  /** One line: title, case count and counts per outcome. */
  public String summary() {
    return title + ": " + rows.size() + " cases in " + millis / 1000 + " s, " + counts();
  }

  /** A Markdown table of every case: case, outcome, message. */
  public String table() {
    StringBuilder sb = new StringBuilder(summary()).append("\n\n| case | outcome | message |\n");
    sb.append("|---|---|---|\n");
    for (Row r : rows) {
      sb.append("| ")
          .append(r.damage().id())
          .append(" | ")
          .append(r.outcome())
          .append(" | ")
          .append(r.message().replace("|", "\\|"))
          .append(" |\n");
    }
    return sb.toString();
  }

  /**
   * Throws {@link AssertionError} listing the failed cases (and the table) unless {@link
   * #passed()}.
   */
  public MatrixReport assertPassed() {
    if (!passed()) {
      StringBuilder sb = new StringBuilder("Corruption matrix failed: ").append(summary());
      if (rows.isEmpty() || rows.get(0).outcome() != Outcome.INTACT) {
        sb.append("\nthe undamaged control is not INTACT, so no case can be judged: ")
            .append(rows.isEmpty() ? "no rows" : rows.get(0).message());
      }
      for (Row r : rows(Outcome.FAILED)) {
        sb.append("\nFAILED ").append(r.damage().id()).append(": ").append(r.message());
      }
      sb.append("\n\n").append(table());
      throw new AssertionError(sb.toString());
    }
    return this;
  }

  @Override
  public String toString() {
    return summary();
  }
}
