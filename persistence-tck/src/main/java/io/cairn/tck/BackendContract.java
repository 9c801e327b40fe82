package io.cairn.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.health.HealthCheck;
import io.cairn.persistence.BackendClosedException;
import io.cairn.persistence.BackendStats;
import io.cairn.persistence.Capability;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.StoreStats;
import io.cairn.persistence.VerifyReport;
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
    var timers = registry().metrics().getTimers();
    assertThat(timers.get("cairn.tck.kv.tck-metrics.put").getCount()).isEqualTo(2);
    assertThat(timers.get("cairn.tck.kv.tck-metrics.get").getCount()).isEqualTo(1);
    assertThat(timers.get("cairn.tck.log.tck-metrics.append").getCount()).isEqualTo(1);
    assertThat(timers.get("cairn.tck.transaction").getCount()).isEqualTo(1);
    assertThat(registry().metrics().getGauges()).containsKey("cairn.tck.kv.tck-metrics.entries");
  }

  @Test
  public void healthCheckIsRegisteredAndHealthy() {
    backend().keyValue("tck-health").put(bytes("k"), bytes("v"));
    assertThat(registry().healthChecks().getNames()).contains("cairn." + BACKEND);
    HealthCheck.Result result = registry().healthChecks().runHealthCheck("cairn." + BACKEND);
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
}
