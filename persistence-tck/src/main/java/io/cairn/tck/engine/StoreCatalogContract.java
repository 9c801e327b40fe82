package io.cairn.tck.engine;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.Durability;
import io.cairn.persistence.Importer;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.Progress;
import io.cairn.persistence.SnapshotStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.EngineBackend;
import io.cairn.persistence.spi.StorageEngine;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The catalog of logs and snapshot sets that {@link EngineBackend} keeps for every engine, run over
 * your {@link StorageEngine}: a backend built on the base extends this class with one method,
 * {@link #openEngine}. A store lost whole from the engine — records and position, or manifests —
 * must be named by reads, writes and {@code verify}, never taken for a store never written.
 *
 * <p>Each test makes the loss itself, deleting the store's records directly in the engine (as a
 * lost file or a damaged page would), then reopens the base over the same engine.
 */
public abstract class StoreCatalogContract {
  private static final StoreId LOG = new StoreId(StoreKind.LOG, "events");
  private static final StoreId SET = new StoreId(StoreKind.SNAPSHOT, "state");

  /** A fresh directory per test for engines that keep files. */
  @TempDir protected Path dir;

  /** Subclasses are instantiated by JUnit. */
  protected StoreCatalogContract() {}

  /**
   * A new, empty engine over {@code context.dataDir()} (your provider's engine, without {@link
   * EngineBackend#open}); it must honour {@link Durability#NONE}.
   *
   * @param context name, data directory and durability {@code none}
   * @return the engine; the test closes it
   */
  protected abstract StorageEngine openEngine(BackendContext context);

  @Test
  void aLostLogIsNamedByReadsWritesAndVerify() {
    Probe probe = new Probe(openEngine(context()));
    try {
      StorageBackend backend = open(probe);
      backend.log(LOG.name()).appendAll(List.of(b("a"), b("b"), b("c")));
      backend.log("kept").append(b("x"));
      assertThat(backend.verify(Progress.NONE).problems()).isEmpty();
      backend.close();

      deleteStore(probe.engine, LOG);
      StorageBackend reopened = open(probe);
      LogStore lost = reopened.log(LOG.name());
      assertThatThrownBy(() -> lost.read(0, 10))
          .isInstanceOf(StoreCorruptedException.class)
          .hasMessageContaining("events")
          .hasMessageContaining("lost");
      assertThatThrownBy(lost::nextOffset).isInstanceOf(StoreCorruptedException.class);
      // an append would hand out offset 0 again, which the log's consumers have processed
      assertThatThrownBy(() -> lost.append(b("again"))).isInstanceOf(StoreCorruptedException.class);
      assertThat(reopened.verify(Progress.NONE).problems())
          .singleElement()
          .asString()
          .contains("log 'events'", "lost");
      assertThat(reopened.log("kept").read(0, 10)).hasSize(1);
      reopened.close();
    } finally {
      probe.engine.close();
    }
  }

  @Test
  void aLostSnapshotIsNamedByVerifyAndDeletesKeepTheCount() {
    Probe probe = new Probe(openEngine(context()));
    try {
      StorageBackend backend = open(probe);
      SnapshotStore set = backend.snapshots(SET.name());
      for (long v = 1; v <= 3; v++) {
        set.save(v, new ByteArrayInputStream(b("state " + v)));
      }
      set.save(2, new ByteArrayInputStream(b("state 2, replaced"))); // no new snapshot
      assertThat(set.delete(3)).isTrue();
      set.save(4, new ByteArrayInputStream(b("state 4")));
      assertThat(backend.verify(Progress.NONE).problems()).isEmpty();
      backend.close();

      List<StorageEngine.Record> manifests =
          probe.engine.range(SET, new byte[] {'M'}, new byte[] {'N'}, 100);
      assertThat(manifests).hasSize(3);
      probe.engine.write(
          List.of(new StorageEngine.Write(SET, manifests.get(0).key(), null)), Durability.NONE);
      StorageBackend reopened = open(probe);
      assertThat(reopened.verify(Progress.NONE).problems())
          .singleElement()
          .asString()
          .contains("snapshot set 'state'", "3 snapshots but 2 are stored", "lost");
      reopened.close();

      deleteStore(probe.engine, SET);
      StorageBackend again = open(probe);
      assertThat(again.verify(Progress.NONE).problems())
          .singleElement()
          .asString()
          .contains("3 snapshots but 0 are stored");
      again.close();
    } finally {
      probe.engine.close();
    }
  }

