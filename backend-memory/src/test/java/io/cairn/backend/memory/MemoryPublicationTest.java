package io.cairn.backend.memory;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.Durability;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.spi.StorageEngine;
import io.cairn.persistence.spi.StorageEngine.Record;
import io.cairn.persistence.spi.StorageEngine.Write;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/**
 * The memory engine's publication and pruning rules (its class comment), under real concurrency:
 * batches of two writers at once are seen whole and a reader never goes back to an older one; a
 * read that overlaps many batches (long enough for old versions and tombstones to be cleaned
 * meanwhile) still sees one state; a snapshot keeps its state while the cleaner runs.
 */
class MemoryPublicationTest {
  private static final StoreId STORE = new StoreId(StoreKind.KEY_VALUE, "pub");
  private static final long TIMEOUT_SECONDS = 120;

  private final MemoryEngine engine = new MemoryEngine();

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String s(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  /** Writer {@code w}'s batch {@code g}: x = g, y = g, delete index/(g-1), put index/g. */
  private static List<Write> batch(String w, int g) {
    return List.of(
        new Write(STORE, b(w + "/x"), b(Integer.toString(g))),
        new Write(STORE, b(w + "/index/" + (g - 1)), null),
        new Write(STORE, b(w + "/y"), b(Integer.toString(g))),
        new Write(STORE, b(w + "/index/" + g), b("")));
  }

  /** Writer {@code w} writes its batches 1 to {@code batches} ({@link #batch}). */
  private IntFunction<Runnable> batchWriters(int batches) {
    return w ->
        () -> {
          for (int g = 1; g <= batches; g++) {
            engine.write(batch("w" + w, g), Durability.NONE);
          }
        };
  }

  /** Runs {@code writers} writers of {@code batches} batches each beside {@code reader}. */
  private static List<String> runBeside(
      int writers,
      IntFunction<Runnable> writer,
      java.util.function.Function<AtomicBoolean, List<String>> reader)
      throws Exception {
    AtomicBoolean done = new AtomicBoolean();
    CompletableFuture<List<String>> read = CompletableFuture.supplyAsync(() -> reader.apply(done));
    List<CompletableFuture<Void>> writing = new ArrayList<>();
    for (int w = 0; w < writers; w++) {
      writing.add(CompletableFuture.runAsync(writer.apply(w)));
    }
    try {
      for (CompletableFuture<Void> f : writing) {
        f.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      }
    } finally {
      done.set(true);
    }
    return read.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  /**
   * Two writers install batches at once (the later sequence number may finish installing first);
   * each range sees every writer's last batch whole, and never an older batch than a previous range
   * saw (publication in sequence order, never backwards).
   */
  @Test
  void batchesOfConcurrentWritersAreSeenWholeAndNeverGoBack() throws Exception {
    int batches = 100_000;
    List<String> bad =
        runBeside(
            2,
            batchWriters(batches),
            done -> {
              List<String> problems = new ArrayList<>();
              int[] last = new int[2];
              while (!done.get() && problems.size() < 10) {
                Map<String, List<String>> seen = new TreeMap<>();
                for (Record r : engine.range(STORE, new byte[0], null, Integer.MAX_VALUE)) {
                  String k = s(r.key());
                  seen.computeIfAbsent(k.substring(0, 2), x -> new ArrayList<>())
                      .add(k.substring(3) + (r.value().length == 0 ? "" : "=" + s(r.value())));
                }
                for (int w = 0; w < 2; w++) {
                  List<String> mine = seen.getOrDefault("w" + w, List.of());
                  if (mine.isEmpty()) {
                    if (last[w] != 0) {
                      problems.add("writer " + w + " vanished after batch " + last[w]);
                    }
                    continue;
                  }
                  String g = mine.get(mine.size() - 2).substring("x=".length());
                  if (!mine.equals(List.of("index/" + g, "x=" + g, "y=" + g))) {
                    problems.add("writer " + w + " torn: " + mine);
                  } else if (Integer.parseInt(g) < last[w]) {
                    problems.add("writer " + w + " went back from " + last[w] + " to " + g);
                  } else {
                    last[w] = Integer.parseInt(g);
                  }
                }
              }
              return problems;
            });
    assertThat(bad).as("ranges that saw part of a batch, or an older batch").isEmpty();
    for (int w = 0; w < 2; w++) {
      assertThat(s(engine.get(STORE, b("w" + w + "/x")))).isEqualTo(Integer.toString(batches));
    }
  }

  /** Keys {@code k0000..k(2n-1)}; batch g deletes k(g mod 2n) and puts k((g + n) mod 2n). */
  private static List<Write> slide(int n, int g) {
    return List.of(
        new Write(STORE, key(g % (2 * n)), null), new Write(STORE, key((g + n) % (2 * n)), b("v")));
  }

  private static byte[] key(int i) {
    return b(String.format("k%05d", i));
  }

  /**
   * A range over a few thousand keys overlaps far more than {@link MemoryEngine#LAG} one-key-moving
   * batches, so the cleaner cuts versions and removes tombstones it may have needed while it runs:
   * it must still return exactly the window of one batch (it reads again, or pins).
   */
  @Test
  void aRangeOverlappingManyBatchesStillSeesOneState() throws Exception {
    int n = 3000;
    List<Write> initial = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      initial.add(new Write(STORE, key(i), b("v")));
    }
    engine.write(initial, Durability.NONE);
    int batches = 400_000;
    List<String> bad =
        runBeside(
            1,
            w ->
                () -> {
                  for (int g = 0; g < batches; g++) {
                    engine.write(slide(n, g), Durability.NONE);
                  }
                },
            done -> {
              List<String> problems = new ArrayList<>();
              int ranges = 0;
              while ((!done.get() || ranges == 0) && problems.size() < 10) {
                List<Record> all = engine.range(STORE, new byte[0], null, Integer.MAX_VALUE);
                ranges++;
                if (all.size() != n) {
                  problems.add("range saw " + all.size() + " keys, not " + n);
                  continue;
                }
                // one state: the live keys are n consecutive ones modulo 2n
                int gaps = 0;
                for (int i = 0; i < n; i++) {
                  int here = Integer.parseInt(s(all.get(i).key()).substring(1));
                  int nextKey = Integer.parseInt(s(all.get((i + 1) % n).key()).substring(1));
                  if (nextKey != (here + 1) % (2 * n)) {
                    gaps++;
                  }
                }
                if (gaps > 1) {
                  problems.add("range saw " + gaps + " gaps: not one window");
                }
              }
              return problems;
            });
    assertThat(bad).as("ranges that mixed states").isEmpty();
  }

  /**
   * A snapshot taken while two writers run keeps what it saw, whole, while many times {@link
   * MemoryEngine#LAG} batches are published and cleaned after it; closing it lets the cleaner catch
   * up (later reads still see the latest state).
   */
  @Test
  void aSnapshotKeepsItsStateWhileTheCleanerRuns() throws Exception {
    int batches = 50_000;
    AtomicBoolean snapshotTaken = new AtomicBoolean();
    List<String> bad =
        runBeside(
            2,
            batchWriters(batches),
            done -> {
              List<String> problems = new ArrayList<>();
              while (!done.get() && problems.size() < 10) {
                try (StorageEngine.Snapshot snap = engine.snapshot()) {
                  List<String> first = describe(snap);
                  for (int i = 0; i < 200 && !done.get(); i++) {
                    Thread.onSpinWait();
                  }
                  snapshotTaken.set(true);
                  for (int i = 0; i < 20 && !done.get(); i++) {
                    List<String> again = describe(snap);
                    if (!again.equals(first)) {
                      problems.add("snapshot changed from " + first + " to " + again);
                      break;
                    }
                    for (int w = 0; w < 2; w++) {
                      byte[] x = snap.get(STORE, b("w" + w + "/x"));
                      byte[] y = snap.get(STORE, b("w" + w + "/y"));
                      String xs = x == null ? null : s(x);
                      if (xs == null ? y != null : !xs.equals(y == null ? null : s(y))) {
                        problems.add("snapshot get torn for writer " + w);
                      }
                    }
                  }
                }
              }
              return problems;
            });
    assertThat(snapshotTaken).isTrue();
    assertThat(bad).as("snapshots that changed or tore").isEmpty();
    for (int w = 0; w < 2; w++) {
      assertThat(s(engine.get(STORE, b("w" + w + "/x")))).isEqualTo(Integer.toString(batches));
    }
  }

  /**
   * The pinned read (taken when the cleaner overtook a plain read three times) gives the same
   * answers as a plain one and gives its pin back: an engine whose every read pins, beside a
   * writer, sees each batch whole and never goes back, and afterwards reads the last state.
   */
  @Test
  void readsThatPinSeeBatchesWholeAndGiveThePinBack() throws Exception {
    MemoryEngine pinning = new MemoryEngine(true, 0);
    int batches = 2_000;
    CompletableFuture<Void> writer =
        CompletableFuture.runAsync(
            () -> {
              for (int g = 1; g <= batches; g++) {
                pinning.write(batch("w0", g), Durability.NONE);
              }
            });
    List<String> problems = new ArrayList<>();
    while (!writer.isDone() && problems.size() < 10) {
      byte[] x = pinning.get(STORE, b("w0/x"));
      Map<String, String> seen = new TreeMap<>();
      for (Record r : pinning.range(STORE, new byte[0], null, Integer.MAX_VALUE)) {
        seen.put(s(r.key()), s(r.value()));
      }
      String gx = seen.get("w0/x");
      if (gx != null
          && (!gx.equals(seen.get("w0/y"))
              || !seen.containsKey("w0/index/" + gx)
              || seen.size() != 3)) {
        problems.add(seen.toString());
      }
      if (x != null && gx != null && Integer.parseInt(s(x)) > Integer.parseInt(gx)) {
        problems.add("range went back: get saw " + s(x) + ", range then " + gx);
      }
    }
    writer.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    assertThat(problems).as("pinned reads that saw part of a batch or went back").isEmpty();
    try (StorageEngine.Snapshot snap = pinning.snapshot()) {
      assertThat(s(snap.get(STORE, b("w0/x")))).isEqualTo(Integer.toString(batches));
    }
    assertThat(s(pinning.get(STORE, b("w0/y")))).isEqualTo(Integer.toString(batches));
    assertThat(pinning.pinsHeld()).as("pins still held after every read returned").isZero();
  }

  /**
   * A batch that fails after installing its records (an overwrite, a new key and a delete) leaves
   * nothing behind, and its sequence number is still published: a later write neither waits for it
   * forever nor is hidden behind it.
   */
  @Test
  void aBatchThatFailsMidwayLeavesNothingAndLaterWritesGoOn() throws Exception {
    engine.write(
        List.of(new Write(STORE, b("a"), b("1")), new Write(STORE, b("b"), b("1"))),
        Durability.NONE);
    engine.writeStepHook =
        step -> {
          if (step.startsWith("after write 3 of 3")) {
            throw new IllegalStateException("injected failure at " + step);
          }
        };
    List<Write> failing =
        List.of(
            new Write(STORE, b("a"), b("2")),
            new Write(STORE, b("c"), b("2")),
            new Write(STORE, b("b"), null));
    try {
      engine.write(failing, Durability.NONE);
      throw new AssertionError("the injected failure did not reach the caller");
    } catch (IllegalStateException expected) {
      assertThat(expected).hasMessageContaining("injected failure");
    } finally {
      engine.writeStepHook = null;
    }
    assertThat(s(engine.get(STORE, b("a")))).isEqualTo("1");
    assertThat(s(engine.get(STORE, b("b")))).isEqualTo("1");
    assertThat(engine.get(STORE, b("c"))).isNull();

    CompletableFuture.runAsync(
            () -> engine.write(List.of(new Write(STORE, b("d"), b("3"))), Durability.NONE))
        .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    List<String> seen = new ArrayList<>();
    for (Record r : engine.range(STORE, new byte[0], null, Integer.MAX_VALUE)) {
      seen.add(s(r.key()) + "=" + s(r.value()));
    }
    assertThat(seen).containsExactly("a=1", "b=1", "d=3");
    try (StorageEngine.Snapshot snap = engine.snapshot()) {
      assertThat(snap.get(STORE, b("c"))).isNull();
      assertThat(s(snap.get(STORE, b("d")))).isEqualTo("3");
    }
  }

  private static List<String> describe(StorageEngine.Snapshot snap) {
    List<String> out = new ArrayList<>();
    for (Record r : snap.range(STORE, new byte[0], null, Integer.MAX_VALUE)) {
      out.add(s(r.key()) + "=" + s(r.value()));
    }
    return out;
  }
}
