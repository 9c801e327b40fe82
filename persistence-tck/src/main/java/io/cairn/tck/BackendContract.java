package io.cairn.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.codahale.metrics.health.HealthCheck;
import io.cairn.persistence.BackendClosedException;
import io.cairn.persistence.BackendLockedException;
import io.cairn.persistence.BackendStats;
import io.cairn.persistence.Capability;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.StoreStats;
import io.cairn.persistence.VerifyReport;
import io.cairn.persistence.VersionConflictException;
import io.cairn.tck.crash.BackendHolder;
import io.cairn.tck.crash.ChildJvm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SortedSet;
import org.junit.jupiter.api.Test;

/**
 * Contract of the backend as a whole: identity, {@code stores()}, {@code stats()}, {@code verify()}
 * on healthy data, {@code compact()} keeping data, idempotent close and {@link
 * BackendClosedException} afterwards, the registry's per-operation timers and health check, and
 * online checkpoints for backends with {@link Capability#CHECKPOINT}.
 */
public abstract class BackendContract extends ContractSupport {

  @Test
  public void identityComesFromConfiguration() {
    StorageBackend b = backend();
    assertThat(b.name()).isEqualTo(BACKEND);
    assertThat(b.type()).isNotBlank().isEqualTo(b.type().toLowerCase(java.util.Locale.ROOT));
    assertThat(b.durability()).isNotNull();
    assertThat(b.capabilities()).isNotNull();
    assertThat(PersistenceRegistry.knownTypes()).contains(b.type());
  }

  @Test
  public void storesListsWhatWasCreatedInOrder() {
    backend().keyValue("tck-s-kv").put(bytes("k"), bytes("v"));
    backend().log("tck-s-log").append(bytes("x"));
    backend().snapshots("tck-s-snap").save(1, bytes("s"));
    backend().keyValue("tck-a-kv").put(bytes("k"), bytes("v"));
    SortedSet<StoreId> stores = backend().stores();
    assertThat(stores)
        .contains(
            new StoreId(StoreKind.KEY_VALUE, "tck-s-kv"),
            new StoreId(StoreKind.KEY_VALUE, "tck-a-kv"),
            new StoreId(StoreKind.LOG, "tck-s-log"),
            new StoreId(StoreKind.SNAPSHOT, "tck-s-snap"));
    List<StoreId> listed = new ArrayList<>(stores);
    List<StoreId> sorted = new ArrayList<>(stores);
    sorted.sort(null);
    assertThat(listed).isEqualTo(sorted);
  }

  @Test
  public void statsDescribeTheStores() {
    var kv = backend().keyValue("tck-stats");
    for (int i = 0; i < 3; i++) {
      kv.put(bytes("k" + i), bytes("value " + i));
    }
    var log = backend().log("tck-stats");
    for (int i = 0; i < 5; i++) {
      log.append(bytes("r" + i));
    }
    backend().snapshots("tck-stats").save(1, bytes("snapshot"));
    BackendStats stats = backend().stats();
    assertThat(stats.backend()).isEqualTo(BACKEND);
    assertThat(stats.type()).isEqualTo(backend().type());
    assertThat(entriesOf(stats, StoreKind.KEY_VALUE, "tck-stats")).isIn(3L, -1L);
    assertThat(entriesOf(stats, StoreKind.LOG, "tck-stats")).isIn(5L, -1L);
    assertThat(entriesOf(stats, StoreKind.SNAPSHOT, "tck-stats")).isIn(1L, -1L);
    List<StoreId> ids = stats.stores().stream().map(StoreStats::store).toList();
    List<StoreId> sorted = new ArrayList<>(ids);
    sorted.sort(null);
    assertThat(ids).as("stats are sorted by store id").isEqualTo(sorted);
  }

  @Test
  public void verifyReportsFreshDataHealthy() {
    backend().keyValue("tck-verify").put(bytes("k"), bytes("v"));
    backend().log("tck-verify").append(bytes("x"));
    backend().snapshots("tck-verify").save(1, Fixtures.generatedStream(1, 300_000));
    List<String> phases = new ArrayList<>();
    VerifyReport report = backend().verify((phase, done, total) -> phases.add(phase));
    assertThat(report.backend()).isEqualTo(BACKEND);
    assertThat(report.problems()).isEmpty();
    assertThat(report.healthy()).isTrue();
    assertThat(report.checked()).isNotNegative();
  }

