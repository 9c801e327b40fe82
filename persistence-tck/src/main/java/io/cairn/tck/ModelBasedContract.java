package io.cairn.tck;

import io.cairn.persistence.Capability;
import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.SnapshotInfo;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.Transaction;
import io.cairn.persistence.VersionConflictException;
import io.cairn.persistence.spi.Bytes;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Model-based test: seeded random sequences of operations (put, put with TTL, compare-and-set,
 * compare-and-delete, delete, putAll, get, scan, scanPrefix, clock advance, purgeExpired, append,
 * appendAll, truncate, read, snapshot save/load/delete/retainLatest, transactions that commit or
 * abort, and reopen when the backend is {@link Capability#DURABLE}) run against the backend and
 * against a simple in-memory reference model. The whole visible state (every namespace scanned,
 * every log read) is compared after every step.
 *
 * <p>On a mismatch the failure names the seed, the step and the last operations, and how to replay
 * exactly that run. System properties:
 *
 * <ul>
 *   <li>{@code -DtckModelSeeds=N} runs N seeds (default 20);
 *   <li>{@code -DtckModelSeed=S} runs only seed S (to replay a failure);
 *   <li>{@code -DtckModelOps=N} operations per seed (default 300).
 * </ul>
 *
 * <p>Versions are not predicted exactly (the SPI only demands 1 for a new key and strictly
 * increasing afterwards): the model checks those rules and then adopts the version the backend
 * returned. TTLs are odd multiples of 500 ms and the clock moves in whole seconds, so no step ever
 * lands exactly on an expiry instant.
 */
public abstract class ModelBasedContract extends ContractSupport {
  public static final String SEEDS_PROPERTY = "tckModelSeeds";
  public static final String ONE_SEED_PROPERTY = "tckModelSeed";
  public static final String OPS_PROPERTY = "tckModelOps";

  private static final String[] NAMESPACES = {"model-a", "model-b"};
  private static final String[] LOGS = {"model-log-a", "model-log-b"};
  private static final String SNAPSHOTS = "model-snap";
  private static final byte[][] KEYS = {
    bytes("a"),
    bytes("ab"),
    bytes("abc"),
    bytes("b"),
    bytes("k1"),
    bytes("k2"),
    bytes("k3"),
    raw(0x00),
    raw(0x00, 0x00),
    raw(0x7F),
    raw(0x80),
    raw(0x80, 0x00),
    raw(0xC3, 0xA9),
    raw(0xFF),
    raw(0xFF, 0xFF),
  };
  private static final byte[][] PREFIXES = {
    bytes("a"), bytes("ab"), bytes("k"), raw(0x00), raw(0x80), raw(0xFF), bytes("z")
  };

  /** The seeds to run: see the class comment. */
  public static LongStream seeds() {
    Long one = Long.getLong(ONE_SEED_PROPERTY);
    if (one != null) {
      return LongStream.of(one);
    }
    int n = Integer.getInteger(SEEDS_PROPERTY, 20);
    return LongStream.range(0, n).map(i -> 0xCA1_0000L + i);
  }

  /** Operations per seed. */
  protected int operationsPerSeed() {
    return Integer.getInteger(OPS_PROPERTY, 300);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("io.cairn.tck.ModelBasedContract#seeds")
  public void randomOperationsMatchTheModel(long seed) {
    new Run(seed).execute();
  }

  // ---- the reference model ----

  private record MEntry(byte[] value, long version, long expiresAt) {
    boolean liveAt(long now) {
      return expiresAt == 0 || now < expiresAt;
    }
  }

  private static final class MLog {
    long first;
    long next;
    final TreeMap<Long, byte[]> records = new TreeMap<>();

    MLog copy() {
      MLog c = new MLog();
      c.first = first;
      c.next = next;
      c.records.putAll(records);
      return c;
    }
  }

  private static final class Model {
    final Map<String, TreeMap<byte[], MEntry>> kv = new HashMap<>();
    final Map<String, MLog> logs = new HashMap<>();
    final TreeMap<Long, SnapshotInfo> snapshots = new TreeMap<>();
    final Map<Long, Long> snapshotSeeds = new HashMap<>();

    Model() {
      for (String ns : NAMESPACES) {
        kv.put(ns, new TreeMap<>(Bytes.UNSIGNED));
      }
      for (String l : LOGS) {
        logs.put(l, new MLog());
      }
    }

    Model copy() {
      Model c = new Model();
      kv.forEach((n, m) -> c.kv.get(n).putAll(m));
      logs.forEach((n, l) -> c.logs.put(n, l.copy()));
      c.snapshots.putAll(snapshots);
      c.snapshotSeeds.putAll(snapshotSeeds);
      return c;
    }

    MEntry live(String ns, byte[] key, long now) {
      MEntry e = kv.get(ns).get(key);
      return e != null && e.liveAt(now) ? e : null;
    }

    long version(String ns, byte[] key, long now) {
      MEntry e = live(ns, key, now);
      return e == null ? 0 : e.version();
    }
  }

  /** Thrown inside a transaction to make it abort. */
  private static final class Abort extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Abort() {
      super("model-based test aborts this transaction on purpose", null, false, false);
    }
  }

  // ---- one seeded run ----

  private final class Run {
    private final long seed;
    private final Random rnd;
    private final Deque<String> history = new ArrayDeque<>();
    private final boolean durable;
    private Model model = new Model();
    private StorageBackend backend;
    private int step;
    private String kind = "?";

    Run(long seed) {
      this.seed = seed;
      this.rnd = new Random(seed);
      this.backend = backend();
      this.durable = backend.capabilities().contains(Capability.DURABLE);
    }

    void execute() {
      int ops = operationsPerSeed();
      for (step = 0; step < ops; step++) {
        String op = "?";
        try {
          kind = "?";
          op = oneStep();
          remember(op);
          compareEverything();
        } catch (Throwable t) {
          throw new AssertionError(
              "Model-based run failed: seed="
                  + seed
                  + " step="
                  + step
                  + " op="
                  + (op.equals("?") ? kind : op)
                  + ": "
                  + t.getMessage()
                  + "\nReplay with -D"
                  + ONE_SEED_PROPERTY
                  + "="
                  + seed
                  + ". Last operations (oldest first):\n  "
                  + String.join("\n  ", history),
              t);
        }
      }
    }

    private void remember(String op) {
      history.addLast(step + ": " + op);
      if (history.size() > 15) {
        history.removeFirst();
      }
    }

    private long now() {
      return clock().millis();
    }

    private String oneStep() {
      int roll = rnd.nextInt(durable ? 102 : 100);
      if (roll >= 100) {
        kind = "reopen";
        backend = reopen();
        return "reopen";
      }
      if (roll < 14) {
        kind = "put";
        return put(false);
      } else if (roll < 21) {
        kind = "put-ttl";
        return put(true);
      } else if (roll < 30) {
        kind = "cas";
        return cas();
      } else if (roll < 33) {
        kind = "compareAndDelete";
        return compareAndDelete();
      } else if (roll < 40) {
        kind = "delete";
        return delete();
      } else if (roll < 45) {
        kind = "putAll";
        return putAll();
      } else if (roll < 52) {
        kind = "get";
        return get();
      } else if (roll < 57) {
        kind = "scan";
        return scan();
      } else if (roll < 60) {
        kind = "scanPrefix";
        return scanPrefix();
      } else if (roll < 66) {
        long ms = 1000L * rnd.nextInt(4);
        clock().advanceMillis(ms);
        return "advance-clock " + ms + "ms";
      } else if (roll < 69) {
        kind = "purge";
        return purge();
      } else if (roll < 77) {
        kind = "append";
        return append();
      } else if (roll < 81) {
        kind = "appendAll";
        return appendAll();
      } else if (roll < 84) {
        kind = "truncate";
        return truncate();
      } else if (roll < 88) {
        kind = "read";
        return read();
      } else if (roll < 91) {
        kind = "snapshot";
        return snapshot();
      } else {
        kind = "transaction";
        return transaction();
      }
    }

    // ---- key-value steps ----

    private String ns() {
      return NAMESPACES[rnd.nextInt(NAMESPACES.length)];
    }

    private byte[] key() {
      return KEYS[rnd.nextInt(KEYS.length)].clone();
    }

    private byte[] value() {
      byte[] v = new byte[rnd.nextInt(9)];
      rnd.nextBytes(v);
      return v;
    }

    private Duration ttl() {
      return Duration.ofMillis(500 + 1000L * rnd.nextInt(6));
    }

    private void checkNewVersion(long before, long returned, String what) {
      if (before == 0) {
        check(returned > 0, what + ": a new key must get a positive version, got " + returned);
      } else {
        check(returned > before, what + ": version must grow from " + before + ", got " + returned);
      }
    }

    private String put(boolean withTtl) {
      String ns = ns();
      byte[] k = key();
      byte[] v = value();
      Duration ttl = withTtl ? ttl() : null;
      long before = model.version(ns, k, now());
      KeyValueStore store = backend.keyValue(ns);
      long version = ttl == null ? store.put(k, v) : store.put(k, v, ttl);
      String op = "put " + ns + " " + Bytes.toDisplay(k) + (ttl == null ? "" : " ttl " + ttl);
      checkNewVersion(before, version, op);
      model.kv.get(ns).put(k, new MEntry(v, version, expiry(ttl)));
      return op;
    }

    private long expiry(Duration ttl) {
      return ttl == null ? 0 : now() + ttl.toMillis();
    }

    private String cas() {
      String ns = ns();
      byte[] k = key();
      byte[] v = value();
      long current = model.version(ns, k, now());
      int pick = rnd.nextInt(10);
      long expected = pick < 6 ? current : pick < 8 ? 0 : current + 1 + rnd.nextInt(3);
      Duration ttl = rnd.nextInt(4) == 0 ? ttl() : null;
      String op =
          "cas "
              + ns
              + " "
              + Bytes.toDisplay(k)
              + " expect "
              + expected
              + " (have "
              + current
              + ")";
      try {
        long version = backend.keyValue(ns).compareAndSet(k, expected, v, ttl);
        check(expected == current, op + ": succeeded but should conflict");
        checkNewVersion(current, version, op);
        model.kv.get(ns).put(k, new MEntry(v, version, expiry(ttl)));
      } catch (VersionConflictException e) {
        check(expected != current, op + ": conflicted but should succeed: " + e.getMessage());
        check(
            e.actualVersion() == current,
            op
                + ": conflict reports actual version "
                + e.actualVersion()
                + ", model has "
                + current);
      }
      return op;
    }

    private String compareAndDelete() {
      String ns = ns();
      byte[] k = key();
      long current = model.version(ns, k, now());
      long expected = rnd.nextInt(4) == 0 ? current + 1 : current;
      String op = "compare-and-delete " + ns + " " + Bytes.toDisplay(k) + " expect " + expected;
      boolean shouldWork = current != 0 && expected == current;
      try {
        backend.keyValue(ns).compareAndDelete(k, expected);
        check(shouldWork, op + ": succeeded but should conflict");
        model.kv.get(ns).remove(k);
      } catch (VersionConflictException e) {
        check(!shouldWork, op + ": conflicted but should succeed");
        check(
            e.actualVersion() == current, op + ": actual " + e.actualVersion() + " != " + current);
      }
      return op;
    }

    private String delete() {
      String ns = ns();
      byte[] k = key();
      boolean live = model.live(ns, k, now()) != null;
      boolean removed = backend.keyValue(ns).delete(k);
      String op = "delete " + ns + " " + Bytes.toDisplay(k);
      check(removed == live, op + ": returned " + removed + ", model says live=" + live);
      model.kv.get(ns).remove(k);
      return op;
    }

    private String putAll() {
      String ns = ns();
      int n = 1 + rnd.nextInt(5);
      List<KeyValue> batch = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        batch.add(new KeyValue(key(), value()));
      }
      Map<String, Long> before = new HashMap<>();
      Map<String, Integer> occurrences = new HashMap<>();
      for (KeyValue e : batch) {
        String id = Bytes.toDisplay(e.key());
        before.putIfAbsent(id, model.version(ns, e.key(), now()));
        occurrences.merge(id, 1, Integer::sum);
      }
      backend.keyValue(ns).putAll(batch);
      String op = "putAll " + ns + " " + n + " entries";
      for (KeyValue e : batch) {
        String id = Bytes.toDisplay(e.key());
        Entry got = backend.keyValue(ns).getEntry(e.key()).orElse(null);
        check(got != null, op + ": " + id + " missing after putAll");
        long b = before.get(id);
        if (b == 0 && occurrences.get(id) == 1) {
          check(got.version() > 0, op + ": new key " + id + " has version " + got.version());
        } else {
          check(got.version() > b, op + ": " + id + " version " + got.version() + " <= " + b);
        }
        model.kv.get(ns).put(e.key(), new MEntry(e.value(), got.version(), 0));
      }
      // values: the later duplicate wins, which the model's in-order puts reproduce
      return op;
    }

    private String get() {
      String ns = ns();
      byte[] k = key();
      String op = "get " + ns + " " + Bytes.toDisplay(k);
      compareEntry(op, k, model.live(ns, k, now()), backend.keyValue(ns).getEntry(k).orElse(null));
      byte[] plain = backend.keyValue(ns).get(k);
      MEntry m = model.live(ns, k, now());
      check(
          m == null ? plain == null : Arrays.equals(plain, m.value()),
          op + ": get() disagrees with the model");
      return op;
    }

    private String scan() {
      String ns = ns();
      byte[] from = rnd.nextInt(4) == 0 ? null : key();
      byte[] to = rnd.nextInt(4) == 0 ? null : key();
      String op = "scan " + ns + " [" + Bytes.toDisplay(from) + ", " + Bytes.toDisplay(to) + ")";
      List<Map.Entry<byte[], MEntry>> expected = new ArrayList<>();
      for (Map.Entry<byte[], MEntry> e : model.kv.get(ns).entrySet()) {
        boolean inRange =
            (from == null || Bytes.UNSIGNED.compare(e.getKey(), from) >= 0)
                && (to == null || Bytes.UNSIGNED.compare(e.getKey(), to) < 0);
        if (inRange && e.getValue().liveAt(now())) {
          expected.add(e);
        }
      }
      compareScan(op, expected, backend.keyValue(ns).scan(from, to));
      return op;
    }

    private String scanPrefix() {
      String ns = ns();
      byte[] prefix = PREFIXES[rnd.nextInt(PREFIXES.length)];
      String op = "scanPrefix " + ns + " " + Bytes.toDisplay(prefix);
      List<Map.Entry<byte[], MEntry>> expected = new ArrayList<>();
      for (Map.Entry<byte[], MEntry> e : model.kv.get(ns).entrySet()) {
        byte[] k = e.getKey();
        boolean match =
            k.length >= prefix.length
                && Arrays.equals(k, 0, prefix.length, prefix, 0, prefix.length);
        if (match && e.getValue().liveAt(now())) {
          expected.add(e);
        }
      }
      compareScan(op, expected, backend.keyValue(ns).scanPrefix(prefix));
      return op;
    }

    private String purge() {
      String ns = ns();
      long expired = model.kv.get(ns).values().stream().filter(e -> !e.liveAt(now())).count();
      long removed = backend.keyValue(ns).purgeExpired();
      String op = "purgeExpired " + ns;
      check(
          removed >= 0 && removed <= expired,
          op + ": removed " + removed + " but only " + expired + " entries had expired");
      model.kv.get(ns).values().removeIf(e -> !e.liveAt(now()));
      return op;
    }

    // ---- log steps ----

    private String logName() {
      return LOGS[rnd.nextInt(LOGS.length)];
    }

    private String append() {
      String name = logName();
      byte[] p = value();
      MLog m = model.logs.get(name);
      long offset = backend.log(name).append(p);
      String op = "append " + name;
      check(offset == m.next, op + ": got offset " + offset + ", expected " + m.next);
      m.records.put(m.next++, p);
      return op;
    }

    private String appendAll() {
      String name = logName();
      List<byte[]> ps = new ArrayList<>();
      int n = rnd.nextInt(5);
      for (int i = 0; i < n; i++) {
        ps.add(value());
      }
      MLog m = model.logs.get(name);
      long first = backend.log(name).appendAll(ps);
      String op = "appendAll " + name + " " + n + " records";
      check(first == m.next, op + ": got first offset " + first + ", expected " + m.next);
      for (byte[] p : ps) {
        m.records.put(m.next++, p);
      }
      return op;
    }

    private String truncate() {
      String name = logName();
      MLog m = model.logs.get(name);
      long target = Math.max(0, m.first - 2 + rnd.nextInt((int) (m.next - m.first) + 6));
      long removed = backend.log(name).truncateBefore(target);
      long newFirst = Math.max(m.first, Math.min(target, m.next));
      String op = "truncateBefore " + name + " " + target;
      check(
          removed == newFirst - m.first,
          op + ": removed " + removed + ", expected " + (newFirst - m.first));
      m.records.headMap(newFirst, false).clear();
      m.first = newFirst;
      return op;
    }

    private String read() {
      String name = logName();
      MLog m = model.logs.get(name);
      long from = Math.max(0, m.first - 3 + rnd.nextInt((int) (m.next - m.first) + 7));
      int max = 1 + rnd.nextInt(10);
      String op = "read " + name + " from " + from + " max " + max;
      List<LogRecord> got = backend.log(name).read(from, max);
      List<Map.Entry<Long, byte[]>> expected =
          new ArrayList<>(m.records.tailMap(Math.max(from, m.first), true).entrySet());
      if (expected.size() > max) {
        expected = expected.subList(0, max);
      }
      compareRecords(op, expected, got);
      return op;
    }

    // ---- snapshot steps ----

    private String snapshot() {
      var store = backend.snapshots(SNAPSHOTS);
      long version = rnd.nextInt(6);
      int what = rnd.nextInt(4);
      if (what == 0) {
        long dataSeed = rnd.nextLong();
        long size = rnd.nextInt(5000);
        SnapshotInfo info = store.save(version, Fixtures.generatedStream(dataSeed, size));
        SnapshotInfo expected =
            new SnapshotInfo(version, size, Fixtures.crc32cOf(dataSeed, size), now());
        check(info.equals(expected), "save snapshot " + version + ": " + info + " != " + expected);
        model.snapshots.put(version, info);
        model.snapshotSeeds.put(version, dataSeed);
        return "save snapshot " + version + " (" + size + " bytes)";
      } else if (what == 1) {
        SnapshotInfo info = model.snapshots.get(version);
        if (info == null) {
          try {
            store.load(version).close();
            check(false, "load snapshot " + version + ": should not exist");
          } catch (NoSuchElementException | java.io.IOException expected) {
            check(expected instanceof NoSuchElementException, "load: " + expected);
          }
        } else {
          Fixtures.assertStreamEquals(
              store.load(version), model.snapshotSeeds.get(version), info.sizeBytes());
        }
        return "load snapshot " + version;
      } else if (what == 2) {
        boolean existed = store.delete(version);
        check(
            existed == model.snapshots.containsKey(version),
            "delete snapshot " + version + ": returned " + existed);
        model.snapshots.remove(version);
        return "delete snapshot " + version;
      } else {
        int keep = 1 + rnd.nextInt(3);
        int removed = store.retainLatest(keep);
        int expected = Math.max(0, model.snapshots.size() - keep);
        check(
            removed == expected,
            "retainLatest " + keep + ": removed " + removed + " != " + expected);
        while (model.snapshots.size() > keep) {
          model.snapshots.pollFirstEntry();
        }
        return "retainLatest " + keep;
      }
    }

    // ---- transactions ----

    private String transaction() {
      boolean abort = rnd.nextInt(4) == 0;
      int n = 1 + rnd.nextInt(4);
      Model pending = model.copy();
      StringBuilder op = new StringBuilder(abort ? "transaction (abort)" : "transaction");
      try {
        backend.inTransaction(
            tx -> {
              for (int i = 0; i < n; i++) {
                op.append(" | ").append(txStep(tx, pending));
              }
              if (abort) {
                throw new Abort();
              }
              return null;
            });
        check(!abort, op + ": committed although the work threw");
        model = pending;
      } catch (Abort expected) {
        check(abort, op + ": unexpected abort");
      }
      return op.toString();
    }

    private String txStep(Transaction tx, Model pending) {
      int kind = rnd.nextInt(5);
      if (kind == 4) {
        String name = logName();
        byte[] p = value();
        MLog m = pending.logs.get(name);
        long offset = tx.log(name).append(p);
        check(offset == m.next, "tx append " + name + ": offset " + offset + " != " + m.next);
        m.records.put(m.next++, p);
        return "append " + name;
      }
      String ns = ns();
      byte[] k = key();
      Transaction.KeyValueWriter w = tx.keyValue(ns);
      long current = pending.version(ns, k, now());
      String id = ns + " " + Bytes.toDisplay(k);
      Entry seen = w.getEntry(k).orElse(null);
      compareEntry("tx get " + id, k, pending.live(ns, k, now()), seen);
      if (kind == 0 || kind == 1) {
        byte[] v = value();
        Duration ttl = kind == 1 ? ttl() : null;
        long version = w.put(k, v, ttl);
        checkNewVersion(current, version, "tx put " + id);
        pending.kv.get(ns).put(k, new MEntry(v, version, expiry(ttl)));
        return "put " + id + (ttl == null ? "" : " ttl " + ttl);
      } else if (kind == 2) {
        boolean removed = w.delete(k);
        check(removed == (current != 0), "tx delete " + id + ": returned " + removed);
        pending.kv.get(ns).remove(k);
        return "delete " + id;
      } else {
        byte[] v = value();
        long version = w.compareAndSet(k, current, v, null);
        checkNewVersion(current, version, "tx cas " + id);
        pending.kv.get(ns).put(k, new MEntry(v, version, 0));
        return "cas " + id + " expect " + current;
      }
    }

    // ---- comparison ----

    private void compareEverything() {
      long now = now();
      for (String ns : NAMESPACES) {
        List<Map.Entry<byte[], MEntry>> expected = new ArrayList<>();
        for (Map.Entry<byte[], MEntry> e : model.kv.get(ns).entrySet()) {
          if (e.getValue().liveAt(now)) {
            expected.add(e);
          }
        }
        compareScan("state of namespace " + ns, expected, backend.keyValue(ns).scan(null, null));
      }
      for (String name : LOGS) {
        MLog m = model.logs.get(name);
        LogStore log = backend.log(name);
        check(
            log.firstOffset() == m.first,
            "state of log " + name + ": firstOffset " + log.firstOffset() + " != " + m.first);
        check(
            log.nextOffset() == m.next,
            "state of log " + name + ": nextOffset " + log.nextOffset() + " != " + m.next);
        List<LogRecord> got = new ArrayList<>();
        long from = 0;
        while (true) {
          List<LogRecord> page = log.read(from, 256);
          if (page.isEmpty()) {
            break;
          }
          got.addAll(page);
          from = page.get(page.size() - 1).offset() + 1;
        }
        compareRecords("state of log " + name, new ArrayList<>(m.records.entrySet()), got);
      }
      List<SnapshotInfo> snaps = backend.snapshots(SNAPSHOTS).list();
      check(
          snaps.equals(new ArrayList<>(model.snapshots.values())),
          "state of snapshots: " + snaps + " != " + model.snapshots.values());
      check(
          backend
              .snapshots(SNAPSHOTS)
              .latest()
              .equals(Optional.ofNullable(model.snapshots.lastEntry()).map(Map.Entry::getValue)),
          "latest snapshot differs from the model");
    }

    private void compareScan(
        String op, List<Map.Entry<byte[], MEntry>> expected, CloseableIterator<Entry> it) {
      List<Entry> got = new ArrayList<>();
      try (it) {
        while (it.hasNext()) {
          got.add(it.next());
        }
      }
      check(
          got.size() == expected.size(),
          op + ": backend returned " + render(got) + ", model has " + renderModel(expected));
      for (int i = 0; i < got.size(); i++) {
        compareEntry(
            op + " item " + i, expected.get(i).getKey(), expected.get(i).getValue(), got.get(i));
      }
    }

    private void compareEntry(String op, byte[] key, MEntry expected, Entry got) {
      if (expected == null) {
        if (got != null) {
          check(false, op + ": backend has " + render(List.of(got)) + ", model has nothing");
        }
        return;
      }
      check(got != null, op + ": backend has nothing, model has version " + expected.version());
      check(
          Arrays.equals(got.key(), key),
          op + ": key " + Bytes.toDisplay(got.key()) + " != " + Bytes.toDisplay(key));
      check(
          Arrays.equals(got.value(), expected.value()),
          op
              + ": value "
              + Bytes.toDisplay(got.value())
              + " != "
              + Bytes.toDisplay(expected.value()));
      check(
          got.version() == expected.version(),
          op + ": version " + got.version() + " != " + expected.version());
      check(
          got.expiresAtMillis() == expected.expiresAt(),
          op + ": expiresAt " + got.expiresAtMillis() + " != " + expected.expiresAt());
    }

    private void compareRecords(
        String op, List<Map.Entry<Long, byte[]>> expected, List<LogRecord> got) {
      check(
          got.size() == expected.size(),
          op + ": " + got.size() + " records, model has " + expected.size());
      for (int i = 0; i < got.size(); i++) {
        check(
            got.get(i).offset() == expected.get(i).getKey(),
            op
                + ": record "
                + i
                + " has offset "
                + got.get(i).offset()
                + " != "
                + expected.get(i).getKey());
        check(
            Arrays.equals(got.get(i).payload(), expected.get(i).getValue()),
            op + ": payload at offset " + got.get(i).offset() + " differs");
      }
    }

    private String render(List<Entry> entries) {
      StringBuilder sb = new StringBuilder("[");
      for (Entry e : entries) {
        sb.append(Bytes.toDisplay(e.key())).append("@v").append(e.version()).append(' ');
      }
      return sb.append(']').toString();
    }

    private String renderModel(List<Map.Entry<byte[], MEntry>> entries) {
      StringBuilder sb = new StringBuilder("[");
      for (Map.Entry<byte[], MEntry> e : entries) {
        sb.append(Bytes.toDisplay(e.getKey()))
            .append("@v")
            .append(e.getValue().version())
            .append(' ');
      }
      return sb.append(']').toString();
    }

    private void check(boolean ok, String message) {
      if (!ok) {
        throw new AssertionError(message);
      }
    }
  }
}
