package io.cairn.tck.reliability;

import io.cairn.persistence.Durability;
import io.cairn.tck.crash.ChildJvm;
import io.cairn.tck.crash.CrashHarness;
import io.cairn.tck.crash.CrashReport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * A soak run: the {@link CrashHarness} workload (four writer threads: puts, deletes, batches,
 * appends, snapshots) for a long time, killed with SIGKILL every few minutes and reopened, while
 * the child's heap, the number of files and bytes in the data directory and the write-ahead log
 * size are sampled, and every reopen is timed (the recovery time) and checked (every acknowledged
 * write present).
 *
 * <p>Defaults come from system properties so a Maven profile can set them: {@value
 * #DURATION_PROPERTY} (ISO-8601 or minutes, default 30 minutes), {@value #KILL_EVERY_PROPERTY}
 * (default 3 minutes; each kill comes after 75% to 125% of it), {@value #SAMPLE_EVERY_PROPERTY}
 * (default 10 seconds).
 *
 * <p>Write-ahead log files are those named {@code *-wal} (SQLite) or {@code *.log} (RocksDB).
 */
public final class SoakRun {
  public static final String DURATION_PROPERTY = "soakDuration";
  public static final String KILL_EVERY_PROPERTY = "soakKillEvery";
  public static final String SAMPLE_EVERY_PROPERTY = "soakSampleEvery";

  /** One sample while the child runs. */
  public record Sample(
      long atMillis,
      int cycle,
      long heapUsedBytes,
      long heapAfterGcBytes,
      long files,
      long dataBytes,
      long walBytes) {}

  /** One kill and reopen. */
  public record Cycle(
      int cycle, long atMillis, long recoveryMillis, long acknowledged, int violations) {}

  private final String backendConfig;
  private final Path workDir;
  private Durability durability = Durability.NORMAL;
  private Duration duration = duration(DURATION_PROPERTY, Duration.ofMinutes(30));
  private Duration killEvery = duration(KILL_EVERY_PROPERTY, Duration.ofMinutes(3));
  private Duration sampleEvery = duration(SAMPLE_EVERY_PROPERTY, Duration.ofSeconds(10));
  private long seed = 20261205L;

  private SoakRun(String backendConfig, Path workDir) {
    this.backendConfig = Objects.requireNonNull(backendConfig, "backendConfig");
    this.workDir = workDir.toAbsolutePath();
  }

  /** A soak run of the backend {@code backendConfig} (e.g. {@code "type = sqlite"}). */
  public static SoakRun of(String backendConfig, Path workDir) {
    return new SoakRun(backendConfig, workDir);
  }

  /** Parses {@code PT30M}-style durations or a number of minutes. */
  static Duration duration(String property, Duration fallback) {
    String v = System.getProperty(property);
    if (v == null || v.isBlank()) {
      return fallback;
    }
    v = v.trim();
    try {
      return v.toUpperCase(java.util.Locale.ROOT).startsWith("P")
          ? Duration.parse(v)
          : Duration.ofMillis((long) (Double.parseDouble(v) * 60_000));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "-D" + property + "=" + v + " is neither minutes (e.g. 2) nor ISO-8601 (e.g. PT2M)", e);
    }
  }

  public SoakRun durability(Durability d) {
    this.durability = Objects.requireNonNull(d);
    return this;
  }

  public SoakRun duration(Duration d) {
    this.duration = Objects.requireNonNull(d);
    return this;
  }

  public SoakRun killEvery(Duration d) {
    this.killEvery = Objects.requireNonNull(d);
    return this;
  }

  public SoakRun sampleEvery(Duration d) {
    this.sampleEvery = Objects.requireNonNull(d);
    return this;
  }

  public SoakRun seed(long seed) {
    this.seed = seed;
    return this;
  }

  /** Runs until the duration has passed (the last cycle finishes) and returns the report. */
  public SoakReport run() throws IOException {
    List<Sample> samples = new ArrayList<>();
    List<Cycle> cycles = new ArrayList<>();
    long start = System.nanoTime();
    CrashHarness.Observer observer =
        new CrashHarness.Observer() {
          @Override
          public void running(int cycle, ChildJvm child, Path dataDir) {
            long[] heap = lastStat(child.output());
            long[] dir = scan(dataDir);
            samples.add(
                new Sample(
                    (System.nanoTime() - start) / 1_000_000,
                    cycle,
                    heap[0],
                    heap[1],
                    dir[0],
                    dir[1],
                    dir[2]));
          }

          @Override
          public void cycleEnded(
              int cycle, long recoveryMillis, long acknowledged, List<String> violations) {
            cycles.add(
                new Cycle(
                    cycle,
                    (System.nanoTime() - start) / 1_000_000,
                    recoveryMillis,
                    acknowledged,
                    violations.size()));
          }
        };
    long killMillis = killEvery.toMillis();
    // The last cycle may start just before the limit; shorten nothing, just stop starting cycles
    // once the remaining time is less than one kill interval.
    Duration limit = duration.minus(killEvery.multipliedBy(3).dividedBy(4));
    CrashReport report =
        CrashHarness.builder(backendConfig, workDir)
            .durability(durability)
            .seed(seed)
            .cycles(Integer.MAX_VALUE)
            .timeLimit(limit.isNegative() ? Duration.ZERO : limit)
            .stopAtFirstViolation(false)
            .killDelay(Duration.ofMillis(killMillis * 3 / 4), Duration.ofMillis(killMillis * 5 / 4))
            .observer(observer, sampleEvery)
            .build()
            .run();
    return new SoakReport(
        backendConfig,
        durability,
        duration,
        killEvery,
        (System.nanoTime() - start) / 1_000_000,
        report,
        samples,
        cycles);
  }

  /** The child's last {@code STAT} line: heap used and heap used after the last GC, or -1s. */
  static long[] lastStat(List<String> output) {
    for (int i = output.size() - 1; i >= 0; i--) {
      String l = output.get(i);
      if (l.startsWith("STAT ")) {
        String[] t = l.split(" ");
        return new long[] {Long.parseLong(t[2]), Long.parseLong(t[3])};
      }
    }
    return new long[] {-1, -1};
  }

  /** Files, bytes and write-ahead log bytes under {@code dir}. */
  static long[] scan(Path dir) {
    long[] out = new long[3];
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.filter(Files::isRegularFile)
          .forEach(
              p -> {
                long size;
                try {
                  size = Files.size(p);
                } catch (IOException e) {
                  return; // deleted by the engine while we looked
                }
                String name = p.getFileName().toString();
                out[0]++;
                out[1] += size;
                if (name.endsWith("-wal") || name.endsWith(".log")) {
                  out[2] += size;
                }
              });
    } catch (IOException | UncheckedIOException e) {
      // the engine renamed or removed a file during the walk; the next sample counts again
    }
    return out;
  }
}