  @Test
  public void verifyOfAnEmptyBackendIsHealthy() {
    assertThat(backend().verify(Progress.NONE).healthy()).isTrue();
  }

  @Test
  public void compactKeepsLiveDataAndDropsNothingVisible() {
    var kv = backend().keyValue("tck-compact");
    for (int i = 0; i < 100; i++) {
      kv.put(bytes("k" + i), bytes("v" + i));
    }
    for (int i = 0; i < 50; i++) {
      kv.delete(bytes("k" + i));
    }
    kv.put(bytes("ttl"), bytes("x"), Duration.ofSeconds(1));
    var log = backend().log("tck-compact");
    for (int i = 0; i < 20; i++) {
      log.append(bytes("r" + i));
    }
    log.truncateBefore(10);
    backend().snapshots("tck-compact").save(3, bytes("snap"));
    clock().advance(Duration.ofSeconds(2));

    backend().compact(Progress.NONE);

    for (int i = 50; i < 100; i++) {
      assertThat(kv.get(bytes("k" + i))).isEqualTo(bytes("v" + i));
    }
    assertThat(kv.get(bytes("k0"))).isNull();
    assertThat(kv.get(bytes("ttl"))).isNull();
    assertThat(kv.approximateCount()).isEqualTo(50);
    assertThat(log.firstOffset()).isEqualTo(10);
    assertThat(log.nextOffset()).isEqualTo(20);
    assertThat(log.read(0, 100)).hasSize(10);
    assertThat(Fixtures.readAll(backend().snapshots("tck-compact").load(3)))
        .isEqualTo(bytes("snap"));
    assertThat(log.append(bytes("r20"))).isEqualTo(20);
    assertThat(backend().verify(Progress.NONE).healthy()).isTrue();
  }

