package io.cairn.tck.crash;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.Durability;
import io.cairn.persistence.PersistenceRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;

/**
 * Kill-and-reopen crash test for any backend. Each cycle starts {@link CrashWorkload} in a child
 * JVM on the same data directory, waits until it is open and writing, kills it with {@link
 * Process#destroyForcibly()} after a random delay, reopens the backend in this JVM and checks the
 * rules listed on {@code CrashModel}: every acknowledged write present with its last acknowledged
 * value (deletes honoured), batches atomic, logs gap-free, snapshots intact, {@code verify()}
 * healthy.
 *
 * <pre>{@code
 * CrashReport report =
 *     CrashHarness.builder("type = sqlite", workDir)
 *         .durability(Durability.FULL)
 *         .seed(42)
 *         .build()
 *         .run();
 * report.assertPassed();
 * }</pre>
 *
 * <p>The backend's provider must be on this JVM's class path (the child inherits it). The cycle
 * count defaults to the system property {@value #CYCLES_PROPERTY} (20 if unset). Not thread-safe;
 * one run at a time per work directory.
 */
public final class CrashHarness {
  /** System property giving the default number of cycles. */
  public static final String CYCLES_PROPERTY = "crashCycles";

  private static final String BACKEND = "crash";

  private final Builder b;

  private CrashHarness(Builder b) {
    this.b = b;
  }

  /**
   * @param backendConfig HOCON body of the backend entry, e.g. {@code "type = sqlite"}; {@code
   *     data-dir} and {@code durability} are set by the harness
   * @param workDir an empty directory for the data, config and journals
   */
  public static Builder builder(String backendConfig, Path workDir) {
    return new Builder(backendConfig, workDir);
  }

  /** The cycle count from {@value #CYCLES_PROPERTY}, or 20. */
  public static int defaultCycles() {
    return Integer.getInteger(CYCLES_PROPERTY, 20);
  }

  /** Options of a crash run. */
  public static final class Builder {
    private final String backendConfig;
    private final Path workDir;
    private Durability durability = Durability.NORMAL;
    private int cycles = defaultCycles();
    private long seed = System.nanoTime();
    private int threads = 4;
    private Duration minKillDelay = Duration.ofMillis(30);
    private Duration maxKillDelay = Duration.ofMillis(400);
    private boolean acknowledgeBeforeWrite;
    private boolean stopAtFirstViolation = true;
    private Duration startTimeout = Duration.ofSeconds(60);
    private Observer observer;
    private Duration observeEvery = Duration.ofSeconds(10);
    private Duration timeLimit;

    private Builder(String backendConfig, Path workDir) {
      this.backendConfig = Objects.requireNonNull(backendConfig, "backendConfig");
      this.workDir = workDir.toAbsolutePath();
    }

    /** Durability the backend runs with (default {@code normal}). */
    public Builder durability(Durability durability) {
      this.durability = Objects.requireNonNull(durability, "durability");
      return this;
    }

    /** Kill-and-reopen cycles (default: {@link #defaultCycles()}). */
    public Builder cycles(int cycles) {
      if (cycles < 1) {
        throw new IllegalArgumentException("cycles must be positive, got " + cycles);
      }
      this.cycles = cycles;
      return this;
    }

    /** Seed of the workload and kill timing; printed in every report. */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** Concurrent writer threads in the child (default 4), exercising group commit. */
    public Builder threads(int threads) {
      if (threads < 1) {
        throw new IllegalArgumentException("threads must be positive, got " + threads);
      }
      this.threads = threads;
      return this;
    }

    /** The kill comes a uniformly random time in [min, max] after the child is writing. */
    public Builder killDelay(Duration min, Duration max) {
      if (min.isNegative() || max.compareTo(min) < 0) {
        throw new IllegalArgumentException("need 0 <= min <= max, got " + min + ", " + max);
      }
      this.minKillDelay = min;
      this.maxKillDelay = max;
      return this;
    }

    /**
     * Negative control: the workload journals each acknowledgement before calling the store, so a
     * kill during a call leaves an "acknowledged" write that never happened. A correct harness must
     * report it.
     */
    public Builder acknowledgeBeforeWrite(boolean unsafe) {
      this.acknowledgeBeforeWrite = unsafe;
      return this;
    }

    /** Stop at the first cycle with violations (default true). */
    public Builder stopAtFirstViolation(boolean stop) {
      this.stopAtFirstViolation = stop;
      return this;
    }

    /** How long a child may take to open the backend (default 60 s). */
    public Builder startTimeout(Duration timeout) {
      this.startTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /**
     * Calls {@code observer} every {@code every} while a child runs and after each reopen (for soak
     * runs: heap, files, recovery time). The child then prints {@code STAT} lines (see {@link
     * CrashWorkload}) at the same interval.
     */
    public Builder observer(Observer observer, Duration every) {
      this.observer = Objects.requireNonNull(observer, "observer");
      if (every.isNegative() || every.isZero()) {
        throw new IllegalArgumentException("every must be positive, got " + every);
      }
      this.observeEvery = every;
      return this;
    }

    /**
     * Starts no new cycle once {@code limit} has passed since {@link CrashHarness#run()} began
     * (default: none; the cycle count still applies).
     */
    public Builder timeLimit(Duration limit) {
      this.timeLimit = Objects.requireNonNull(limit, "limit");
      return this;
    }

    /** The harness; {@link CrashHarness#run()} starts it. */
    public CrashHarness build() {
      return new CrashHarness(this);
    }
  }

