package io.cairn.tck.reliability;

import static io.cairn.tck.reliability.MatrixWorkload.b;
import static io.cairn.tck.reliability.MatrixWorkload.str;

import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.Progress;
import io.cairn.persistence.SnapshotInfo;
import io.cairn.persistence.SnapshotStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.VerifyReport;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.zip.CRC32C;

/**
 * Reads everything a {@link MatrixModel} describes from a (possibly damaged) backend, through the
 * public API, and sorts what it sees into the buckets the {@link CorruptionMatrix} classifies on.
 * Every read is separate, so one failing read does not hide what the others return. Not
 * thread-safe.
 */
final class MatrixCheck {
  /**
   * A read returned data that differs from the model: a wrong value, an unknown or resurrected
   * entry.
   */
  final List<String> wrong = new ArrayList<>();

  /** Data of the model that a read did not return, without an error on that read. */
  final List<String> missing = new ArrayList<>();

  /** Typed {@link PersistenceException}s: damage reported. */
  final List<String> errors = new ArrayList<>();

  /** Any other exception or error: damage noticed, but not reported as the contract says. */
  final List<String> untyped = new ArrayList<>();

  /** What {@code verify()} reported. */
  final List<String> verifyProblems = new ArrayList<>();

  /** Length of the surviving tail prefix of the kill variant, or -1 without a tail. */
  long tail = -1;

  private final MatrixModel model;

  MatrixCheck(MatrixModel model) {
    this.model = model;
  }

  /** Records {@code e}, thrown by {@code what}, as a typed or untyped error. */
  void failure(String what, Throwable e) {
    String line = what + ": " + e.getClass().getName() + ": " + oneLine(e.getMessage());
    if (e instanceof PersistenceException) {
      errors.add(line);
    } else {
      untyped.add(line);
    }
  }

  static String oneLine(String s) {
    if (s == null) {
      return "(no message)";
    }
    String t = s.replace('\n', ' ').replace('\r', ' ');
    return t.length() > 300 ? t.substring(0, 300) + "..." : t;
  }

  private interface Read {
    void run() throws Exception;
  }

  private void read(String what, Read r) {
    try {
      r.run();
    } catch (Throwable e) { // damage may surface as anything; every kind is classified
      failure(what, e);
    }
  }

  void checkAll(StorageBackend backend) {
    model.kv.forEach((ns, exp) -> read("key-value " + ns, () -> checkKv(backend, ns, exp)));
    model.logs.forEach((name, exp) -> read("log " + name, () -> checkLog(backend, name, exp)));
    model.snapshots.forEach(
        (set, exp) -> read("snapshots " + set, () -> checkSnapshots(backend, set, exp)));
    if (model.tailNamespace != null) {
      read("tail " + model.tailNamespace, () -> checkTail(backend.keyValue(model.tailNamespace)));
    }
    read(
        "verify()",
        () -> {
          VerifyReport report = backend.verify(Progress.NONE);
          verifyProblems.addAll(report.problems());
        });
  }

  private void checkKv(StorageBackend backend, String ns, TreeMap<String, MatrixModel.Kv> exp) {
    KeyValueStore kv = backend.keyValue(ns);
    Map<String, Entry> scanned = new HashMap<>();
    read(
        "scan of " + ns,
        () -> {
          try (CloseableIterator<Entry> it = kv.scan(null, null)) {
            while (it.hasNext()) {
              Entry e = it.next();
              scanned.put(str(e.key()), e);
            }
          }
        });
    for (Map.Entry<String, Entry> s : new TreeMap<>(scanned).entrySet()) {
      MatrixModel.Kv want = exp.get(s.getKey());
      if (want == null || want.value() == null) {
        wrong.add(
            "scan of "
                + ns
                + " returns "
                + describeKey(s.getKey())
                + (want == null ? ", a key nobody wrote" : ", which was deleted or has expired"));
      } else {
        compare("scan of " + ns, s.getKey(), want, s.getValue());
      }
    }
    for (Map.Entry<String, MatrixModel.Kv> e : exp.entrySet()) {
      String key = e.getKey();
      MatrixModel.Kv want = e.getValue();
      read(
          "get " + ns + "/" + key,
          () -> {
            Optional<Entry> got = kv.getEntry(b(key));
            if (want.value() == null) {
              if (got.isPresent()) {
                wrong.add(
                    "get "
                        + ns
                        + "/"
                        + key
                        + " returns a value but the key was deleted or expired");
              }
            } else if (got.isEmpty()) {
              missing.add("get " + ns + "/" + key + " returns nothing");
            } else {
              compare("get " + ns, key, want, got.get());
            }
          });
      if (want.value() != null && !scanned.isEmpty() && !scanned.containsKey(key)) {
        missing.add("scan of " + ns + " does not return " + key);
      }
    }
  }

  private void compare(String what, String key, MatrixModel.Kv want, Entry got) {
    if (!key.equals(str(got.key()))) {
      wrong.add(what + " " + key + " returns the entry of key " + describeKey(str(got.key())));
    } else if (!Objects.equals(want.value(), str(got.value()))) {
      wrong.add(what + " " + key + " returns a different value");
    } else if (want.version() != got.version()) {
      wrong.add(what + " " + key + " has version " + got.version() + ", model " + want.version());
    } else if (want.expiresAt() != got.expiresAtMillis()) {
      wrong.add(
          what
              + " "
              + key
              + " expires at "
              + got.expiresAtMillis()
              + ", model "
              + want.expiresAt());
    }
  }