  @Test
  public void closeIsIdempotentAndEverythingThrowsAfterwards() {
    StorageBackend b = backend();
    var kv = b.keyValue("tck-close");
    kv.put(bytes("k"), bytes("v"));
    b.close();
    b.close();
    assertThatThrownBy(() -> kv.get(bytes("k"))).isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> b.keyValue("tck-close")).isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> b.keyValue("tck-close-new"))
        .isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> b.log("tck-close-new")).isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> b.snapshots("tck-close-new"))
        .isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> b.inTransaction(tx -> null))
        .isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(b::stores).isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(b::stats).isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> b.verify(Progress.NONE)).isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> b.compact(Progress.NONE)).isInstanceOf(BackendClosedException.class);
  }

  @Test
  public void reopenGivesAWorkingBackend() {
    backend().keyValue("tck-reopen").put(bytes("k"), bytes("v"));
    StorageBackend again = reopen();
    assertThat(again.name()).isEqualTo(BACKEND);
    again.keyValue("tck-reopen").put(bytes("k2"), bytes("v2"));
    assertThat(again.keyValue("tck-reopen").get(bytes("k2"))).isEqualTo(bytes("v2"));
  }

  @Test
  public void registryTimesEveryOperation() {
    var kv = backend().keyValue("tck-metrics");
    kv.put(bytes("a"), bytes("1"));
    kv.put(bytes("b"), bytes("2"), Duration.ofMinutes(1));
    kv.get(bytes("a"));
    backend().log("tck-metrics").append(bytes("x"));
    backend().inTransaction(tx -> tx.keyValue("tck-metrics").put(bytes("c"), bytes("3")));
    backend().keyValue("tck-metrics-2").put(bytes("a"), bytes("1"));
    var timers = registry().metrics().getTimers();
    String p = "cairn.backends." + BACKEND;
    assertThat(timers.get(p + ".kv.put").getCount()).as("aggregated per kind").isEqualTo(3);
    assertThat(timers.get(p + ".kv.get").getCount()).isEqualTo(1);
    assertThat(timers.get(p + ".log.append").getCount()).isEqualTo(1);
    assertThat(timers.get(p + ".transaction").getCount()).isEqualTo(1);
    assertThat(timers.keySet()).noneMatch(n -> n.contains("tck-metrics"));
  }

  @Test
  public void perStoreMetricsWhenConfigured() {
    try (PersistenceRegistry r =
        openRegistryAt(directory().resolve("per-store"), "per-store-metrics = true")) {
      var kv = r.backend(BACKEND).keyValue("tck-metrics");
      kv.put(bytes("a"), bytes("1"));
      kv.get(bytes("a"));
      String p = "cairn.backends." + BACKEND + ".kv.tck-metrics";
      assertThat(r.metrics().getTimers().get(p + ".put").getCount()).isEqualTo(1);
      assertThat(r.metrics().getTimers().get(p + ".get").getCount()).isEqualTo(1);
      assertThat(r.metrics().getGauges()).containsKey(p + ".entries");
    }
  }

  @Test
  public void healthCheckIsRegisteredAndHealthy() {
    backend().keyValue("tck-health").put(bytes("k"), bytes("v"));
    assertThat(registry().healthChecks().getNames()).contains("cairn.backends." + BACKEND);
    HealthCheck.Result result =
        registry().healthChecks().runHealthCheck("cairn.backends." + BACKEND);
    assertThat(result.isHealthy()).as("health: %s", result.getMessage()).isTrue();
    assertThat(backend().health().isHealthy()).isTrue();
  }

  @Test
  public void checkpointIsRefusedWithoutTheCapability() {
    org.junit.jupiter.api.Assumptions.assumeFalse(
        capabilities().contains(Capability.CHECKPOINT), "backend declares CHECKPOINT");
    assertThatThrownBy(() -> backend().checkpoint(directory().resolve("cp"), Progress.NONE))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  public void checkpointCopiesAConsistentBackend() {
    assumeCapability(Capability.CHECKPOINT);
    backend().keyValue("tck-cp").put(bytes("k"), bytes("v"));
    backend().log("tck-cp").append(bytes("r0"));
    backend().snapshots("tck-cp").save(1, bytes("snap"));
    Path target = directory().resolve("checkpoint");
    backend().checkpoint(target, Progress.NONE);
    backend().keyValue("tck-cp").put(bytes("after"), bytes("not in the copy"));
    try (PersistenceRegistry copy = openRegistryAt(target)) {
      StorageBackend b = copy.backend(BACKEND);
      assertThat(b.keyValue("tck-cp").get(bytes("k"))).isEqualTo(bytes("v"));
      assertThat(b.keyValue("tck-cp").get(bytes("after"))).isNull();
      assertThat(b.log("tck-cp").nextOffset()).isEqualTo(1);
      assertThat(Fixtures.readAll(b.snapshots("tck-cp").load(1))).isEqualTo(bytes("snap"));
    }
  }

  private static long entriesOf(BackendStats stats, StoreKind kind, String name) {
    Optional<StoreStats> s =
        stats.stores().stream().filter(x -> x.store().equals(new StoreId(kind, name))).findFirst();
    assertThat(s).as("stats for %s:%s", kind.shortName(), name).isPresent();
    return s.get().entries();
  }

  // ---- stores() holds data ----

  @Test
  public void storesListsEveryStoreHoldingDataAlsoWhenWrittenInATransaction() {
    backend()
        .inTransaction(
            tx -> {
              tx.keyValue("tck-h-txkv").put(bytes("k"), bytes("v"));
              tx.log("tck-h-txlog").append(bytes("x"));
              return null;
            });
    backend().keyValue("tck-h-ttl").put(bytes("k"), bytes("v"), Duration.ofHours(1));
    backend().keyValue("tck-h-batch").putAll(List.of(new KeyValue(bytes("k"), bytes("v"))));
    backend().log("tck-h-all").appendAll(List.of(bytes("a"), bytes("b")));
    var truncated = backend().log("tck-h-truncated");
    truncated.append(bytes("gone"));
    truncated.truncateBefore(Long.MAX_VALUE);
    backend().snapshots("tck-h-snap").save(3, bytes("s"));
    assertThat(backend().stores())
        .as("every store holding data")
        .contains(
            new StoreId(StoreKind.KEY_VALUE, "tck-h-txkv"),
            new StoreId(StoreKind.LOG, "tck-h-txlog"),
            new StoreId(StoreKind.KEY_VALUE, "tck-h-ttl"),
            new StoreId(StoreKind.KEY_VALUE, "tck-h-batch"),
            new StoreId(StoreKind.LOG, "tck-h-all"),
            new StoreId(StoreKind.LOG, "tck-h-truncated"),
            new StoreId(StoreKind.SNAPSHOT, "tck-h-snap"));
  }

  // ---- exclusive open ----

  @Test
  public void aSecondOpenOfTheSameDirectoryInThisProcessIsLocked() {
    assumeExclusive();
    backend().keyValue("tck-lock").put(bytes("k"), bytes("v"));
    Throwable t = catchThrowable(() -> openRegistryAt(directory().resolve(BACKEND), "").close());
    assertThat(t)
        .as("a second open of %s while it is open", directory().resolve(BACKEND))
        .isInstanceOf(BackendLockedException.class);
    assertThat(t.getMessage()).isNotBlank();
    assertThat(backend().keyValue("tck-lock").get(bytes("k")))
        .as("the first backend still works after the refused open")
        .isEqualTo(bytes("v"));
    StorageBackend again = reopen();
    assertThat(again.keyValue("tck-lock").get(bytes("k"))).isEqualTo(bytes("v"));
  }

  @Test
  public void aSecondOpenOfTheSameDirectoryInAnotherProcessIsLocked() {
    assumeExclusive();
    backend().keyValue("tck-lock").put(bytes("k"), bytes("v"));
    Path config = writeConfigFile("second-open.conf", "");
    try (ChildJvm child = ChildJvm.start(BackendHolder.class, config.toString())) {
      String line =
          child.awaitLine(l -> l.startsWith("OPENED") || l.startsWith("FAILED"), CHILD_TIMEOUT);
      assertThat(line)
          .as("a child JVM opening the directory this process holds")
          .startsWith("FAILED " + BackendLockedException.class.getName());
    }
    assertThat(backend().keyValue("tck-lock").get(bytes("k"))).isEqualTo(bytes("v"));
  }

  private static final Duration CHILD_TIMEOUT = Duration.ofMinutes(2);

  /** The lock rule is for durable backends that are not meant for several processes. */
  private void assumeExclusive() {
    assumeCapability(Capability.DURABLE);
    org.junit.jupiter.api.Assumptions.assumeFalse(
        capabilities().contains(Capability.MULTI_PROCESS),
        "backend declares MULTI_PROCESS: several opens are allowed");
  }

  // ---- bad arguments: IllegalArgumentException with a message, before anything is written ----

  @Test
  public void nullStoreNamesAreIllegalArguments() {
    assertThatThrownBy(() -> backend().keyValue(null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("key-value namespace name null");
    assertThatThrownBy(() -> backend().log(null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("log name null");
    assertThatThrownBy(() -> backend().snapshots(null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("snapshot set name null");
    assertThatThrownBy(() -> backend().inTransaction(tx -> tx.keyValue(null)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("key-value namespace name null");
    assertThatThrownBy(() -> backend().inTransaction(tx -> tx.log(null)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("log name null");
  }

  @Test
  public void invalidStoreNamesHaveOneWordingPerKind() {
    assertThatThrownBy(() -> backend().keyValue("bad name"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Invalid key-value namespace name 'bad name'");
    assertThatThrownBy(() -> backend().inTransaction(tx -> tx.keyValue("bad name")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Invalid key-value namespace name 'bad name'");
    assertThatThrownBy(() -> backend().log("bad name"))
        .hasMessageStartingWith("Invalid log name 'bad name'");
    assertThatThrownBy(() -> backend().snapshots("bad name"))
        .hasMessageStartingWith("Invalid snapshot set name 'bad name'");
  }

  @Test
  public void aTtlTooLongToRepresentIsAnIllegalArgument() {
    var kv = backend().keyValue("tck-args");
    Duration huge = Duration.ofSeconds(Long.MAX_VALUE);
    assertThatThrownBy(() -> kv.put(bytes("k"), bytes("v"), huge))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("TTL");
    assertThatThrownBy(() -> kv.compareAndSet(bytes("k"), 0, bytes("v"), huge))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("TTL");
    assertThatThrownBy(
            () ->
                backend()
                    .inTransaction(tx -> tx.keyValue("tck-args").put(bytes("k"), bytes("v"), huge)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("TTL");
    assertThat(kv.get(bytes("k"))).as("nothing was written").isNull();
    kv.put(bytes("k"), bytes("v"), io.cairn.persistence.KeyValueStore.MAX_TTL);
    assertThat(kv.get(bytes("k"))).as("the largest TTL is accepted").isEqualTo(bytes("v"));
  }

  @Test
  public void negativeLogOffsetsAreIllegalArguments() {
    var log = backend().log("tck-args");
    log.append(bytes("a"));
    log.append(bytes("b"));
    assertThatThrownBy(() -> log.read(-1, 10))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("fromOffset")
        .hasMessageContaining("-1");
    assertThatThrownBy(() -> log.read(Long.MIN_VALUE, 10))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> log.truncateBefore(-5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("-5");
    assertThat(log.firstOffset()).as("nothing was truncated").isZero();
    assertThat(log.read(0, 10)).hasSize(2);
  }

  @Test
  public void nullsAreNamedInOneWording() {
    var kv = backend().keyValue("tck-args");
    var log = backend().log("tck-args");
    assertThatThrownBy(() -> kv.put(null, bytes("v")))
        .isInstanceOf(NullPointerException.class)
        .hasMessageStartingWith("key must not be null");
    assertThatThrownBy(() -> kv.put(bytes("k"), null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageStartingWith("value must not be null");
    assertThatThrownBy(() -> log.append(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageStartingWith("payload must not be null");
    assertThat(log.nextOffset()).isZero();
  }

  @Test
  public void aCompareAndSetConflictHasOneWordingNamingBackendNamespaceAndKey() {
    var kv = backend().keyValue("tck-cas");
    long v = kv.put(bytes("o-1"), bytes("x"));
    String where =
        "key 'o-1' (0x6f2d31) in key-value namespace 'tck-cas' of backend '" + BACKEND + "'";
    assertThatThrownBy(() -> kv.compareAndSet(bytes("o-1"), v + 100, bytes("y"), null))
        .isInstanceOf(VersionConflictException.class)
        .hasMessageStartingWith("Version conflict at " + where + ": expected version " + (v + 100));
    assertThatThrownBy(() -> kv.compareAndDelete(bytes("o-1"), v + 100))
        .isInstanceOf(VersionConflictException.class)
        .hasMessageStartingWith("Version conflict at " + where);
    assertThatThrownBy(
            () ->
                backend()
                    .inTransaction(
                        tx ->
                            tx.keyValue("tck-cas")
                                .compareAndSet(bytes("o-1"), 0, bytes("y"), null)))
        .isInstanceOf(VersionConflictException.class)
        .hasMessageStartingWith("Version conflict at " + where);
  }

  // ---- caps on one transaction, putAll, appendAll ----

  @Test
  public void batchesOverTheCapsAreRefusedNamingTheCapAndWriteNothing() {
    try (PersistenceRegistry r =
        openRegistryAt(
            directory().resolve("caps"), "max-batch-entries = 10\nmax-batch-bytes = 1000B")) {
      StorageBackend b = r.backend(BACKEND);
      var kv = b.keyValue("tck-caps");
      var log = b.log("tck-caps");
      List<KeyValue> eleven = new ArrayList<>();
      List<byte[]> elevenRecords = new ArrayList<>();
      for (int i = 0; i < 11; i++) {
        eleven.add(new KeyValue(bytes("k" + i), bytes("v")));
        elevenRecords.add(bytes("r" + i));
      }
      assertThatThrownBy(() -> kv.putAll(eleven))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("11 writes")
          .hasMessageContaining("cap of 10")
          .hasMessageContaining("cairn.backends." + BACKEND + ".max-batch-entries");
      assertThatThrownBy(() -> log.appendAll(elevenRecords))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("max-batch-entries");
      assertThatThrownBy(() -> log.appendAll(List.of(new byte[600], new byte[600])))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("1200 bytes")
          .hasMessageContaining("max-batch-bytes");
      assertThatThrownBy(
              () ->
                  b.inTransaction(
                      tx -> {
                        for (int i = 0; i < 11; i++) {
                          tx.keyValue("tck-caps").put(bytes("t" + i), bytes("v"));
                        }
                        return null;
                      }))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("transaction")
          .hasMessageContaining("max-batch-entries");
      assertThatThrownBy(
              () ->
                  b.inTransaction(
                      tx -> {
                        tx.log("tck-caps").append(new byte[500]);
                        tx.keyValue("tck-caps").put(bytes("big"), new byte[500]);
                        return null;
                      }))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("max-batch-bytes");
      assertThat(kv.get(bytes("k0"))).as("nothing of the refused putAll").isNull();
      assertThat(kv.get(bytes("t0"))).as("nothing of the refused transaction").isNull();
      assertThat(log.nextOffset()).as("nothing of the refused appends").isZero();
      kv.putAll(eleven.subList(0, 10));
      log.appendAll(elevenRecords.subList(0, 10));
      assertThat(kv.get(bytes("k9"))).as("a batch at the cap is accepted").isEqualTo(bytes("v"));
      assertThat(log.nextOffset()).isEqualTo(10);
    }
  }

  // ---- many stores ----

  /** System property: how many stores {@link #manyStoresAreCheapToCreate()} creates. */
  public static final String MANY_STORES_PROPERTY = "tckManyStores";

  /**
   * Creating a store must cost the same whether there are ten or a hundred thousand (the registry
   * once sorted every metric on each new store). Creates {@value #MANY_STORES_DEFAULT} key-value
   * namespaces (more with {@code -DtckManyStores=100000}) with one entry each, checks they are all
   * listed and readable, and prints the time and the heap retained per store.
   */
  @Test
  public void manyStoresAreCheapToCreate() {
    int n = Integer.getInteger(MANY_STORES_PROPERTY, MANY_STORES_DEFAULT);
    StorageBackend b = backend();
    long heapBefore = usedHeapAfterGc();
    long start = System.nanoTime();
    for (int i = 0; i < n; i++) {
      b.keyValue("tck-many-" + i).put(bytes("k"), bytes("v"));
    }
    long createdNanos = System.nanoTime() - start;
    long heapAfter = usedHeapAfterGc();
    SortedSet<StoreId> stores = b.stores();
    for (int i = 0; i < n; i += Math.max(1, n / 100)) {
      assertThat(stores).contains(new StoreId(StoreKind.KEY_VALUE, "tck-many-" + i));
      assertThat(b.keyValue("tck-many-" + i).get(bytes("k"))).isEqualTo(bytes("v"));
    }
    assertThat(stores.stream().filter(s -> s.name().startsWith("tck-many-")).count()).isEqualTo(n);
    assertThat(registry().metrics().getNames().size())
        .as("metrics do not grow with the number of stores")
        .isLessThan(100);
    System.out.printf(
        "[cairn-tck] %s backend: %d stores created in %.1f s (%.0f us each), heap retained %.0f"
            + " bytes per store (backend and registry together)%n",
        b.type(),
        n,
        createdNanos / 1e9,
        createdNanos / 1e3 / n,
        (heapAfter - heapBefore) / (double) n);
  }

  private static final int MANY_STORES_DEFAULT = 2_000;

  private static long usedHeapAfterGc() {
    Runtime rt = Runtime.getRuntime();
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 3; i++) {
      System.gc();
      used = Math.min(used, rt.totalMemory() - rt.freeMemory());
    }
    return used;
  }
}
