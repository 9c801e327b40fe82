package io.cairn.tck.crash;

import io.cairn.persistence.Durability;
import java.util.List;

/**
 * Outcome of a {@link CrashHarness} run.
 *
 * @param backendConfig the backend's HOCON body
 * @param durability durability the backend ran with
 * @param seed the seed; rerun with it to reproduce
 * @param cycles kill-and-reopen cycles completed
 * @param acknowledgedWrites writes the workload saw acknowledged, over all cycles
 * @param lostWrites keys, log records and snapshots whose acknowledged write was missing after a
 *     kill, counted once per cycle in which it was missing (one batch can lose several)
 * @param wrongValues keys, log records and snapshots that held data nobody acknowledged (another
 *     value or version, an unknown record, other bytes, a partly visible batch)
 * @param violations one line per broken rule, prefixed with its cycle; empty when all held
 * @param log one line per cycle: kill delay, acknowledged writes, outcome
 */
public record CrashReport(
    String backendConfig,
    Durability durability,
    long seed,
    int cycles,
    long acknowledgedWrites,
    long lostWrites,
    long wrongValues,
    List<String> violations,
    List<String> log) {
  public CrashReport {
    violations = List.copyOf(violations);
    log = List.copyOf(log);
  }

  /** Whether every acknowledged write survived every kill. */
  public boolean passed() {
    return violations.isEmpty();
  }

  /** A readable summary: settings, seed, per-cycle log and every violation. */
  public String summary() {
    StringBuilder sb =
        new StringBuilder()
            .append("Crash test of {")
            .append(backendConfig)
            .append("} durability=")
            .append(durability.configName())
            .append(" seed=")
            .append(seed)
            .append(": ")
            .append(cycles)
            .append(" cycles, ")
            .append(acknowledgedWrites)
            .append(" acknowledged writes, ")
            .append(lostWrites)
            .append(" lost, ")
            .append(wrongValues)
            .append(" wrong, ")
            .append(violations.size())
            .append(" violations");
    for (String l : log) {
      sb.append("\n  ").append(l);
    }
    for (String v : violations) {
      sb.append("\n  VIOLATION ").append(v);
    }
    return sb.toString();
  }

  /**
   * Throws {@link AssertionError} with {@link #summary()} (seed included) unless the run passed.
   */
  public CrashReport assertPassed() {
    if (!passed()) {
      throw new AssertionError(summary());
    }
    return this;
  }

  @Override
  public String toString() {
    return summary();
  }
}
