package io.cairn.backend.rocksdb;

import static io.cairn.backend.rocksdb.Rocks.b;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.Durability;
import io.cairn.persistence.StorageEngineException;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.StorageEngine;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.rocksdb.RocksDB;

/** Engine-level rules of {@link RocksStorageEngine} the TCK cannot see from above the base. */
class RocksStorageEngineTest {
  @TempDir Path dir;

  private static final StoreId KV = new StoreId(StoreKind.KEY_VALUE, "k");

  private RocksStorageEngine open(Durability durability) {
    BackendContext ctx =
        BackendContext.builder("eng", RocksDbBackendProvider.TYPE)
            .dataDir(dir)
            .durability(durability)
            .build();
    return RocksStorageEngine.open(ctx, RocksDbBackendProvider.config(ctx));
  }

  private static long memtableEntries(RocksStorageEngine e) {
    return e.sumProperty("rocksdb.num-entries-active-mem-table")
        + e.sumProperty("rocksdb.num-entries-imm-mem-tables");
  }

  /**
   * At {@code none} the WAL is off, so a write asking for more than the open durability is only
   * durable once the memtables are in SST files: the engine flushes (this batch and every earlier
   * one), and a write at {@code none} does not.
   */
  @Test
  void aWriteAskingForMoreThanNoneFlushesEveryEarlierBatchToDisk() {
    try (RocksStorageEngine e = open(Durability.NONE)) {
      e.write(List.of(new StorageEngine.Write(KV, b("a"), b("1"))), Durability.NONE);
      e.write(List.of(new StorageEngine.Write(KV, b("b"), b("2"))), Durability.NONE);
      assertThat(memtableEntries(e)).isGreaterThanOrEqualTo(2); // and the layout version
      e.write(List.of(new StorageEngine.Write(KV, b("c"), b("3"))), Durability.FULL);
      assertThat(memtableEntries(e)).isZero();
      assertThat(e.get(KV, b("a"))).isEqualTo(b("1"));
      assertThat(e.get(KV, b("c"))).isEqualTo(b("3"));
    }
  }

  /**
   * A write RocksDB refuses names the backend, the store and the key of a one-record write (put or
   * delete, which go through RocksDB's own put and delete) and the record count of a batch,
   * although that text is built only on failure. RocksDB is made to refuse by dropping the column
   * family the records live in under the engine.
   */
  @Test
  void aRefusedWriteNamesItsStoreAndKeyOrItsRecordCount() throws Exception {
    try (RocksStorageEngine e = open(Durability.NORMAL)) {
      e.db.dropColumnFamily(e.records());
      // as the layout-2 migration after its drop: close then flushes only the families left
      e.allCfs = List.of(e.metaCf);
      assertThatThrownBy(
              () ->
                  e.write(List.of(new StorageEngine.Write(KV, b("ak"), b("1"))), Durability.NORMAL))
          .isInstanceOf(StorageEngineException.class)
          .hasMessageContaining("write")
          .hasMessageContaining(e.describe + ", kv:k, key 'ak' (0x616b)");
      assertThatThrownBy(
              () -> e.write(List.of(new StorageEngine.Write(KV, b("dk"), null)), Durability.NORMAL))
          .isInstanceOf(StorageEngineException.class)
          .hasMessageContaining(e.describe + ", kv:k, key 'dk' (0x646b)");
      assertThatThrownBy(
              () ->
                  e.write(
                      List.of(
                          new StorageEngine.Write(KV, b("a"), b("1")),
                          new StorageEngine.Write(KV, b("b"), null)),
                      Durability.NORMAL))
          .isInstanceOf(StorageEngineException.class)
          .hasMessageContaining(e.describe + ", 2 records");
    }
  }

  /**
   * A flush on close that rocksdbjni fails with an unchecked exception (here: a column family
   * dropped under the engine, IllegalArgumentException) does not stop close half-way: at {@code
   * none} close reports the lost memtables, at {@code normal} (the data is in the WAL) it logs, and
   * at both every native object is released, so the directory opens again (RocksDB's LOCK held by a
   * leaked handle would refuse it).
   */
  @ParameterizedTest
  @EnumSource(
      value = Durability.class,
      names = {"NONE", "NORMAL"})
  void aFlushOnCloseThatThrowsUncheckedStillReleasesTheDatabase(Durability durability)
      throws Exception {
    RocksStorageEngine e = open(durability);
    // nothing written: at none a write would be lost with the family, and the reopen below would
    // then (rightly) refuse the directory for the acknowledged write it lacks (CAIRN-ANCHOR)
    e.db.dropColumnFamily(e.records()); // allCfs still names it: the close-time flush throws
    RocksDB db = e.db;
    if (durability == Durability.NONE) {
      assertThatThrownBy(e::close)
          .isInstanceOf(StorageEngineException.class)
          .hasMessageContaining("flush on close (writes since the last flush are lost) failed");
    } else {
      e.close();
    }
    assertThat(db.isOwningHandle()).as("the database handle is released").isFalse();
    try (RocksStorageEngine again = open(durability)) {
      assertThat(again.records()).isNotNull();
    }
  }

