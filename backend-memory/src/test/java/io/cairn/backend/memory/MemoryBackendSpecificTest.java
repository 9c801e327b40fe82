package io.cairn.backend.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.BackendClosedException;
import io.cairn.persistence.Capability;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.Durability;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.Transaction;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.tck.Fixtures;
import io.cairn.tck.ManualClock;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the TCK cannot check generically: configuration, corruption detection, misuse. */
class MemoryBackendSpecificTest {
  @TempDir Path dir;
  private StorageBackend backend;

  private final MemoryEngine engine = new MemoryEngine();

  private StorageBackend open() {
    backend =
        MemoryBackendProvider.open(
            BackendContext.builder("mem", "memory")
                .durability(Durability.NONE)
                .clock(new ManualClock())
                .dataDir(dir)
                .build(),
            engine);
    return backend;
  }

  @AfterEach
  void close() {
    if (backend != null) {
      backend.close();
    }
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void defaultsToDurabilityNoneAndIsNotDurable() {
    try (PersistenceRegistry r =
        PersistenceRegistry.builder()
            .baseDirectory(dir)
            .open(ConfigFactory.parseString("cairn.backends.m { type = memory }"))) {
      StorageBackend m = r.backend("m");
      assertThat(m.durability()).isEqualTo(Durability.NONE);
      assertThat(m.capabilities()).doesNotContain(Capability.DURABLE);
      assertThat(m.type()).isEqualTo("memory");
    }
    assertThat(PersistenceRegistry.knownTypes()).contains("memory");
  }

  /**
   * A write through the registry's store, made directly inside the transaction's work, is refused
   * naming the transaction view to write through instead (the view's text is built only then).
   */
  @Test
  void aDirectWriteInsideATransactionNamesTheViewToUseInstead() {
    try (PersistenceRegistry r =
        PersistenceRegistry.builder()
            .baseDirectory(dir)
            .open(ConfigFactory.parseString("cairn.backends.m { type = memory }"))) {
      StorageBackend m = r.backend("m");
      KeyValueStore kv = m.keyValue("ns");
      var log = m.log("events");
      assertThatThrownBy(() -> m.inTransaction(tx -> kv.put(b("k"), b("v"))))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("Cannot put on")
          .hasMessageContaining("Write through the Transaction view instead: tx.keyValue(\"ns\").");
      assertThatThrownBy(() -> m.inTransaction(tx -> log.append(b("p"))))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("Write through the Transaction view instead: tx.log(\"events\").");
      assertThat(kv.get(b("k"))).isNull();
      assertThat(log.nextOffset()).isZero();
    }
  }

  @Test
  void registryTimersCountEveryOperationAndMeasureItsDuration() {
    MetricRegistry metrics = new MetricRegistry();
    try (PersistenceRegistry r =
        PersistenceRegistry.builder()
            .baseDirectory(dir)
            .metrics(metrics)
            .open(ConfigFactory.parseString("cairn.backends.m { type = memory }"))) {
      KeyValueStore kv = r.backend("m").keyValue("ns");
      for (int i = 0; i < 100; i++) {
        kv.put(new byte[] {(byte) i}, b("value"));
        assertThat(kv.get(new byte[] {(byte) i})).isEqualTo(b("value"));
      }
      Timer put = metrics.getTimers().get("cairn.backends.m.kv.put");
      assertThat(put.getCount()).isEqualTo(100);
      // calls arriving faster than one a millisecond are timed one in eight (CallTimer)
      assertThat(put.getSnapshot().size()).isBetween(1, 100);
      assertThat(put.getSnapshot().getMax()).as("durations in ns, measured").isPositive();
      assertThat(put.getMeanRate()).isPositive();
      assertThat(metrics.getTimers().get("cairn.backends.m.kv.get").getCount()).isEqualTo(100);
    }
  }

  @Test
  void aTimerSomeoneElseRegisteredUnderABackendsMetricNameIsNamedNotReplaced() {
    MetricRegistry metrics = new MetricRegistry();
    Timer theirs = metrics.timer("cairn.backends.m.kv.get");
    assertThatThrownBy(
            () ->
                PersistenceRegistry.builder()
                    .baseDirectory(dir)
                    .metrics(metrics)
                    .open(ConfigFactory.parseString("cairn.backends.m { type = memory }"))
                    .close())
        .hasStackTraceContaining("'cairn.backends.m.kv.get'")
        .hasStackTraceContaining(
            "remove that timer from the registry or give the backend another name");
    assertThat(metrics.getTimers().get("cairn.backends.m.kv.get")).isSameAs(theirs);
  }

  @Test
  void durableSettingsAreRejectedWithAClearMessage() {
    List<ConfigProblem> problems =
        PersistenceRegistry.validate(
            ConfigFactory.parseString(
                "cairn.backends { a { type = memory, durability = normal }\n"
                    + " b { type = memory, durability = full }\n"
                    + " c { type = memory, durability = none } }"));
    assertThat(problems).hasSize(2);
    assertThat(problems.get(0).toString())
        .contains("cairn.backends.a.durability")
        .contains("none")
        .contains("normal");
    assertThat(problems.get(1).toString()).contains("cairn.backends.b.durability").contains("full");
    assertThatThrownBy(
            () ->
                PersistenceRegistry.builder()
                    .baseDirectory(dir)
                    .open(
                        ConfigFactory.parseString(
                            "cairn.backends.a { type = memory, durability = full }")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("cairn.backends.a.durability");
  }

  @Test
  void anInvalidDurabilityIsReportedOnceNotTwice() {
    List<ConfigProblem> problems =
        PersistenceRegistry.validate(
            ConfigFactory.parseString(
                "cairn.backends.a { type = memory, durability = sometimes }"));
    assertThat(problems).hasSize(1);
    assertThat(problems.get(0).toString()).contains("sometimes");
  }

  @Test
  void aDurabilityThatIsNotAStringIsReportedOnceByTheCommonValidation() {
    List<ConfigProblem> problems =
        PersistenceRegistry.validate(
            ConfigFactory.parseString("cairn.backends.a { type = memory, durability = [none] }"));
    assertThat(problems).hasSize(1);
    assertThat(problems.get(0).toString()).contains("cairn.backends.a.durability");
  }

  @Test
  void theDescriptionTellsAnOperatorNothingSurvives() {
    assertThat(new MemoryBackendProvider().description())
        .contains("nothing survives close")
        .contains("durability none");
  }

  @Test
  void openingWithADurableContextIsRefused() {
    assertThatThrownBy(
            () ->
                new MemoryBackendProvider()
                    .open(BackendContext.builder("mem", "memory").dataDir(dir).build()))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("durability normal")
        .hasMessageContaining("durability = none");
  }

  @Test
  void writesNothingToTheDataDirectory() throws Exception {
    StorageBackend m = open();
    m.keyValue("kv").put(b("k"), b("v"));
    m.log("log").append(b("x"));
    m.snapshots("s").save(1, b("data"));
    try (var files = java.nio.file.Files.list(dir)) {
      assertThat(files).isEmpty();
    }
  }

  @Test
  void corruptSnapshotIsDetectedOnLoadAndByVerify() throws Exception {
    StorageBackend m = open();
    m.snapshots("s").save(1, Fixtures.generatedStream(9, 200_000));
    // flip a bit of the third stored chunk (chunk records sort after the manifest, 'C' < 'M')
    StoreId set = new StoreId(StoreKind.SNAPSHOT, "s");
    byte[] third = engine.range(set, new byte[] {'C'}, new byte[] {'D'}, 10).get(2).key();
    engine.storedValue(set, third)[100] ^= 0x01;

    try (InputStream in = m.snapshots("s").load(1)) {
      assertThatThrownBy(in::readAllBytes)
          .isInstanceOf(StoreCorruptedException.class)
          .hasMessageContaining("CRC-32C")
          .hasMessageContaining("set 's'");
    }
    var report = m.verify(Progress.NONE);
    assertThat(report.healthy()).isFalse();
    assertThat(report.problems()).singleElement().asString().contains("snapshot 1");
  }

  @Test
  void snapshotStreamFailsAfterClose() throws Exception {
    StorageBackend m = open();
    m.snapshots("s").save(1, b("data"));
    InputStream in = m.snapshots("s").load(1);
    m.close();
    assertThatThrownBy(in::read).isInstanceOf(BackendClosedException.class);
    assertThat(m.health().isHealthy()).isFalse();
  }

  @Test
  void transactionViewIsUnusableAfterTheWorkAndTransactionsDoNotNest() {
    StorageBackend m = open();
    Transaction[] leaked = new Transaction[1];
    m.inTransaction(
        tx -> {
          leaked[0] = tx;
          assertThatThrownBy(() -> m.inTransaction(inner -> null))
              .isInstanceOf(IllegalStateException.class)
              .hasMessageContaining("do not nest");
          return null;
        });
    assertThatThrownBy(() -> leaked[0].keyValue("kv"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("has ended");
  }

  @Test
  void transactionViewIsBoundToItsThread() {
    StorageBackend m = open();
    m.inTransaction(
        tx -> {
          Throwable t =
              CompletableFuture.supplyAsync(
                      () -> {
                        try {
                          tx.log("log").append(b("x"));
                          return null;
                        } catch (RuntimeException e) {
                          return e;
                        }
                      })
                  .join();
          assertThat(t).isInstanceOf(IllegalStateException.class);
          return null;
        });
    assertThat(m.log("log").nextOffset()).isZero();
  }

  @Test
  void statsAndVerifyReportTheHeap() {
    StorageBackend m = open();
    m.keyValue("kv").put(b("k"), b("value"));
    m.log("log").append(b("12345"));
    var stats = m.stats();
    assertThat(stats.diskBytes()).isEqualTo(-1);
    assertThat(stats.properties()).containsEntry("durability", "none");
    assertThat(stats.stores()).hasSize(2);
    assertThat(stats.stores().get(0).bytes()).isEqualTo(6); // "k" + "value"
    assertThat(stats.stores().get(1).entries()).isEqualTo(1); // log bytes are not counted (-1)
    assertThat(m.verify(Progress.NONE).checked()).isEqualTo(2);
  }
}
