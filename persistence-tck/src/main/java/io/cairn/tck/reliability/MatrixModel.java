package io.cairn.tck.reliability;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a backend must contain after {@link MatrixWorkload} ran: every key-value entry (value,
 * version, expiry; absent ones included, so a resurrected key is caught), every log's first and
 * next offset and records, every snapshot's size and CRC-32C. Built from the live backend right
 * after the workload (and checked against what the workload wrote), so it holds the versions and
 * expiry times the backend chose.
 *
 * <p>Text form (one line each, tokens never contain spaces; used to hand the model from the child
 * JVM of the kill variant to the parent):
 *
 * <pre>
 *   K namespace key version expiresAtMillis value     a present entry
 *   A namespace key                                   an entry that must be absent (deleted, expired)
 *   L log firstOffset nextOffset                      a log
 *   R log offset payload                              one log record
 *   S set version size crc32c                         one snapshot (its data: MatrixWorkload.snapshotData)
 *   T namespace                                       the tail namespace of the kill variant
 * </pre>
 */
final class MatrixModel {
  /** A key-value expectation; {@code value == null} means the key must be absent. */
  record Kv(String value, long version, long expiresAt) {}

  record Log(long first, long next, TreeMap<Long, String> records) {}

  record Snap(long size, long crc) {}

  final Map<String, TreeMap<String, Kv>> kv = new TreeMap<>();
  final Map<String, Log> logs = new TreeMap<>();
  final Map<String, TreeMap<Long, Snap>> snapshots = new TreeMap<>();

  /** The namespace holding the kill variant's tail of single puts, or null. */
  String tailNamespace;

  /** Kill variant: how many tail puts were acknowledged before the kill (not in the text form). */
  long tailAcked;

  /** A few present keys, values and log payloads, for locating regions in files. */
  List<String> sampleKeys() {
    List<String> out = new ArrayList<>();
    for (TreeMap<String, Kv> ns : kv.values()) {
      ns.forEach(
          (k, v) -> {
            if (v.value() != null) {
              out.add(k);
            }
          });
    }
    return out;
  }

  List<String> sampleValues() {
    List<String> out = new ArrayList<>();
    for (TreeMap<String, Kv> ns : kv.values()) {
      for (Kv v : ns.values()) {
        if (v.value() != null) {
          out.add(v.value());
        }
      }
    }
    return out;
  }

  List<String> samplePayloads() {
    List<String> out = new ArrayList<>();
    for (Log l : logs.values()) {
      out.addAll(l.records().values());
    }
    return out;
  }

  long entries() {
    long n = 0;
    for (TreeMap<String, Kv> ns : kv.values()) {
      n += ns.size();
    }
    for (Log l : logs.values()) {
      n += l.records().size();
    }
    for (TreeMap<Long, Snap> s : snapshots.values()) {
      n += s.size();
    }
    return n;
  }

  void write(Path file) throws IOException {
    StringBuilder sb = new StringBuilder();
    kv.forEach(
        (ns, entries) ->
            entries.forEach(
                (k, v) -> {
                  if (v.value() == null) {
                    sb.append("A ").append(ns).append(' ').append(k).append('\n');
                  } else {
                    sb.append("K ")
                        .append(ns)
                        .append(' ')
                        .append(k)
                        .append(' ')
                        .append(v.version())
                        .append(' ')
                        .append(v.expiresAt())
                        .append(' ')
                        .append(v.value())
                        .append('\n');
                  }
                }));
    logs.forEach(
        (name, l) -> {
          sb.append("L ")
              .append(name)
              .append(' ')
              .append(l.first())
              .append(' ')
              .append(l.next())
              .append('\n');
          l.records()
              .forEach(
                  (o, p) ->
                      sb.append("R ")
                          .append(name)
                          .append(' ')
                          .append(o)
                          .append(' ')
                          .append(p)
                          .append('\n'));
        });
    snapshots.forEach(
        (set, snaps) ->
            snaps.forEach(
                (v, s) ->
                    sb.append("S ")
                        .append(set)
                        .append(' ')
                        .append(v)
                        .append(' ')
                        .append(s.size())
                        .append(' ')
                        .append(s.crc())
                        .append('\n')));
    if (tailNamespace != null) {
      sb.append("T ").append(tailNamespace).append('\n');
    }
    sb.append("END\n");
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, sb.toString(), StandardCharsets.UTF_8);
    Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  static MatrixModel read(Path file) throws IOException {
    MatrixModel m = new MatrixModel();
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    if (lines.isEmpty() || !lines.get(lines.size() - 1).equals("END")) {
      throw new IOException("model file " + file + " is incomplete (no END line)");
    }
    for (String line : lines) {
      String[] t = line.split(" ");
      switch (t[0]) {
        case "K" ->
            m.kv
                .computeIfAbsent(t[1], n -> new TreeMap<>())
                .put(t[2], new Kv(t[5], Long.parseLong(t[3]), Long.parseLong(t[4])));
        case "A" -> m.kv.computeIfAbsent(t[1], n -> new TreeMap<>()).put(t[2], new Kv(null, 0, 0));
        case "L" ->
            m.logs.put(t[1], new Log(Long.parseLong(t[2]), Long.parseLong(t[3]), new TreeMap<>()));
        case "R" -> m.logs.get(t[1]).records().put(Long.parseLong(t[2]), t[3]);
        case "S" ->
            m.snapshots
                .computeIfAbsent(t[1], n -> new TreeMap<>())
                .put(Long.parseLong(t[2]), new Snap(Long.parseLong(t[3]), Long.parseLong(t[4])));
        case "T" -> m.tailNamespace = t[1];
        case "END" -> {}
        default -> throw new IOException("model file " + file + " has a malformed line: " + line);
      }
    }
    return m;
  }
}