  /** Watches a run; both methods are called on the harness's thread. */
  public interface Observer {
    /**
     * Called every observation interval while the child of {@code cycle} runs.
     *
     * @param child the running child; its {@code STAT} lines are in {@link ChildJvm#output()}
     * @param dataDir the backend's data directory
     */
    default void running(int cycle, ChildJvm child, Path dataDir) {}

    /**
     * Called after the reopen and check that end {@code cycle}.
     *
     * @param recoveryMillis how long {@link PersistenceRegistry#open} took on the killed directory
     * @param acknowledged acknowledged writes over all cycles so far
     * @param violations violations found in this cycle
     */
    default void cycleEnded(
        int cycle, long recoveryMillis, long acknowledged, List<String> violations) {}
  }

  /**
   * Runs all cycles and returns the report; never throws for violations (see {@link
   * CrashReport#assertPassed()}).
   *
   * @throws IOException if the work directory cannot be written
   */
  public CrashReport run() throws IOException {
    Files.createDirectories(b.workDir);
    Path dataDir = b.workDir.resolve("data");
    Path config = b.workDir.resolve("crash.conf");
    String hocon = registryConfig(BACKEND, b.backendConfig, dataDir, b.durability);
    Files.writeString(config, hocon, StandardCharsets.UTF_8);
    Random timing = new Random(b.seed);
    CrashModel model = new CrashModel();
    List<String> violations = new ArrayList<>();
    List<String> log = new ArrayList<>();
    int done = 0;
    long started = System.nanoTime();
    for (int cycle = 0; cycle < b.cycles; cycle++) {
      if (b.timeLimit != null && System.nanoTime() - started > b.timeLimit.toNanos()) {
        break;
      }
      Path journal = b.workDir.resolve("journal-" + cycle + ".txt");
      long delay =
          b.minKillDelay.toMillis()
              + (long)
                  (timing.nextDouble() * (b.maxKillDelay.toMillis() - b.minKillDelay.toMillis()));
      String outcome;
      try (ChildJvm child =
          ChildJvm.start(
              CrashWorkload.class,
              "config=" + config,
              "journal=" + journal,
              "seed=" + b.seed,
              "run=" + cycle,
              "threads=" + b.threads,
              "backend=" + BACKEND,
              "ack-early=" + b.acknowledgeBeforeWrite,
              // the child must outlive the kill; it stops by itself only if the kill never comes
              "max-seconds=" + (b.maxKillDelay.toSeconds() + 300),
              "stats-ms=" + (b.observer == null ? 0 : b.observeEvery.toMillis()))) {
        try {
          child.awaitLine(l -> l.equals("READY") || l.startsWith("ERROR"), b.startTimeout);
        } catch (IllegalStateException e) {
          violations.add(
              "cycle " + cycle + ": the workload could not open the backend: " + e.getMessage());
          done++;
          break;
        }
        if (b.observer == null) {
          sleep(delay);
        } else {
          long killAt = System.nanoTime() + delay * 1_000_000;
          while (true) {
            long left = (killAt - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
              break;
            }
            sleep(Math.min(left, b.observeEvery.toMillis()));
            b.observer.running(cycle, child, dataDir);
          }
        }
        child.killHard();
        List<String> output = child.output();
        outcome = output.stream().filter(l -> l.startsWith("ERROR")).findFirst().orElse("killed");
        if (!outcome.equals("killed")) {
          violations.add(
              "cycle "
                  + cycle
                  + ": the workload failed before the kill: "
                  + String.join("\n", output));
        }
      }
      List<String> found;
      long before = model.acknowledged();
      long openStart = System.nanoTime();
      long recoveryMillis = -1;
      try (PersistenceRegistry registry =
          PersistenceRegistry.open(ConfigFactory.parseFile(config.toFile()))) {
        recoveryMillis = (System.nanoTime() - openStart) / 1_000_000;
        Map<Integer, List<Journal.Op>> ops = Journal.read(journal);
        found = model.check(registry.backend(BACKEND), ops);
      } catch (RuntimeException e) {
        java.io.StringWriter trace = new java.io.StringWriter();
        e.printStackTrace(new java.io.PrintWriter(trace));
        found = List.of("reopening or reading the backend failed: " + trace);
      }
      done++;
      log.add(
          "cycle "
              + cycle
              + ": killed after "
              + delay
              + " ms, "
              + (model.acknowledged() - before)
              + " acknowledged writes, "
              + (found.isEmpty() ? "all present" : found.size() + " violations"));
      for (String v : found) {
        violations.add("cycle " + cycle + ": " + v);
      }
      if (b.observer != null) {
        b.observer.cycleEnded(cycle, recoveryMillis, model.acknowledged(), found);
      }
      if (!violations.isEmpty() && b.stopAtFirstViolation) {
        break;
      }
    }
    return new CrashReport(
        b.backendConfig,
        b.durability,
        b.seed,
        done,
        model.acknowledged(),
        model.lost(),
        model.wrong(),
        violations,
        log);
  }

  /**
   * The HOCON of a registry with one backend {@code name}: {@code backendConfig} (e.g. {@code "type
   * = sqlite"}) plus {@code data-dir} and {@code durability}, which win over the same keys in
   * {@code backendConfig}.
   */
  public static String registryConfig(
      String name, String backendConfig, Path dataDir, Durability durability) {
    return "cairn.backends."
        + name
        + " {\n"
        + backendConfig
        + "\n"
        + "data-dir = \""
        + escape(dataDir.toAbsolutePath().toString())
        + "\"\ndurability = "
        + durability.configName()
        + "\n}\n";
  }

  private static String escape(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"");
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
