package io.cairn.tck.reliability;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.Durability;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StorageBackend;
import io.cairn.tck.crash.ChildJvm;
import io.cairn.tck.crash.CrashHarness;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * A backend-neutral corruption matrix: damage every file of a data directory in many ways, one case
 * at a time, and check that the backend either reports the damage or returns exactly what was
 * written: never a wrong value, never a silent loss.
 *
 * <ol>
 *   <li>{@link MatrixWorkload} writes a seeded workload through the public API (key-value entries
 *       with versions and TTLs, logs with a truncation, snapshots) and records the model. Variant
 *       {@link Variant#CLEAN_CLOSE}: in this JVM, then {@code close()}. Variant {@link
 *       Variant#KILLED}: in a child JVM ({@link ChildJvm}), which keeps writing an in-flight tail
 *       and is killed with SIGKILL, so the engine's write-ahead state is left as a crash leaves it.
 *   <li>For the undamaged control and for each {@link Damage} case (every file: bit and byte flips
 *       at the start, middle, end, inside located keys, values, log records and snapshot bytes and
 *       at engine-specific {@link DamagePoint}s; truncation to half and to zero; deletion; and the
 *       whole directory deleted) it copies the directory, damages the copy, opens it through {@link
 *       PersistenceRegistry}, reads everything, runs {@code verify()} and classifies the case as an
 *       {@link Outcome}.
 * </ol>
 *
 * <pre>{@code
 * MatrixReport report =
 *     CorruptionMatrix.builder("type = sqlite", workDir)
 *         .durability(Durability.FULL)
 *         .variant(CorruptionMatrix.Variant.KILLED)
 *         .build()
 *         .run();
 * System.out.println(report.table());
 * report.assertPassed();
 * }</pre>
 *
 * <p>By default a sample of the damage positions runs (a few per file, fit for CI); the system
 * property {@value #FULL_PROPERTY}{@code =full} (or {@link Builder#full}) runs every position. The
 * provider of the backend must be on the class path. Not thread-safe; one run per work directory.
 */
public final class CorruptionMatrix {
  /** System property: {@code full} runs the full matrix instead of the sample. */
  public static final String FULL_PROPERTY = "corruptionMatrix";

  /** How the data directory is left before it is damaged. */
  public enum Variant {
    /** The workload ran in this JVM and the backend was closed cleanly. */
    CLEAN_CLOSE,
    /** The workload ran in a child JVM that was killed with SIGKILL while writing. */
    KILLED
  }

  /** Why deleting the whole data directory is reported as {@link Outcome#DOCUMENTED}. */
  public static final String DELETED_DIRECTORY_REASON =
      "a data directory deleted while no backend has it open is indistinguishable from a first"
          + " start: the backend creates a new, empty one (see docs/durability.md, 'Deleted data"
          + " directory')";

  private static final String BACKEND = "matrix";

  private record Limitation(Predicate<Damage> matches, String reason) {}

  private final Builder b;

  private CorruptionMatrix(Builder b) {
    this.b = b;
  }

  /**
   * @param backendConfig HOCON body of the backend entry, e.g. {@code "type = sqlite"}; {@code
   *     data-dir} and {@code durability} are set by the matrix
   * @param workDir an empty directory for the data, its copies and the model
   */
  public static Builder builder(String backendConfig, Path workDir) {
    return new Builder(backendConfig, workDir);
  }

  /** Whether {@value #FULL_PROPERTY}{@code =full} asks for the full matrix. */
  public static boolean fullByDefault() {
    return "full".equalsIgnoreCase(System.getProperty(FULL_PROPERTY, ""));
  }

  /** Options of a matrix run. */
  public static final class Builder {
    private final String backendConfig;
    private final Path workDir;
    private Durability durability = Durability.NORMAL;
    private Variant variant = Variant.CLEAN_CLOSE;
    private long seed = 20261205L;
    private boolean full = fullByDefault();
    private DamagePoint.Finder points = DamagePoint.Finder.NONE;
    private final List<Limitation> limitations = new ArrayList<>();
    private boolean defaultLimitations = true;
    private UnaryOperator<StorageBackend> filter = UnaryOperator.identity();
    private Duration caseTimeout = Duration.ofSeconds(120);
    private Duration tail = Duration.ofMillis(300);

    private Builder(String backendConfig, Path workDir) {
      this.backendConfig = Objects.requireNonNull(backendConfig, "backendConfig");
      this.workDir = workDir.toAbsolutePath();
    }

    /** Durability the backend runs with (default {@code normal}). */
    public Builder durability(Durability durability) {
      this.durability = Objects.requireNonNull(durability, "durability");
      return this;
    }

    /** How the directory is left before the damage (default {@link Variant#CLEAN_CLOSE}). */
    public Builder variant(Variant variant) {
      this.variant = Objects.requireNonNull(variant, "variant");
      return this;
    }

    /** Seed of the workload; printed in the report. */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** Every damage position instead of the CI sample (default: {@link #fullByDefault()}). */
    public Builder full(boolean full) {
      this.full = full;
      return this;
    }

    /** Engine-specific damage points, e.g. WAL frame boundaries (default none). */
    public Builder points(DamagePoint.Finder finder) {
      this.points = Objects.requireNonNull(finder, "finder");
      return this;
    }

    /**
     * Declares damage the backend documents as undetectable, with the reason: a case it matches
     * that would be {@link Outcome#FAILED} is reported as {@link Outcome#DOCUMENTED} with {@code
     * reason}. Use sparingly; each one must be in the backend's documentation.
     */
    public Builder documented(Predicate<Damage> matches, String reason) {
      limitations.add(
          new Limitation(Objects.requireNonNull(matches), Objects.requireNonNull(reason)));
      return this;
    }

    /**
     * Drops the built-in limitation (a deleted data directory, {@link #DELETED_DIRECTORY_REASON}):
     * for negative controls, which must then see that case fail.
     */
    public Builder withoutDefaultLimitations() {
      this.defaultLimitations = false;
      return this;
    }

    /**
     * Wraps the backend opened on each damaged copy before it is read. Meant for negative controls:
     * a wrapper that lies (returns a wrong value, hides an error) must make the matrix fail.
     */
    public Builder backendFilter(UnaryOperator<StorageBackend> filter) {
      this.filter = Objects.requireNonNull(filter, "filter");
      return this;
    }

    /** How long one case (open, read everything, verify, close) may take (default 120 s). */
    public Builder caseTimeout(Duration timeout) {
      this.caseTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /** Kill variant: how long the child writes its tail before the kill (default 300 ms). */
    public Builder tail(Duration tail) {
      this.tail = Objects.requireNonNull(tail, "tail");
      return this;
    }

    public CorruptionMatrix build() {
      if (variant == Variant.KILLED && durability == Durability.NONE) {
        throw new IllegalArgumentException(
            "the kill variant needs durability normal or full: at none a kill may lose acknowledged"
                + " writes by contract");
      }
      return new CorruptionMatrix(this);
    }
  }

  private String title() {
    return "Corruption matrix of {"
        + b.backendConfig
        + "} durability="
        + b.durability.configName()
        + " variant="
        + b.variant.name().toLowerCase(java.util.Locale.ROOT)
        + (b.full ? " full" : " sampled")
        + " seed="
        + b.seed;
  }

  /**
   * Prepares the data directory, runs the control and every case, and returns the report; never
   * throws for a failed case (see {@link MatrixReport#assertPassed()}).
   *
   * @throws IOException if the work directory cannot be written
   * @throws IllegalStateException if the workload cannot run on the undamaged backend
   */
  public MatrixReport run() throws IOException {
    long start = System.nanoTime();
    Files.createDirectories(b.workDir);
    Path source = b.workDir.resolve("source");
    Damage.deleteTree(source);
    MatrixModel model = prepare(source);
    List<MatrixReport.Row> rows = new ArrayList<>();
    ExecutorService[] exec = {newExecutor()};
    try {
      Path copy = b.workDir.resolve("case");
      Outcomes control = runCase(source, copy, Damage.none(), model, -1, exec);
      rows.add(control.row());
      long baselineTail = control.tail;
      if (control.row().outcome() == Outcome.INTACT) {
        for (Damage d : cases(source, model)) {
          rows.add(runCase(source, copy, d, model, baselineTail, exec).row());
        }
      }
    } finally {
      exec[0].shutdownNow();
    }
    return new MatrixReport(title(), rows, (System.nanoTime() - start) / 1_000_000);
  }

  private static ExecutorService newExecutor() {
    return Executors.newSingleThreadExecutor(
        r -> {
          Thread t = new Thread(r, "corruption-matrix-case");
          t.setDaemon(true);
          return t;
        });
  }

  private MatrixModel prepare(Path source) throws IOException {
    String hocon = CrashHarness.registryConfig(BACKEND, b.backendConfig, source, b.durability);
    if (b.variant == Variant.CLEAN_CLOSE) {
      try (PersistenceRegistry registry =
          PersistenceRegistry.open(ConfigFactory.parseString(hocon))) {
        return MatrixWorkload.run(registry.backend(BACKEND), b.seed);
      }
    }
    Path config = b.workDir.resolve("matrix.conf");
    Path modelFile = b.workDir.resolve("model.txt");
    Path acks = b.workDir.resolve("tail-acks.txt");
    Files.writeString(config, hocon, StandardCharsets.UTF_8);
    Files.deleteIfExists(modelFile);
    Files.deleteIfExists(acks);
    try (ChildJvm child =
        ChildJvm.start(
            MatrixWorkload.class,
            "config=" + config,
            "backend=" + BACKEND,
            "seed=" + b.seed,
            "model=" + modelFile,
            "acks=" + acks)) {
      String line =
          child.awaitLine(
              l -> l.equals("WRITTEN") || l.startsWith("ERROR"), Duration.ofSeconds(300));
      if (!line.equals("WRITTEN")) {
        throw new IllegalStateException(
            "the workload failed on the undamaged backend: " + String.join("\n", child.output()));
      }
      sleep(b.tail.toMillis());
      child.killHard();
      if (child.output().stream().anyMatch(l -> l.startsWith("ERROR"))) {
        throw new IllegalStateException(
            "the tail writer failed before the kill: " + String.join("\n", child.output()));
      }
    }
    MatrixModel model = MatrixModel.read(modelFile);
    model.tailAcked = lastAck(acks);
    return model;
  }

  /** The last complete line of the acks file (a line cut by the kill is ignored), or 0. */
  private static long lastAck(Path acks) throws IOException {
    if (!Files.exists(acks)) {
      return 0;
    }
    String text = Files.readString(acks, StandardCharsets.UTF_8);
    int end = text.lastIndexOf('\n');
    if (end < 0) {
      return 0;
    }
    int start = text.lastIndexOf('\n', end - 1) + 1;
    return Long.parseLong(text.substring(start, end));
  }

  /** The cases for every file of {@code source}, then the whole directory. */
  List<Damage> cases(Path source, MatrixModel model) throws IOException {
    Map<String, Damage> out = new LinkedHashMap<>();
    List<Path> files;
    try (Stream<Path> walk = Files.walk(source)) {
      files = walk.filter(Files::isRegularFile).sorted().toList();
    }
    Locator locator = new Locator(model, b.seed);
    for (Path f : files) {
      String rel = source.relativize(f).toString().replace(f.getFileSystem().getSeparator(), "/");
      byte[] content = Files.readAllBytes(f);
      long size = content.length;
      List<Damage> mine = new ArrayList<>();
      mine.add(new Damage(rel, Damage.Kind.DELETE_FILE, -1, ""));
      if (size > 0) {
        mine.add(new Damage(rel, Damage.Kind.TRUNCATE_ZERO, -1, ""));
      }
      if (size > 1) {
        mine.add(new Damage(rel, Damage.Kind.TRUNCATE_HALF, -1, ""));
      }
      if (size > 0) {
        mine.add(new Damage(rel, Damage.Kind.FLIP_BYTE, 0, "start"));
        mine.add(new Damage(rel, Damage.Kind.FLIP_BYTE, size / 2, "middle"));
        mine.add(new Damage(rel, Damage.Kind.FLIP_BYTE, size - 1, "end"));
        for (DamagePoint p : locator.locate(content)) {
          mine.add(new Damage(rel, Damage.Kind.FLIP_BIT, p.offset(), p.region()));
        }
        List<DamagePoint> engine =
            b.points.points(rel, content).stream()
                .filter(p -> p.offset() >= 0 && p.offset() < size)
                .toList();
        List<DamagePoint> picked = b.full ? engine : spread(engine, 4);
        for (DamagePoint p : picked) {
          mine.add(new Damage(rel, Damage.Kind.FLIP_BIT, p.offset(), p.region()));
          if (b.full) {
            mine.add(new Damage(rel, Damage.Kind.FLIP_BYTE, p.offset(), p.region()));
          }
        }
        if (b.full) {
          for (int i = 1; i < 16; i++) {
            long at = size * i / 16;
            mine.add(new Damage(rel, Damage.Kind.FLIP_BYTE, at, "position " + i + "/16"));
          }
        }
      }
      for (Damage d : mine) {
        out.putIfAbsent(d.file() + "|" + d.kind() + "|" + d.offset(), d);
      }
    }
    out.put("/", new Damage("/", Damage.Kind.DELETE_DIR, -1, ""));
    return List.copyOf(out.values());
  }

  /** Up to {@code n} elements of {@code all}, spread evenly, first and last included. */
  static <T> List<T> spread(List<T> all, int n) {
    if (all.size() <= n) {
      return all;
    }
    List<T> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      T t = all.get((int) ((long) i * (all.size() - 1) / (n - 1)));
      if (!out.contains(t)) {
        out.add(t);
      }
    }
    return out;
  }

  /** What a case found: its row and, for the kill variant, the surviving tail length. */
  private record Outcomes(MatrixReport.Row row, long tail) {}

  private Outcomes runCase(
      Path source,
      Path copy,
      Damage damage,
      MatrixModel model,
      long baselineTail,
      ExecutorService[] exec)
      throws IOException {
    Damage.deleteTree(copy);
    copyTree(source, copy);
    damage.apply(copy);
    MatrixCheck check = new MatrixCheck(model);
    Future<?> f =
        exec[0].submit(
            () -> {
              observe(copy, check);
              return null;
            });
    MatrixReport.Row row;
    try {
      f.get(b.caseTimeout.toMillis(), TimeUnit.MILLISECONDS);
      row = classify(damage, check, baselineTail);
    } catch (TimeoutException e) {
      f.cancel(true);
      exec[0].shutdownNow();
      exec[0] = newExecutor(); // the stuck thread is abandoned
      row =
          new MatrixReport.Row(
              damage, Outcome.FAILED, "no answer within " + b.caseTimeout + " (hang)");
    } catch (ExecutionException e) {
      row =
          new MatrixReport.Row(damage, Outcome.FAILED, "the matrix itself failed: " + e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
    try {
      Damage.deleteTree(copy);
    } catch (IOException e) {
      // a hung case may still hold files; the next case starts from a fresh copy elsewhere
      Path aside = copy.resolveSibling("case-abandoned-" + System.nanoTime());
      Files.move(copy, aside);
    }
    return new Outcomes(row, check.tail);
  }

  private void observe(Path dataDir, MatrixCheck check) {
    String hocon = CrashHarness.registryConfig(BACKEND, b.backendConfig, dataDir, b.durability);
    PersistenceRegistry registry;
    try {
      registry = PersistenceRegistry.open(ConfigFactory.parseString(hocon));
    } catch (Throwable e) {
      check.failure("open", e);
      return;
    }
    try {
      check.checkAll(b.filter.apply(registry.backend(BACKEND)));
    } catch (Throwable e) {
      check.failure("reading", e);
    } finally {
      try {
        registry.close();
      } catch (Throwable e) {
        check.failure("close", e);
      }
    }
  }

  /**
   * Runs the workload on {@code backend} and reads it back at once, without files or a reopen: for
   * backends without a data directory (the matrix proper needs one), and to show that the workload
   * and the check agree on a working backend. The one row is {@link Outcome#INTACT} when the
   * backend returns exactly what was written.
   *
   * @throws IllegalStateException if the workload cannot run on {@code backend}
   */
  public static MatrixReport live(StorageBackend backend, long seed) {
    long start = System.nanoTime();
    MatrixModel model = MatrixWorkload.run(backend, seed);
    MatrixCheck check = new MatrixCheck(model);
    check.checkAll(backend);
    MatrixReport.Row row = classify(Damage.none(), check, -1, List.of());
    return new MatrixReport(
        "Live workload check of "
            + backend.type()
            + " backend '"
            + backend.name()
            + "' seed="
            + seed,
        List.of(row),
        (System.nanoTime() - start) / 1_000_000);
  }

  private MatrixReport.Row classify(Damage damage, MatrixCheck c, long baselineTail) {
    List<Limitation> all = new ArrayList<>(b.limitations);
    if (b.defaultLimitations) {
      all.add(new Limitation(d -> d.kind() == Damage.Kind.DELETE_DIR, DELETED_DIRECTORY_REASON));
    }
    return classify(damage, c, baselineTail, all);
  }

  private static MatrixReport.Row classify(
      Damage damage, MatrixCheck c, long baselineTail, List<Limitation> limitations) {
    Outcome outcome;
    String message;
    if (!c.wrong.isEmpty()) {
      outcome = Outcome.FAILED;
      message = "wrong data: " + first(c.wrong);
    } else if (!c.untyped.isEmpty()) {
      outcome = Outcome.FAILED;
      message = "untyped error: " + first(c.untyped);
    } else if (!c.errors.isEmpty()) {
      outcome = Outcome.DETECTED;
      message = first(c.errors);
    } else if (!c.verifyProblems.isEmpty()) {
      outcome = Outcome.DETECTED;
      message = "verify: " + first(c.verifyProblems);
    } else if (!c.missing.isEmpty()) {
      outcome = Outcome.FAILED;
      message = "silent loss (no error, verify healthy): " + first(c.missing);
    } else if (baselineTail >= 0 && c.tail > baselineTail) {
      outcome = Outcome.FAILED;
      message =
          "wrong data: the tail has " + c.tail + " writes, the undamaged copy " + baselineTail;
    } else if (baselineTail >= 0 && c.tail < baselineTail) {
      outcome = Outcome.RECOVERED;
      message =
          "acknowledged data intact; in-flight tail cut to "
              + c.tail
              + " of "
              + baselineTail
              + " writes, in order";
    } else {
      outcome = Outcome.INTACT;
      message = "";
    }
    if (outcome == Outcome.FAILED) {
      for (Limitation l : limitations) {
        if (l.matches().test(damage)) {
          return new MatrixReport.Row(
              damage, Outcome.DOCUMENTED, l.reason() + "; observed: " + message);
        }
      }
    }
    if (damage.kind() == Damage.Kind.NONE && outcome != Outcome.INTACT) {
      message = "the undamaged copy is not intact: " + message;
    }
    return new MatrixReport.Row(damage, outcome, message);
  }

  private static String first(List<String> l) {
    return l.get(0) + (l.size() > 1 ? " (+" + (l.size() - 1) + " more)" : "");
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> walk = Files.walk(from)) {
      for (Path p : (Iterable<Path>) walk::iterator) {
        Path t = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t, StandardCopyOption.COPY_ATTRIBUTES);
        }
      }
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** Finds the model's keys, values, log payloads and snapshot bytes inside a file. */
  private static final class Locator {
    private final List<byte[]> keys = new ArrayList<>();
    private final List<byte[]> values = new ArrayList<>();
    private final List<byte[]> payloads = new ArrayList<>();
    private final List<byte[]> snapshot = new ArrayList<>();
    private final List<byte[]> tail = new ArrayList<>();

    Locator(MatrixModel model, long seed) {
      pick(model.sampleKeys(), keys);
      pick(model.sampleValues(), values);
      pick(model.samplePayloads(), payloads);
      model.snapshots.values().stream()
          .flatMap(m -> m.entrySet().stream())
          .max(Map.Entry.comparingByValue((x, y) -> Long.compare(x.size(), y.size())))
          .ifPresent(
              e -> {
                byte[] data =
                    MatrixWorkload.snapshotData(seed, e.getKey(), (int) e.getValue().size());
                int mid = data.length / 2;
                snapshot.add(java.util.Arrays.copyOfRange(data, mid, mid + 32));
              });
      if (model.tailNamespace != null) {
        tail.add(MatrixWorkload.b(MatrixWorkload.tailKey(1)));
      }
    }

    private static void pick(List<String> all, List<byte[]> out) {
      for (int i = 0; i < 5 && !all.isEmpty(); i++) {
        out.add(MatrixWorkload.b(all.get((int) ((long) i * (all.size() - 1) / 4))));
      }
    }

    List<DamagePoint> locate(byte[] content) {
      List<DamagePoint> out = new ArrayList<>();
      find(content, keys, "key", true).ifPresent(out::add);
      find(content, values, "value", false).ifPresent(out::add);
      find(content, payloads, "log record", false).ifPresent(out::add);
      find(content, snapshot, "snapshot data", false).ifPresent(out::add);
      find(content, tail, "tail key", true).ifPresent(out::add);
      return out;
    }

    /** The first needle found: its last byte (a key's last digit) or its middle. */
    private static java.util.Optional<DamagePoint> find(
        byte[] content, List<byte[]> needles, String region, boolean last) {
      for (byte[] n : needles) {
        int at = io.cairn.tck.RawFiles.indexOf(content, n);
        if (at >= 0) {
          return java.util.Optional.of(
              new DamagePoint(region, at + (last ? n.length - 1 : n.length / 2)));
        }
      }
      return java.util.Optional.empty();
    }
  }
}
