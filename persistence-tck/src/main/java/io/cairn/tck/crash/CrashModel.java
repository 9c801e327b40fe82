package io.cairn.tck.crash;

import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.Progress;
import io.cairn.persistence.SnapshotInfo;
import io.cairn.persistence.SnapshotStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.VerifyReport;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.zip.CRC32C;

/**
 * What the store must contain after each crash, built from the journals of all cycles so far.
 *
 * <p>Rules checked after every kill:
 *
 * <ul>
 *   <li>every key holds its last acknowledged value (absent after an acknowledged delete) with the
 *       acknowledged version, or the value of the one operation of its thread that was in flight;
 *       no key holds anything else;
 *   <li>an in-flight {@code putAll} is visible entirely or not at all;
 *   <li>the log is gap-free from offset 0 to {@code nextOffset()}; every acknowledged append is at
 *       its acknowledged offset; every record is one the workload wrote; an in-flight {@code
 *       appendAll} is visible entirely (consecutively) or not at all;
 *   <li>the newest acknowledged snapshot is listed; every listed snapshot loads completely with the
 *       size and CRC-32C the workload computed;
 *   <li>{@link StorageBackend#verify} reports no problem.
 * </ul>
 *
 * Whatever an in-flight operation left behind becomes the expectation for the next cycle. Not
 * thread-safe.
 */
final class CrashModel {
  private record Expect(String value, long version, String cause) {}

  private static final Expect ABSENT = new Expect(null, 0, "initial state");

  private final Map<String, Expect> kv = new HashMap<>();
  private final Map<Long, String> logAt = new HashMap<>();
  private final Set<String> logRequired = new HashSet<>();
  private final Set<String> logKnown = new HashSet<>();
  private final Map<Long, long[]> snapIntents = new HashMap<>();
  private long maxAckedSnapshot = -1;
  private long acknowledged;
  private long lost;
  private long wrong;

  /** Acknowledged operations seen in all journals so far. */
  long acknowledged() {
    return acknowledged;
  }

  /**
   * Acknowledged writes found missing so far: a key without its acknowledged value, an acknowledged
   * append or the newest acknowledged snapshot absent, a listed snapshot that cannot be loaded.
   */
  long lost() {
    return lost;
  }

  /**
   * Wrong data found so far: a key holding a value or version nobody acknowledged, a log record
   * nobody wrote or at the wrong offset, a snapshot with other bytes, a batch or appendAll partly
   * visible.
   */
  long wrong() {
    return wrong;
  }

  /** Applies one cycle's journal, checks {@code backend} and returns the violations found. */
  List<String> check(StorageBackend backend, Map<Integer, List<Journal.Op>> journal) {
    List<Journal.Op> pending = new ArrayList<>();
    for (List<Journal.Op> ops : journal.values()) {
      for (Journal.Op op : ops) {
        learn(op);
        if (op.acked()) {
          apply(op);
          acknowledged++;
        } else {
          pending.add(op);
        }
      }
    }
    List<String> violations = new ArrayList<>();
    checkKeyValues(backend.keyValue(CrashWorkload.KV), pending, violations);
    checkLog(backend.log(CrashWorkload.LOG), pending, violations);
    checkSnapshots(backend.snapshots(CrashWorkload.SNAPSHOTS), violations);
    VerifyReport report = backend.verify(Progress.NONE);
    for (String p : report.problems()) {
      violations.add("verify() reports: " + p);
    }
    return violations;
  }

  private void learn(Journal.Op op) {
    switch (op.kind()) {
      case "APP", "APPALL" -> logKnown.addAll(op.fields());
      case "SNAP" ->
          snapIntents.put(
              Long.parseLong(op.fields().get(0)),
              new long[] {Long.parseLong(op.fields().get(1)), Long.parseLong(op.fields().get(2))});
      default -> {}
    }
  }