  @Test
  void theCatalogIsBuiltForDataWrittenBeforeIt() {
    Probe probe = new Probe(openEngine(context()));
    try {
      probe.dropReserved = true; // as a base older than the catalog wrote: no entry, no marker
      StorageBackend old = open(probe);
      old.log(LOG.name()).append(b("a"));
      old.snapshots(SET.name()).save(1, new ByteArrayInputStream(b("s")));
      old.close();
      probe.dropReserved = false;
      assertThat(probe.engine.get(META, b("log:events"))).isNull();

      StorageBackend built = open(probe);
      assertThat(built.verify(Progress.NONE).problems()).isEmpty();
      built.log("new").append(b("n")); // a log first written after the build is catalogued too
      built.close();

      deleteStore(probe.engine, LOG);
      deleteStore(probe.engine, new StoreId(StoreKind.LOG, "new"));
      StorageBackend reopened = open(probe);
      assertThat(reopened.verify(Progress.NONE).problems())
          .hasSize(2)
          .allSatisfy(p -> assertThat(p).contains("lost"));
      reopened.close();
    } finally {
      probe.engine.close();
    }
  }

  @Test
  void aReadOnlyOpenWritesNothingAndVerifiesWithoutTheCatalog() {
    Probe probe = new Probe(openEngine(context()));
    try {
      probe.dropReserved = true; // data from before the catalog: no entry, no marker
      StorageBackend old = open(probe);
      old.log(LOG.name()).append(b("a"));
      old.close();
      probe.dropReserved = false;

      probe.writes = 0;
      StorageBackend readOnly =
          EngineBackend.open(
              context(),
              "catalog-test",
              probe,
              EngineBackend.Options.builder(Durability.NONE).readOnly(true).build());
      assertThat(probe.writes).as("engine writes of a read-only open").isZero();
      assertThat(readOnly.log(LOG.name()).read(0, 10)).hasSize(1);
      assertThat(readOnly.verify(Progress.NONE).problems()).isEmpty();
      assertThat(readOnly.extension(Importer.class))
          .as("importer of a read-only backend")
          .isEmpty();
      readOnly.close();
    } finally {
      probe.engine.close();
    }
  }

  @Test
  void transactionsAndImportsCatalogTheLogsTheyStart() {
    Probe probe = new Probe(openEngine(context()));
    try {
      StorageBackend backend = open(probe);
      backend.inTransaction(tx -> tx.log("tx").append(b("t")));
      try (Importer.Session importer = backend.extension(Importer.class).orElseThrow().begin()) {
        importer.startLog("started", 7);
        importer.appendRecords("imported", List.of(new LogRecord(3, b("i"), 1)));
        importer.finish();
      }
      assertThat(backend.verify(Progress.NONE).problems()).isEmpty();
      backend.close();

      List<String> lost = List.of("tx", "started", "imported");
      for (String name : lost) {
        deleteStore(probe.engine, new StoreId(StoreKind.LOG, name));
      }
      StorageBackend reopened = open(probe);
      for (String name : lost) {
        assertThatThrownBy(() -> reopened.log(name).read(0, 1))
            .as("log %s", name)
            .isInstanceOf(StoreCorruptedException.class);
      }
      assertThat(reopened.verify(Progress.NONE).problems()).hasSize(lost.size());
      reopened.close();
    } finally {
      probe.engine.close();
    }
  }

  /**
   * A log's entry and its first position land in one batch; a reader that found no position and
   * then the entry (the first append landed between its two reads) reads the position again instead
   * of calling the log lost.
   */
  @Test
  void aReadRacingTheFirstAppendIsNotALoss() {
    Probe probe = new Probe(openEngine(context()));
    try {
      StorageBackend backend = open(probe);
      LogStore fresh = backend.log("fresh");
      probe.beforeCatalogRead =
          () -> CompletableFuture.runAsync(() -> fresh.append(b("first"))).join();
      assertThat(fresh.nextOffset()).isEqualTo(1);
      assertThat(probe.catalogReads).isPositive();
      backend.close();
    } finally {
      probe.engine.close();
    }
  }

  // ---- helpers ----

  private static final StoreId META = new StoreId(StoreKind.KEY_VALUE, "_cairn");

