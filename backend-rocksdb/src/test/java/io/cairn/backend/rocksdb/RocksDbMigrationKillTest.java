package io.cairn.backend.rocksdb;

import static io.cairn.backend.rocksdb.Rocks.b;
import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.MetricRegistry;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Durability;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.Progress;
import io.cairn.persistence.SnapshotInfo;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.tck.FixedKeyEncryption;
import io.cairn.tck.crash.ChildJvm;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.DBOptions;
import org.rocksdb.FlushOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * kill -9 in the middle of the layout 3 -> 4 migration ({@link Layout3Migration}). A layout-3
 * directory large enough for many of the migration's batches ({@link
 * Layout3Migration#BATCH_RECORDS} records each) is opened by a child JVM ({@link ChildJvm}, the
 * crash harness's child), which is killed hard at a chosen point: paused after batch K (so the
 * image is exactly "K batches written, not flushed, WAL not fsynced" at {@code normal}), after the
 * commit point, or while running on past batch K (the kill lands wherever the child is by then:
 * inside a batch, in the flush, after the commit). The signal is the child's own progress line,
 * printed from the migration's per-batch hook; nothing waits on a timer. Some scenarios kill
 * several children in a row on one directory (a crash during the resumed migration). After the last
 * kill this JVM opens the directory and checks:
 *
 * <ul>
 *   <li>right after each kill, with RocksDB alone (read-only, so nothing is replayed into new
 *       files): every record of the layout-3 directory is in exactly one of {@code records} and
 *       {@code base}, byte for byte, none lost, none in both, none added; the marker is there until
 *       the commit point; after a pause at batch K, exactly the records of the batches written so
 *       far are in {@code base} (at {@code normal}; at {@code none}, where the WAL is off, the
 *       unflushed batches are lost with the kill, so at most those);
 *   <li>the open completes and moves only what was left (its batch count is that of the records
 *       still in {@code records});
 *   <li>through the API: every store, key-value entry (value, version, expiry), log record (offset,
 *       payload, append time), log position (first and next offset) and snapshot (info and data) is
 *       what the layout-4 backend that wrote it returned; {@code verify} reports no problem; the
 *       layout version is 4;
 *   <li>with RocksDB alone: layout version 4, no marker, every bookkeeping record in {@code base},
 *       every other in {@code records}, each once, byte for byte as before the migration.
 * </ul>
 *
 * The layout-3 directory is made here, not checked in (hundreds of kilobytes at the default size,
 * and its size is a property of the long runs): written through the API by this Cairn (layout 4),
 * then turned back into layout 3 by {@link #demote} (the bookkeeping records put back into {@code
 * records}, {@code base} dropped, {@code layout-version = 3}); {@link
 * #demotingTheMigratedLayout3FixtureGivesBackItsBytes} checks that this is the exact inverse of the
 * migration on the fixtures the layout-3 engine really wrote.
 *
 * <p>Five scenarios at {@code normal} (seven kills), one at {@code none} (two kills) by default;
 * {@code -DmigrationKillCycles=N} adds N random kill chains (one to three kills, random points),
 * {@code -DmigrationKillSeed=S} replays them, {@code -DmigrationKillBatches=B} sizes the directory
 * (about B batches; default 10).
 */
class RocksDbMigrationKillTest {
  private static final long CLOCK = 1_700_000_000_000L;
  private static final int BATCHES = Integer.getInteger("migrationKillBatches", 10);
  private static final int CYCLES = Integer.getInteger("migrationKillCycles", 0);
  private static final long SEED = Long.getLong("migrationKillSeed", 20261207L);
  private static final Duration SIGNAL_TIMEOUT = Duration.ofSeconds(120);

  /** Holds the layout-3 directory, written once for every test of the class. */
  @TempDir static Path shared;

  private static Fixture fixture;

  @TempDir Path work;

  @AfterEach
  void clearHooks() {
    Layout3Migration.afterBatch = null;
    Layout3Migration.afterCommit = null;
  }

  /** Where a child is killed. */
  enum Point {
    /** Paused in the hook after batch K is written: the image is K batches (at {@code normal}). */
    PAUSE,
    /** Killed as soon as it reports batch K, while it goes on: wherever it is by then. */
    RUN,
    /** Paused in the hook after the commit point. */
    COMMIT
  }

  record Kill(Point point, int batch) {
    String arg() {
      return point + ":" + batch;
    }
  }

  // ---------------------------------------------------------------- the tests

  /**
   * At {@code normal} a kill loses nothing written (the WAL is in the OS), so a pause after batch K
   * leaves exactly K batches moved. At {@code none} (WAL off) the unflushed batches are lost with
   * the kill; fewer scenarios, the same checks.
   */
  @ParameterizedTest
  @EnumSource(
      value = Durability.class,
      names = {"NORMAL", "NONE"})
  void killedAtAnyPointOfTheMigrationTheNextOpenFinishesItAndLosesNothing(Durability durability)
      throws Exception {
    Fixture f = fixture();
    int total = f.batches();
    assertThat(total).as("batches of the migration").isGreaterThanOrEqualTo(BATCHES * 9 / 10);
    List<List<Kill>> scenarios = new ArrayList<>();
    if (durability == Durability.NORMAL) {
      scenarios.add(List.of(new Kill(Point.PAUSE, 1)));
      scenarios.add(List.of(new Kill(Point.PAUSE, total / 2)));
      scenarios.add(List.of(new Kill(Point.PAUSE, total))); // all moved, not flushed, no commit
      scenarios.add(List.of(new Kill(Point.COMMIT, 0)));
      scenarios.add( // crashes during the resumed migration too
          List.of(new Kill(Point.PAUSE, 2), new Kill(Point.PAUSE, 2), new Kill(Point.RUN, 1)));
    } else {
      scenarios.add(List.of(new Kill(Point.PAUSE, total / 2), new Kill(Point.RUN, 1)));
    }
    Random r = new Random(SEED);
    for (int i = 0; i < CYCLES; i++) {
      List<Kill> chain = new ArrayList<>();
      for (int n = 1 + r.nextInt(3); n > 0; n--) { // after a commit nothing is left to kill
        Point p =
            n == 1 && r.nextInt(5) == 0 ? Point.COMMIT : r.nextBoolean() ? Point.PAUSE : Point.RUN;
        chain.add(new Kill(p, p == Point.COMMIT ? 0 : 1 + r.nextInt(total)));
      }
      scenarios.add(chain);
    }
    int run = 0;
    for (List<Kill> chain : scenarios) {
      runScenario(f, durability, chain, work.resolve("run-" + run++));
    }
  }

  /**
   * The layout-3 directory the kill test migrates is made by {@link #demote}: on the fixtures the
   * layout-3 engine wrote (main 0444c38), opened as checked in, migrating and then demoting gives
   * back every record of every family byte for byte, so a demoted directory is what that engine
   * would have left.
   */
  @ParameterizedTest
  @ValueSource(strings = {"layout3-plain", "layout3-encrypted"})
  void demotingTheMigratedLayout3FixtureGivesBackItsBytes(String name) throws Exception {
    Path dir = work.resolve(name);
    Rocks.copyFixture(name, dir);
    Map<String, Map<String, String>> written = raw(dir);
    assertThat(written.keySet()).containsExactly("default", RocksStorageEngine.CF_RECORDS);
    assertThat(layoutVersion(written)).isEqualTo(RocksStorageEngine.LAYOUT_VERSION_ONE_FAMILY);
    BackendContext.Builder ctx =
        BackendContext.builder("mig", RocksDbBackendProvider.TYPE)
            .dataDir(dir)
            .clock(new Rocks.ManualClock(CLOCK));
    if (name.endsWith("encrypted")) {
      ctx.encryption(new FixedKeyEncryption());
    }
    try (StorageBackend migrated = new RocksDbBackendProvider().open(ctx.build())) {
      assertThat(migrated.stats().properties()).containsEntry("layout-version", "4");
      assertThat(migrated.verify(Progress.NONE).problems()).isEmpty();
    }
    assertThat(raw(dir).get(RocksStorageEngine.CF_BASE)).isNotEmpty();
    demote(dir);
    assertThat(raw(dir)).isEqualTo(written);
  }

  // ---------------------------------------------------------------- one scenario

  private void runScenario(Fixture f, Durability durability, List<Kill> chain, Path dir)
      throws Exception {
    Files.createDirectories(dir);
    try (var files = Files.list(f.dir())) {
      for (Path p : files.toList()) {
        Files.copy(p, dir.resolve(p.getFileName()));
      }
    }
    String what = "scenario " + chain + " in " + dir.getFileName();
    int moved = 0; // bookkeeping records in 'base'
    boolean committed = false;
    List<Kill> done = new ArrayList<>();
    StringBuilder log = new StringBuilder(dir.getFileName() + ":");
    for (Kill planned : chain) {
      Kill kill = feasible(f, planned, moved, committed);
      done.add(kill);
      List<String> output;
      try (ChildJvm child =
          ChildJvm.start(
              Child.class,
              dir.toString(),
              durability.name(),
              Long.toString(CLOCK),
              kill.arg(),
              settings(durability))) {
        String signal =
            child.awaitLine(
                l -> l.equals(signalOf(kill)) || l.startsWith("OPENED") || l.startsWith("FAILED"),
                SIGNAL_TIMEOUT);
        child.killHard();
        output = child.output();
        assertThat(signal).as(what + ": child output " + output).doesNotStartWith("FAILED");
        if (kill.point() != Point.RUN) { // a paused child never gets past its pause
          assertThat(signal).as(what + ": child output " + output).isEqualTo(signalOf(kill));
        }
      }
      Map<String, Map<String, String>> image = raw(dir);
      int inBase = assertEachRecordOnce(f, image, what + " after kill " + kill);
      boolean marker = image.get("default").containsKey(hex(Layout3Migration.MOVING_KEY));
      if (kill.point() == Point.PAUSE) {
        int expected = Math.min(f.bookkeeping(), moved + kill.batch() * batchRecords());
        assertThat(marker).as(what + ": marker after kill " + kill).isTrue();
        if (durability == Durability.NONE) {
          // WAL off: only what a flush wrote survives; atomic flush keeps whole batches
          assertThat(inBase).as(what + ": moved after kill " + kill).isBetween(moved, expected);
        } else {
          assertThat(inBase).as(what + ": moved after kill " + kill).isEqualTo(expected);
        }
      } else if (kill.point() == Point.COMMIT) {
        assertThat(marker).as(what + ": marker after kill " + kill).isFalse();
        assertThat(inBase).as(what + ": moved after kill " + kill).isEqualTo(f.bookkeeping());
      } else {
        assertThat(inBase).as(what + ": moved after kill " + kill).isGreaterThanOrEqualTo(moved);
      }
      if (!marker) { // whatever the kill point: the commit point is never durable before a move
        assertThat(inBase)
            .as(what + ": moved, marker gone, after kill " + kill)
            .isEqualTo(f.bookkeeping());
      }
      assertThat((inBase - moved) % batchRecords() == 0 || inBase == f.bookkeeping())
          .as(what + ": whole batches moved after kill " + kill + ": " + moved + ", then " + inBase)
          .isTrue();
      assertThat(layoutVersion(image))
          .as(what + ": layout version after kill " + kill)
          .isEqualTo(RocksStorageEngine.LAYOUT_VERSION);
      moved = inBase;
      committed = !marker;
      log.append(" killed at ").append(kill).append(" (last line ").append(last(output));
      log.append(", ").append(moved).append(" moved").append(committed ? ", committed)" : ")");
    }
    what = "scenario " + done + " in " + dir.getFileName();
    // the next open: finishes the move (only what is left), then everything is there
    int left = f.bookkeeping() - moved;
    AtomicInteger batches = new AtomicInteger();
    Layout3Migration.afterBatch = batches::set;
    try (StorageBackend be = open(dir, durability, CLOCK, settings(durability))) {
      assertThat(be.stats().properties())
          .as(what)
          .containsEntry("layout-version", Integer.toString(RocksStorageEngine.LAYOUT_VERSION));
      assertThat(digest(be)).as(what + ": what the API returns").isEqualTo(f.digest());
      assertThat(be.verify(Progress.NONE).problems()).as(what + ": verify").isEmpty();
    } finally {
      Layout3Migration.afterBatch = null;
    }
    log.append("; reopened: ").append(batches.get()).append(" batches for ").append(left);
    System.out.println(log.append(" records left"));
    assertThat(batches.get())
        .as(what + ": batches of the resumed migration, " + left + " records left")
        .isEqualTo(committed ? 0 : (left + batchRecords() - 1) / batchRecords());
    Map<String, Map<String, String>> after = raw(dir);
    assertThat(assertEachRecordOnce(f, after, what + " after the open"))
        .as(what + ": bookkeeping records in 'base' after the open")
        .isEqualTo(f.bookkeeping());
    assertThat(after.get("default")).doesNotContainKey(hex(Layout3Migration.MOVING_KEY));
    assertThat(layoutVersion(after)).isEqualTo(RocksStorageEngine.LAYOUT_VERSION);
    assertThat(after.get(RocksStorageEngine.CF_RECORDS).keySet())
        .as(what + ": no bookkeeping left in 'records'")
        .noneMatch(Rocks::bookkeeping);
  }

  /**
   * Every record of the layout-3 directory is in {@code records} or {@code base}, not both, with
   * its bytes; nothing else is there, and {@code base} holds only bookkeeping. Returns how many
   * records {@code base} holds.
   */
  private static int assertEachRecordOnce(
      Fixture f, Map<String, Map<String, String>> image, String what) {
    assertThat(image.keySet())
        .as(what + ": column families")
        .containsExactlyInAnyOrder(
            "default", RocksStorageEngine.CF_RECORDS, RocksStorageEngine.CF_BASE);
    Map<String, String> records = image.get(RocksStorageEngine.CF_RECORDS);
    Map<String, String> base = image.get(RocksStorageEngine.CF_BASE);
    List<String> inBoth = new ArrayList<>(records.keySet());
    inBoth.retainAll(base.keySet());
    assertThat(inBoth).as(what + ": records in both families").isEmpty();
    assertThat(base.keySet()).as(what + ": 'base'").allMatch(Rocks::bookkeeping);
    Map<String, String> union = new TreeMap<>(records);
    union.putAll(base);
    if (!union.equals(f.records())) {
      Map<String, String> lost = new TreeMap<>(f.records());
      lost.keySet().removeAll(union.keySet());
      Map<String, String> added = new TreeMap<>(union);
      added.keySet().removeAll(f.records().keySet());
      List<String> changed = new ArrayList<>();
      for (var e : union.entrySet()) {
        String was = f.records().get(e.getKey());
        if (was != null && !was.equals(e.getValue())) {
          changed.add(e.getKey());
        }
      }
      throw new AssertionError(
          what
              + ": the records differ from the layout-3 directory's: "
              + lost.size()
              + " lost "
              + first(lost.keySet())
              + ", "
              + added.size()
              + " added "
              + first(added.keySet())
              + ", "
              + changed.size()
              + " changed "
              + first(changed));
    }
    return base.size();
  }

  private static String last(List<String> output) {
    for (int i = output.size() - 1; i >= 0; i--) {
      String l = output.get(i);
      if (l.startsWith("BATCH") || l.startsWith("COMMITTED") || l.startsWith("OPENED")) {
        return l;
      }
    }
    return "none";
  }

  private static List<String> first(java.util.Collection<String> keys) {
    return keys.stream().limit(5).toList();
  }

  /**
   * {@code planned} as the directory allows: a pause or kill after batch K of a migration that has
   * fewer batches left comes after batch K modulo those (a pause after the commit point if none is
   * left); after the commit point nothing is migrated, so the child is killed once open.
   */
  private static Kill feasible(Fixture f, Kill planned, int moved, boolean committed) {
    if (committed) {
      return new Kill(Point.RUN, Integer.MAX_VALUE);
    }
    int left = (f.bookkeeping() - moved + batchRecords() - 1) / batchRecords();
    if (planned.point() != Point.COMMIT && planned.batch() > left) {
      return left == 0
          ? new Kill(Point.COMMIT, 0)
          : new Kill(planned.point(), 1 + (planned.batch() - 1) % left);
    }
    return planned;
  }

  private static String signalOf(Kill kill) {
    return kill.point() == Point.COMMIT ? "COMMITTED" : "BATCH " + kill.batch();
  }

  private static int batchRecords() {
    return Layout3Migration.BATCH_RECORDS;
  }

  // ---------------------------------------------------------------- the child

  /**
   * Opens the directory (migrating it) with the hooks reporting progress on standard output; pauses
   * forever at the point it was given ({@code PAUSE:K}, {@code COMMIT:0}) or goes on ({@code
   * RUN:K}), to be killed there. Arguments: directory, durability, clock millis, kill point,
   * configuration (HOCON).
   */
  static final class Child {
    public static void main(String[] args) throws Exception {
      Path dir = Path.of(args[0]);
      Durability durability = Durability.valueOf(args[1]);
      long clock = Long.parseLong(args[2]);
      String[] kill = args[3].split(":");
      Point point = Point.valueOf(kill[0]);
      int at = Integer.parseInt(kill[1]);
      CountDownLatch never = new CountDownLatch(1);
      Layout3Migration.afterBatch =
          n -> {
            System.out.println("BATCH " + n);
            System.out.flush();
            if (point == Point.PAUSE && n == at) {
              awaitKill(never);
            }
          };
      Layout3Migration.afterCommit =
          () -> {
            System.out.println("COMMITTED");
            System.out.flush();
            if (point == Point.COMMIT) {
              awaitKill(never);
            }
          };
      try {
        StorageBackend be = open(dir, durability, clock, args[4]); // killed open, never closed
        System.out.println("OPENED " + be.name());
      } catch (RuntimeException e) {
        System.out.println("FAILED " + e);
        e.printStackTrace(System.out);
        System.out.flush();
        System.exit(2);
      }
      System.out.flush();
      awaitKill(never);
    }

    private static void awaitKill(CountDownLatch never) {
      try {
        never.await(); // the parent kills this process here
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      throw new IllegalStateException("the child was to be killed, not interrupted");
    }
  }

  // ---------------------------------------------------------------- the layout-3 directory

  /**
   * A layout-3 directory and what it holds: its raw records (hex key to hex value, all in {@code
   * records}), how many are bookkeeping, and the API's view of its content ({@link #digest}).
   */
  record Fixture(Path dir, Map<String, String> records, int bookkeeping, List<String> digest) {
    int batches() {
      return (bookkeeping + batchRecords() - 1) / batchRecords();
    }
  }

  /**
   * Writes about {@link #BATCHES} batches worth of bookkeeping through the API (entries with a TTL,
   * whose expiry-index records are bookkeeping; many small logs, each with a position and a catalog
   * record), plus entries without TTL, a deleted key, truncated logs and snapshots; then demotes it
   * to layout 3.
   */
  private static synchronized Fixture fixture() throws Exception {
    if (fixture == null) {
      fixture = writeFixture(shared.resolve("layout3"));
    }
    return fixture;
  }

  /** Durability is no property of the directory: the fixture is written at {@code normal}. */
  private static Fixture writeFixture(Path dir) throws Exception {
    Durability durability = Durability.NORMAL;
    Rocks.ManualClock clock = new Rocks.ManualClock(CLOCK);
    int entries = BATCHES * batchRecords();
    int logs = batchRecords() / 2;
    try (StorageBackend be = open(dir, durability, clock, "")) {
      Layout3FixtureWriter.writeUsers(be.keyValue("users"));
      KeyValueStore bulk = be.keyValue("bulk");
      for (int i = 0; i < entries; i++) {
        if (i % 10 == 0) {
          bulk.put(b("k" + i), b("v" + i));
        } else {
          bulk.put(b("k" + i), b("v" + i), Duration.ofDays(1 + i % 3));
        }
      }
      for (int j = 0; j < logs; j++) {
        LogStore log = be.log("log-" + j);
        for (int n = 0; n <= j % 3; n++) {
          log.append(b("log-" + j + "-" + n));
          clock.advance(Duration.ofMillis(1));
        }
        if (j % 4 == 0) {
          log.truncateBefore(1);
        } else if (j % 7 == 0) {
          log.truncateBefore(log.nextOffset()); // empty, position kept
        }
      }
      Random r = new Random(7);
      for (long v : new long[] {1, 2}) {
        byte[] data = new byte[10_000 + (int) v * 3_000];
        r.nextBytes(data);
        be.snapshots("state").save(v, data);
        clock.advance(Duration.ofMillis(100));
      }
      be.snapshots("other").save(5, b("five"));
    }
    List<String> digest;
    try (StorageBackend be = open(dir, durability)) {
      digest = digest(be);
    }
    demote(dir);
    Layout3FixtureWriter.clean(dir);
    Map<String, Map<String, String>> image = raw(dir);
    assertThat(image.keySet()).containsExactlyInAnyOrder("default", RocksStorageEngine.CF_RECORDS);
    assertThat(layoutVersion(image)).isEqualTo(RocksStorageEngine.LAYOUT_VERSION_ONE_FAMILY);
    Map<String, String> records = image.get(RocksStorageEngine.CF_RECORDS);
    int bookkeeping = (int) records.keySet().stream().filter(Rocks::bookkeeping).count();
    assertThat(bookkeeping).isGreaterThan(entries * 8 / 10 + logs);
    return new Fixture(dir, records, bookkeeping, digest);
  }

  /**
   * Turns a layout-4 directory, closed, back into layout 3: every record of {@code base} put into
   * {@code records} (refused if it is there already), {@code base} dropped, {@code layout-version =
   * 3}, flushed (a closed Cairn directory holds its data in SST files).
   */
  static void demote(Path dir) throws Exception {
    List<String> names = Rocks.families(dir);
    assertThat(names)
        .containsExactlyInAnyOrder(
            "default", RocksStorageEngine.CF_RECORDS, RocksStorageEngine.CF_BASE);
    List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
    for (String n : names) {
      descriptors.add(new ColumnFamilyDescriptor(n.getBytes(StandardCharsets.UTF_8)));
    }
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    try (DBOptions options = new DBOptions().setAtomicFlush(true);
        RocksDB db = RocksDB.open(options, dir.toString(), descriptors, handles);
        WriteOptions synced = new WriteOptions().setSync(true);
        FlushOptions flush = new FlushOptions().setWaitForFlush(true)) {
      ColumnFamilyHandle meta = handles.get(names.indexOf("default"));
      ColumnFamilyHandle records = handles.get(names.indexOf(RocksStorageEngine.CF_RECORDS));
      ColumnFamilyHandle base = handles.get(names.indexOf(RocksStorageEngine.CF_BASE));
      try (WriteBatch batch = new WriteBatch();
          var it = db.newIterator(base)) {
        for (it.seekToFirst(); it.isValid(); it.next()) {
          if (db.get(records, it.key()) != null) {
            throw new AssertionError("record " + hex(it.key()) + " is in both families");
          }
          batch.put(records, it.key(), it.value());
        }
        it.status();
        batch.put(
            meta,
            Layout.LAYOUT_VERSION_KEY,
            Layout.intBytes(RocksStorageEngine.LAYOUT_VERSION_ONE_FAMILY));
        db.write(synced, batch);
      }
      db.dropColumnFamily(base);
      db.flush(flush, List.of(meta, records));
      for (ColumnFamilyHandle h : handles) {
        h.close();
      }
    }
  }

  // ---------------------------------------------------------------- reading

  private static StorageBackend open(Path dir, Durability durability) {
    return open(dir, durability, CLOCK, "");
  }

  private static StorageBackend open(Path dir, Durability durability, long clock, String hocon) {
    return open(dir, durability, new Rocks.ManualClock(clock), hocon);
  }

  /**
   * The configuration of the migrating opens: at {@code none}, 64 KiB memtables, so that RocksDB
   * flushes (atomically, all families) several times during the move and a kill leaves some batches
   * on disk and loses the rest; at {@code normal}, the defaults.
   */
  private static String settings(Durability durability) {
    return durability == Durability.NONE ? "advanced.cf-options { write_buffer_size = 65536 }" : "";
  }

  /** The way the fixture, the child and the check open the directory: one clock, no expiry. */
  private static StorageBackend open(
      Path dir, Durability durability, Rocks.ManualClock clock, String hocon) {
    return new RocksDbBackendProvider()
        .open(
            BackendContext.builder("mig", RocksDbBackendProvider.TYPE)
                .dataDir(dir)
                .durability(durability)
                .metrics(new MetricRegistry())
                .clock(clock)
                .config(ConfigFactory.parseString("snapshot-chunk-size = 4KiB\n" + hocon))
                .build());
  }

  /**
   * Everything a user can read, one line per fact: stores; every entry with version and expiry;
   * every log's first and next offset and its records with offset, append time and payload; every
   * snapshot's info and the SHA-256 of its data.
   */
  static List<String> digest(StorageBackend be) throws Exception {
    List<String> out = new ArrayList<>();
    HexFormat hex = HexFormat.of();
    for (StoreId id : be.stores()) {
      String s = id.kind() + ":" + id.name();
      out.add("store " + s);
      switch (id.kind()) {
        case KEY_VALUE -> {
          try (CloseableIterator<Entry> it = be.keyValue(id.name()).scan(null, null)) {
            while (it.hasNext()) {
              Entry e = it.next();
              out.add(
                  s
                      + " "
                      + hex.formatHex(e.key())
                      + " v"
                      + e.version()
                      + " exp "
                      + e.expiresAtMillis()
                      + " = "
                      + hex.formatHex(e.value()));
            }
          }
        }
        case LOG -> {
          LogStore log = be.log(id.name());
          out.add(s + " first " + log.firstOffset() + " next " + log.nextOffset());
          for (long at = log.firstOffset(); at < log.nextOffset(); ) {
            List<LogRecord> page = log.read(at, 1_000);
            assertThat(page).as(s + " from " + at).isNotEmpty();
            for (LogRecord rec : page) {
              out.add(
                  s
                      + " @"
                      + rec.offset()
                      + " t "
                      + rec.appendedAtMillis()
                      + " = "
                      + hex.formatHex(rec.payload()));
              at = rec.offset() + 1;
            }
          }
        }
        case SNAPSHOT -> {
          for (SnapshotInfo info : be.snapshots(id.name()).list()) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            try (InputStream in = be.snapshots(id.name()).load(info.version())) {
              sha.update(in.readAllBytes());
            }
            out.add(s + " " + info + " sha256 " + hex.formatHex(sha.digest()));
          }
        }
      }
    }
    return out;
  }

  /**
   * Every family's records, hex key to hex value, read by RocksDB opened read-only: the WAL of a
   * killed process is replayed in memory only, so the image the next open sees is not changed.
   */
  static Map<String, Map<String, String>> raw(Path dir) throws Exception {
    List<String> names = Rocks.families(dir);
    List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
    for (String n : names) {
      descriptors.add(new ColumnFamilyDescriptor(n.getBytes(StandardCharsets.UTF_8)));
    }
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    Map<String, Map<String, String>> out = new TreeMap<>();
    try (DBOptions options = new DBOptions();
        RocksDB db = RocksDB.openReadOnly(options, dir.toString(), descriptors, handles)) {
      for (int i = 0; i < names.size(); i++) {
        Map<String, String> records = new TreeMap<>();
        try (var it = db.newIterator(handles.get(i))) {
          for (it.seekToFirst(); it.isValid(); it.next()) {
            records.put(hex(it.key()), hex(it.value()));
          }
          it.status();
        }
        out.put(names.get(i), records);
      }
      for (ColumnFamilyHandle h : handles) {
        h.close();
      }
    }
    return out;
  }

  private static Integer layoutVersion(Map<String, Map<String, String>> image) {
    String v = image.get("default").get(hex(Layout.LAYOUT_VERSION_KEY));
    return v == null ? null : Layout.getInt(HexFormat.of().parseHex(v), 0);
  }

  private static String hex(byte[] b) {
    return HexFormat.of().formatHex(b);
  }
}