  private void apply(Journal.Op op) {
    List<String> f = op.fields();
    String cause = op.toString();
    switch (op.kind()) {
      case "PUT" -> kv.put(f.get(0), new Expect(f.get(1), parseOrUnknown(op.result()), cause));
      case "DEL" -> kv.put(f.get(0), new Expect(null, 0, cause));
      case "BATCH" -> {
        for (int i = 0; i < f.size(); i += 2) {
          kv.put(f.get(i), new Expect(f.get(i + 1), -1, cause));
        }
      }
      case "APP", "APPALL" -> {
        long first = parseOrUnknown(op.result());
        for (int i = 0; i < f.size(); i++) {
          logRequired.add(f.get(i));
          if (first >= 0) {
            logAt.put(first + i, f.get(i));
          }
        }
      }
      case "SNAP" -> maxAckedSnapshot = Math.max(maxAckedSnapshot, Long.parseLong(f.get(0)));
      default -> {}
    }
  }

  private static long parseOrUnknown(String result) {
    try {
      return Long.parseLong(result);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static String str(byte[] b) {
    return b == null ? null : new String(b, StandardCharsets.UTF_8);
  }

  private void checkKeyValues(KeyValueStore store, List<Journal.Op> pending, List<String> out) {
    Map<String, Entry> actual = new HashMap<>();
    try (CloseableIterator<Entry> it = store.scan(null, null)) {
      it.forEachRemaining(e -> actual.put(str(e.key()), e));
    }
    Map<String, List<String>> inFlight = new HashMap<>();
    for (Journal.Op op : pending) {
      List<String> f = op.fields();
      switch (op.kind()) {
        case "PUT" -> inFlight.computeIfAbsent(f.get(0), k -> new ArrayList<>()).add(f.get(1));
        case "DEL" -> inFlight.computeIfAbsent(f.get(0), k -> new ArrayList<>()).add(null);
        case "BATCH" -> {
          int visible = 0;
          for (int i = 0; i < f.size(); i += 2) {
            inFlight.computeIfAbsent(f.get(i), k -> new ArrayList<>()).add(f.get(i + 1));
            Entry e = actual.get(f.get(i));
            if (e != null && f.get(i + 1).equals(str(e.value()))) {
              visible++;
            }
          }
          if (visible != 0 && visible != f.size() / 2) {
            wrong++;
            out.add(
                "putAll is not atomic: "
                    + visible
                    + " of "
                    + f.size() / 2
                    + " entries of the in-flight "
                    + op
                    + " are visible");
          }
        }
        default -> {}
      }
    }
    Set<String> keys = new TreeSet<>(kv.keySet());
    keys.addAll(actual.keySet());
    keys.addAll(inFlight.keySet());
    for (String key : keys) {
      Expect exp = kv.getOrDefault(key, ABSENT);
      Entry e = actual.get(key);
      String found = e == null ? null : str(e.value());
      boolean ok = Objects.equals(found, exp.value());
      if (ok && e != null && exp.version() > 0 && e.version() != exp.version()) {
        wrong++;
        out.add(
            "key "
                + key
                + " has version "
                + e.version()
                + " but "
                + exp.cause()
                + " was acknowledged with version "
                + exp.version());
      }
      if (!ok && !(inFlight.containsKey(key) && inFlight.get(key).contains(found))) {
        if (found == null) {
          lost++;
        } else {
          wrong++;
        }
        out.add(
            "key "
                + key
                + " holds "
                + describe(found)
                + " but the last acknowledged write was "
                + exp.cause()
                + " (expected "
                + describe(exp.value())
                + ")"
                + (inFlight.containsKey(key)
                    ? " and the in-flight write would give " + inFlight.get(key)
                    : ""));
      }
      kv.put(
          key,
          e == null
              ? new Expect(null, 0, "state found after a crash")
              : new Expect(found, e.version(), "state found after a crash"));
    }
  }

  private static String describe(String value) {
    if (value == null) {
      return "nothing (absent)";
    }
    return value.length() > 40 ? value.substring(0, 40) + "..." : value;
  }

  private void checkLog(LogStore log, List<Journal.Op> pending, List<String> out) {
    long first = log.firstOffset();
    long next = log.nextOffset();
    if (first != 0 && next > 0) {
      out.add("log first offset is " + first + " but nothing was truncated");
    }
    Map<Long, String> records = new HashMap<>();
    Map<String, Long> offsetOf = new HashMap<>();
    long expected = first;
    while (expected < next) {
      List<LogRecord> page = log.read(expected, 1000);
      if (page.isEmpty()) {
        out.add("log has a gap: no record at offset " + expected + " below nextOffset " + next);
        break;
      }
      for (LogRecord r : page) {
        if (r.offset() != expected) {
          out.add("log has a gap: offset " + r.offset() + " follows " + (expected - 1));
        }
        String payload = str(r.payload());
        if (!logKnown.contains(payload)) {
          wrong++;
          out.add("log offset " + r.offset() + " holds a record nobody wrote: " + payload);
        }
        records.put(r.offset(), payload);
        offsetOf.put(payload, r.offset());
        expected = r.offset() + 1;
      }
    }
    for (Map.Entry<Long, String> e : logAt.entrySet()) {
      String found = records.get(e.getKey());
      if (!e.getValue().equals(found)) {
        if (found != null) {
          wrong++; // a record missing altogether is counted once below, as lost
        }
        out.add(
            "acknowledged append of "
                + e.getValue()
                + " at offset "
                + e.getKey()
                + " is lost: the log holds "
                + describe(found));
      }
    }
    for (String p : logRequired) {
      if (!offsetOf.containsKey(p)) {
        lost++;
        out.add("acknowledged append of " + p + " is missing from the log");
      }
    }
    for (Journal.Op op : pending) {
      if (!op.kind().startsWith("APP")) {
        continue;
      }
      List<String> f = op.fields();
      int visible = 0;
      for (String p : f) {
        if (offsetOf.containsKey(p)) {
          visible++;
        }
      }
      if (visible == f.size()) {
        long base = offsetOf.get(f.get(0));
        for (int i = 0; i < f.size(); i++) {
          if (offsetOf.get(f.get(i)) != base + i) {
            wrong++;
            out.add("in-flight " + op + " is visible but not at consecutive offsets");
          }
          logRequired.add(f.get(i));
          logAt.put(base + i, f.get(i));
        }
      } else if (visible != 0) {
        wrong++;
        out.add("appendAll is not atomic: " + visible + " of " + f.size() + " records of " + op);
      }
    }
  }

  private void checkSnapshots(SnapshotStore snaps, List<String> out) {
    List<SnapshotInfo> list = snaps.list();
    Set<Long> versions = new HashSet<>();
    byte[] buf = new byte[64 * 1024];
    for (SnapshotInfo info : list) {
      versions.add(info.version());
      long[] intent = snapIntents.get(info.version());
      if (intent == null) {
        wrong++;
        out.add("snapshot version " + info.version() + " was never saved by the workload");
        continue;
      }
      if (info.sizeBytes() != intent[0] || info.crc32c() != intent[1]) {
        wrong++;
        out.add(
            "snapshot "
                + info.version()
                + " is listed with size "
                + info.sizeBytes()
                + " and CRC "
                + info.crc32c()
                + " but was saved with size "
                + intent[0]
                + " and CRC "
                + intent[1]);
      }
      CRC32C crc = new CRC32C();
      long size = 0;
      try (InputStream in = snaps.load(info.version())) {
        int n;
        while ((n = in.read(buf)) >= 0) {
          crc.update(buf, 0, n);
          size += n;
        }
      } catch (Exception e) {
        lost++;
        out.add("snapshot " + info.version() + " cannot be loaded: " + e);
        continue;
      }
      if (size != intent[0] || crc.getValue() != intent[1]) {
        wrong++;
        out.add("snapshot " + info.version() + " loads different bytes than were saved");
      }
    }
    if (maxAckedSnapshot >= 0 && !versions.contains(maxAckedSnapshot)) {
      lost++;
      out.add(
          "the newest acknowledged snapshot "
              + maxAckedSnapshot
              + " is missing; listed: "
              + new TreeSet<>(versions));
    }
  }
}