  private static String describeKey(String key) {
    return key.length() > 40 ? key.substring(0, 40) + "..." : key;
  }

  private void checkLog(StorageBackend backend, String name, MatrixModel.Log exp) {
    LogStore log = backend.log(name);
    long first = log.firstOffset();
    long next = log.nextOffset();
    // An empty log that lost its truncation point is a loss; records offered below it are wrong.
    if (first < exp.first() && next > first) {
      wrong.add(
          "log "
              + name
              + " first offset "
              + first
              + " is below the truncation point "
              + exp.first());
    } else if (first != exp.first()) {
      missing.add("log " + name + " first offset " + first + ", model " + exp.first());
    }
    if (next > exp.next()) {
      wrong.add("log " + name + " next offset " + next + " is past the model's " + exp.next());
    } else if (next < exp.next()) {
      missing.add("log " + name + " next offset " + next + ", model " + exp.next());
    }
    TreeMap<Long, String> seen = new TreeMap<>();
    long at = exp.first();
    while (at < exp.next()) {
      List<LogRecord> page = log.read(at, 500);
      if (page.isEmpty()) {
        break;
      }
      for (LogRecord r : page) {
        seen.put(r.offset(), str(r.payload()));
        at = r.offset() + 1;
      }
    }
    for (Map.Entry<Long, String> r : seen.entrySet()) {
      String want = exp.records().get(r.getKey());
      if (want == null) {
        wrong.add("log " + name + " offset " + r.getKey() + " holds a record nobody wrote there");
      } else if (!want.equals(r.getValue())) {
        wrong.add("log " + name + " offset " + r.getKey() + " holds a different payload");
      }
    }
    int lost = 0;
    long firstLost = -1;
    for (Long offset : exp.records().keySet()) {
      if (!seen.containsKey(offset)) {
        if (lost++ == 0) {
          firstLost = offset;
        }
      }
    }
    if (lost > 0) {
      missing.add("log " + name + " does not return " + lost + " records from offset " + firstLost);
    }
  }

  private void checkSnapshots(
      StorageBackend backend, String set, TreeMap<Long, MatrixModel.Snap> exp) {
    SnapshotStore snaps = backend.snapshots(set);
    TreeSet<Long> listed = new TreeSet<>();
    for (SnapshotInfo info : snaps.list()) {
      listed.add(info.version());
      MatrixModel.Snap want = exp.get(info.version());
      if (want == null) {
        wrong.add(
            "snapshot " + set + "/" + info.version() + " is listed but was deleted or never saved");
      } else if (want.size() != info.sizeBytes() || want.crc() != info.crc32c()) {
        wrong.add(
            "snapshot " + set + "/" + info.version() + " is listed with a different size or CRC");
      }
    }
    for (Map.Entry<Long, MatrixModel.Snap> e : exp.entrySet()) {
      long version = e.getKey();
      if (!listed.contains(version)) {
        missing.add("snapshot " + set + "/" + version + " is not listed");
      }
      read(
          "load snapshot " + set + "/" + version,
          () -> {
            CRC32C crc = new CRC32C();
            long size = 0;
            byte[] buf = new byte[64 * 1024];
            InputStream opened;
            try {
              opened = snaps.load(version);
            } catch (java.util.NoSuchElementException absent) {
              // the contract's answer for a version the set does not have: a loss, not an error
              missing.add("snapshot " + set + "/" + version + " cannot be loaded: " + absent);
              return;
            }
            try (InputStream in = opened) {
              int n;
              while ((n = in.read(buf)) >= 0) {
                crc.update(buf, 0, n);
                size += n;
              }
            }
            if (size != e.getValue().size() || crc.getValue() != e.getValue().crc()) {
              wrong.add(
                  "snapshot "
                      + set
                      + "/"
                      + version
                      + " loads "
                      + size
                      + " bytes that differ from the "
                      + e.getValue().size()
                      + " saved");
            }
          });
    }
  }

  private void checkTail(KeyValueStore kv) {
    TreeMap<Long, String> found = new TreeMap<>();
    try (CloseableIterator<Entry> it = kv.scan(null, null)) {
      while (it.hasNext()) {
        Entry e = it.next();
        String key = str(e.key());
        long n;
        try {
          n = Long.parseLong(key.substring("tail-".length()));
        } catch (RuntimeException ex) {
          wrong.add("tail namespace holds a key nobody wrote: " + describeKey(key));
          continue;
        }
        found.put(n, str(e.value()));
        if (!key.equals(MatrixWorkload.tailKey(n)) || !("tailval-" + n).equals(str(e.value()))) {
          wrong.add("tail entry " + describeKey(key) + " holds a different value");
        }
      }
    }
    long k = found.isEmpty() ? 0 : found.lastKey();
    if (k < model.tailAcked) {
      missing.add(
          "tail writes "
              + (k + 1)
              + ".."
              + model.tailAcked
              + " were acknowledged but are gone ("
              + k
              + " survived)");
    }
    if (found.size() != k) {
      for (long n = 1; n <= k; n++) {
        if (!found.containsKey(n)) {
          wrong.add(
              "tail write "
                  + n
                  + " is lost while the later write "
                  + k
                  + " survived: an acknowledged write vanished");
          break;
        }
      }
    }
    tail = k;
  }
}
