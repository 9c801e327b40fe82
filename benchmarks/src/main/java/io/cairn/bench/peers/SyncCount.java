package io.cairn.bench.peers;

import io.cairn.bench.rocksdb.RawRocks;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Proves each configuration's crash-safety group by counting the sync system calls it makes: run
 * {@code run N} under {@code strace -f -e trace=fsync,fdatasync,msync,sync_file_range,openat -o
 * LOG}, then {@code parse LOG N OUT.tsv}.
 *
 * <p>{@code run} opens every {@link KvPeer} and {@link LogPeer} in turn, does N puts (overwrites of
 * 1,000 preloaded keys) or N appends between two marker files it opens (their names appear in the
 * strace log), then closes the store. {@code parse} counts, per store, the sync calls of all
 * threads between its markers (background threads' syncs count: they are the cost of those writes),
 * and whether the store opened a file with O_SYNC or O_DSYNC (Tape does: its writes sync without a
 * sync call).
 */
public final class SyncCount {
  private SyncCount() {}

  static final String MARK = "cairn-syncmark-";
  private static final Pattern SYNC =
      Pattern.compile("\\b(fsync|fdatasync|msync|sync_file_range|syncfs)\\(");
  private static final Pattern MARKER =
      Pattern.compile(Pattern.quote(MARK) + "(open|begin|end)-([A-Z_]+)");

  public static void main(String[] args) throws Exception {
    if (args.length >= 2 && args[0].equals("run")) {
      run(Integer.parseInt(args[1]), args.length > 2 ? args[2] : ".*");
    } else if (args.length == 4 && args[0].equals("parse")) {
      Files.writeString(
          Path.of(args[3]),
          parse(Files.readAllLines(Path.of(args[1])), Integer.parseInt(args[2])),
          StandardCharsets.UTF_8);
    } else {
      System.err.println(
          "usage: SyncCount run N [impl-regex] | SyncCount parse STRACE-LOG N OUT.tsv");
      System.exit(2);
    }
  }

  static void run(int n, String only) throws IOException {
    Path marks = Files.createTempDirectory(RawRocks.benchRoot(), "syncmarks");
    byte[][] keys = PeerKeyValueBenchmark.keys(1_000);
    byte[] value = PeerKeyValueBenchmark.value();
    for (KvPeer peer : KvPeer.values()) {
      if (!peer.name().matches(only)) {
        continue;
      }
      mark(marks, "open", peer.name());
      try (KvPeer.Kv kv = peer.open()) {
        kv.preload(keys, value);
        mark(marks, "begin", peer.name());
        for (int i = 0; i < n; i++) {
          kv.put(keys[i % keys.length], value);
        }
        mark(marks, "end", peer.name());
      } catch (RuntimeException | LinkageError e) {
        System.err.println(peer + " failed: " + e);
      }
    }
    for (LogPeer peer : LogPeer.values()) {
      if (!peer.name().matches(only)) {
        continue;
      }
      mark(marks, "open", peer.name());
      try (LogPeer.Log log = peer.open()) {
        mark(marks, "begin", peer.name());
        for (int i = 0; i < n; i++) {
          log.append(value);
        }
        mark(marks, "end", peer.name());
      } catch (RuntimeException | LinkageError e) {
        System.err.println(peer + " failed: " + e);
      }
    }
    RawRocks.deleteTree(marks);
  }

  private static void mark(Path dir, String what, String impl) throws IOException {
    Files.deleteIfExists(
        Files.createFile(dir.resolve(MARK + what + "-" + impl + "-" + System.nanoTime())));
  }

  /** One line per store: impl, sync calls per operation, O_SYNC/O_DSYNC file opened (yes/no). */
  static String parse(List<String> strace, int n) {
    Map<String, long[]> counts = new LinkedHashMap<>();
    String opened = null;
    String counting = null;
    for (String line : strace) {
      Matcher m = MARKER.matcher(line);
      if (line.contains("openat(") && m.find()) {
        String impl = m.group(2);
        switch (m.group(1)) {
          case "open" -> {
            opened = impl;
            counting = null;
            counts.put(impl, new long[] {-1, 0});
          }
          case "begin" -> {
            counting = impl;
            counts.get(impl)[0] = 0;
          }
          default -> counting = null;
        }
        continue;
      }
      if (line.contains("resumed>")) {
        continue; // the second half of a call strace already counted
      }
      if (counting != null && SYNC.matcher(line).find()) {
        counts.get(counting)[0]++;
      }
      if (opened != null
          && line.contains("openat(")
          && (line.contains("O_DSYNC") || line.contains("O_SYNC"))) {
        counts.get(opened)[1] = 1;
      }
    }
    List<String> out = new ArrayList<>();
    out.add("impl\tsyncs_per_op\to_dsync");
    counts.forEach(
        (impl, c) ->
            out.add(
                impl
                    + "\t"
                    + (c[0] < 0 ? "failed" : String.format(Locale.ROOT, "%.3f", c[0] / (double) n))
                    + "\t"
                    + (c[1] == 1 ? "yes" : "no")));
    return String.join("\n", out) + "\n";
  }
}