  /**
   * RocksDB refuses to close a database with unreleased snapshots: closing the engine releases the
   * open ones (a read transaction's work may outlive close), and the snapshot's own close
   * afterwards does nothing while its reads fail, naming why.
   */
  @Test
  void closeReleasesOpenSnapshotsAndTheirReadsFailAfterwards() {
    RocksStorageEngine e = open(Durability.NORMAL);
    e.write(List.of(new StorageEngine.Write(KV, b("a"), b("1"))), Durability.NORMAL);
    StorageEngine.Snapshot s = e.snapshot();
    e.write(List.of(new StorageEngine.Write(KV, b("a"), b("2"))), Durability.NORMAL);
    assertThat(s.get(KV, b("a"))).isEqualTo(b("1"));
    e.close(); // would fail with "unreleased snapshot" if the engine did not release it
    assertThatThrownBy(() -> s.get(KV, b("a")))
        .isInstanceOf(io.cairn.persistence.BackendClosedException.class);
    s.close();
    try (RocksStorageEngine again = open(Durability.NORMAL)) {
      assertThat(again.get(KV, b("a"))).isEqualTo(b("2"));
    }
  }

  /** A directory of an unknown layout version (a newer Cairn) is refused, naming the version. */
  @Test
  void anUnknownLayoutVersionIsRefusedNamingIt() throws Exception {
    try (RocksStorageEngine e = open(Durability.NORMAL)) {
      e.db.put(e.metaCf, Layout.LAYOUT_VERSION_KEY, Layout.intBytes(9));
    }
    assertThatThrownBy(() -> open(Durability.NORMAL))
        .isInstanceOf(io.cairn.persistence.StorageEngineException.class)
        .hasMessageContaining("layout version 9")
        .hasMessageContaining("does not know");
  }

  /** Column families Cairn did not create and no layout version: not this engine's directory. */
  @Test
  void columnFamiliesWithoutALayoutVersionAreRefused() throws Exception {
    NativeLibrary.load();
    try (org.rocksdb.Options o = new org.rocksdb.Options().setCreateIfMissing(true);
        org.rocksdb.RocksDB db = org.rocksdb.RocksDB.open(o, dir.toString());
        org.rocksdb.ColumnFamilyHandle foreign =
            db.createColumnFamily(new org.rocksdb.ColumnFamilyDescriptor(b("foreign")))) {
      db.put(foreign, b("k"), b("v"));
    }
    assertThatThrownBy(() -> open(Durability.NORMAL))
        .isInstanceOf(io.cairn.persistence.StorageEngineException.class)
        .hasMessageContaining("foreign")
        .hasMessageContaining("no layout version");
  }

  /** A key that names no store is corruption naming where it was read, never a guess. */
  @Test
  void aKeyNamingNoStoreIsCorruption() {
    for (byte[] bad :
        List.of(new byte[] {1, 0}, new byte[] {1, 0, 5, 'a'}, new byte[] {9, 0, 1, 'a'})) {
      assertThatThrownBy(() -> EngineKeys.store(bad, "eng, column family 'records'"))
          .isInstanceOf(io.cairn.persistence.StoreCorruptedException.class)
          .hasMessageContaining("eng, column family 'records'")
          .hasMessageContaining("names no store");
    }
  }

  /**
   * A checkpoint goes into an absent or empty directory (RocksDB creates it itself, so an empty one
   * is removed first) and never into one holding anything.
   */
  @Test
  void aCheckpointTargetMustBeEmptyOrAbsent() throws Exception {
    try (RocksStorageEngine e = open(Durability.NORMAL)) {
      e.write(List.of(new StorageEngine.Write(KV, b("a"), b("1"))), Durability.NORMAL);
      Path empty =
          java.nio.file.Files.createDirectory(dir.resolveSibling(dir.getFileName() + "-cp"));
      try {
        e.checkpoint(empty, io.cairn.persistence.Progress.NONE);
        assertThat(empty.resolve("CURRENT")).exists();
        assertThatThrownBy(() -> e.checkpoint(empty, io.cairn.persistence.Progress.NONE))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("is not empty");
      } finally {
        try (var files = java.nio.file.Files.walk(empty)) {
          for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
            java.nio.file.Files.delete(f);
          }
        }
      }
    }
  }
}