  @Test
  void verifyNamesADamagedManifestAndChecksTheOtherSnapshots() {
    Probe probe = new Probe(openEngine(context()));
    try {
      StorageBackend backend = open(probe);
      SnapshotStore set = backend.snapshots(SET.name());
      set.save(1, new ByteArrayInputStream(b("one")));
      set.save(2, new ByteArrayInputStream(b("two")));
      byte[] manifestOf1 = java.nio.ByteBuffer.allocate(9).put((byte) 'M').putLong(1).array();
      assertThat(probe.engine.get(SET, manifestOf1)).as("manifest of version 1").isNotNull();
      probe.engine.write(
          List.of(new StorageEngine.Write(SET, manifestOf1, new byte[] {0, 0, 0})),
          Durability.NONE);

      List<String> problems = backend.verify(Progress.NONE).problems();

      assertThat(problems).singleElement().asString().contains("state", "manifest");
      assertThat(backend.verify(Progress.NONE).checked()).as("snapshots checked").isEqualTo(2);
      backend.close();
    } finally {
      probe.engine.close();
    }
  }

  @Test
  void verifyNamesAStoreTheEngineCannotReadAndChecksTheRest() {
    Probe probe = new Probe(openEngine(context()));
    try {
      StorageBackend backend = open(probe);
      backend.keyValue("broken").put(b("k"), b("v"));
      backend.log(LOG.name()).append(b("a"));
      backend.keyValue("fine").put(b("k"), b("v"));
      probe.unreadable = new StoreId(StoreKind.KEY_VALUE, "broken");

      List<String> problems = backend.verify(Progress.NONE).problems();

      // the engine's damage (e.g. a block failing its checksum) is a finding, not a throw that
      // hides every store verify did not reach, and the engine's own check still runs
      assertThat(problems)
          .singleElement()
          .asString()
          .contains("namespace 'broken'", "damaged", "block 7 failed its checksum");
      assertThat(probe.engineVerified).isTrue();
      backend.close();
    } finally {
      probe.engine.close();
    }
  }

  private BackendContext context() {
    return BackendContext.builder("catalog", "catalog-test")
        .dataDir(dir)
        .durability(Durability.NONE)
        .build();
  }

  private StorageBackend open(StorageEngine engine) {
    return EngineBackend.open(
        context(), "catalog-test", engine, EngineBackend.Options.builder(Durability.NONE).build());
  }

  /** Deletes every record of {@code id} directly in the engine: the store is lost whole. */
  private static void deleteStore(StorageEngine engine, StoreId id) {
    List<StorageEngine.Write> deletes = new ArrayList<>();
    for (StorageEngine.Record r : engine.range(id, new byte[0], null, 100_000)) {
      deletes.add(new StorageEngine.Write(id, r.key(), null));
    }
    assertThat(deletes).as("records of %s", id).isNotEmpty();
    engine.write(deletes, Durability.NONE);
  }

  private static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  /**
   * The engine as the base sees it: may drop the base's own records (as a base before the catalog
   * wrote) and run a hook before the first read of a log's catalog entry; never closes the engine
   * (the test reopens the base over it).
   */
  private static final class Probe extends ForwardingEngine {
    volatile boolean dropReserved;
    volatile Runnable beforeCatalogRead;
    volatile int catalogReads;
    volatile int writes;
    volatile StoreId unreadable;
    volatile boolean engineVerified;

    Probe(StorageEngine engine) {
      super(engine);
    }

    @Override
    public byte[] get(StoreId store, byte[] key) {
      Runnable hook = beforeCatalogRead;
      if (hook != null && store.equals(META) && Arrays.equals(key, b("log:fresh"))) {
        beforeCatalogRead = null;
        catalogReads++;
        hook.run();
      }
      refuseIfUnreadable(store);
      return engine.get(store, key);
    }

    @Override
    public List<Record> range(StoreId store, byte[] from, byte[] to, int limit) {
      refuseIfUnreadable(store);
      return engine.range(store, from, to, limit);
    }

    @Override
    public void verify(List<String> problems, Progress progress) {
      engineVerified = true;
    }

    private void refuseIfUnreadable(StoreId store) {
      if (store.equals(unreadable)) {
        throw new StoreCorruptedException(
            "test engine: " + store + ": block 7 failed its checksum.");
      }
    }

    @Override
    public void write(List<Write> batch, Durability durability) {
      writes++;
      List<Write> kept = new ArrayList<>(batch.size());
      for (Write w : batch) {
        if (!(dropReserved && w.store().name().startsWith("_"))) {
          kept.add(w);
        }
      }
      if (!kept.isEmpty()) {
        engine.write(kept, durability);
      }
    }

    @Override
    public void close() {
      // the test closes the engine itself, after its last reopen
    }
  }
}
