package io.cairn.tck.crash;

import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The workload's record of what it asked for and what the store acknowledged. One text line per
 * event, each written with a single unbuffered {@code write(2)} (no fsync: {@code kill -9} keeps
 * the OS page cache, which is all a process-crash test needs):
 *
 * <pre>
 *   I &lt;thread&gt; &lt;n&gt; &lt;OP&gt; &lt;fields...&gt;   intent, written just before the call
 *   A &lt;thread&gt; &lt;n&gt; &lt;result&gt;            acknowledgement, written after the call returned
 *   OPS: PUT key value | DEL key | BATCH k1 v1 k2 v2 ... | APP payload | APPALL p1 p2 ...
 *        | SNAP version size crc | RETAIN n
 *   result: the returned version / offset / boolean / count, or "-" when unknown
 * </pre>
 *
 * Tokens never contain spaces. A final line without a newline (cut by the kill) is ignored.
 */
final class Journal implements AutoCloseable {
  private final FileOutputStream out;

  Journal(Path file) throws IOException {
    this.out = new FileOutputStream(file.toFile(), true);
  }

  void intent(int thread, long n, String op) throws IOException {
    write("I " + thread + " " + n + " " + op + "\n");
  }

  void ack(int thread, long n, String result) throws IOException {
    write("A " + thread + " " + n + " " + result + "\n");
  }

  private void write(String line) throws IOException {
    byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
    synchronized (out) {
      out.write(bytes);
    }
  }

  @Override
  public void close() throws IOException {
    out.close();
  }

  /** One operation as journaled: its intent and, if it returned, its result. */
  record Op(int thread, long n, String kind, List<String> fields, String result) {
    boolean acked() {
      return result != null;
    }

    @Override
    public String toString() {
      StringBuilder sb = new StringBuilder("t" + thread + "#" + n + " " + kind);
      for (String f : fields) {
        sb.append(' ').append(f.length() > 32 ? f.substring(0, 32) + "..." : f);
      }
      return sb.append(acked() ? " -> " + result : " (not acknowledged)").toString();
    }
  }

  /** Reads a journal file: operations per thread, in the order each thread issued them. */
  static Map<Integer, List<Op>> read(Path file) throws IOException {
    Map<Integer, List<Op>> byThread = new LinkedHashMap<>();
    if (!Files.exists(file)) {
      return byThread;
    }
    String text = Files.readString(file, StandardCharsets.UTF_8);
    int end = text.lastIndexOf('\n');
    if (end < 0) {
      return byThread;
    }
    Map<String, Integer> index = new LinkedHashMap<>();
    List<Op> all = new ArrayList<>();
    for (String line : text.substring(0, end).split("\n")) {
      if (line.isEmpty()) {
        continue;
      }
      String[] t = line.split(" ");
      String id = t[1] + ":" + t[2];
      if (t[0].equals("I")) {
        index.put(id, all.size());
        all.add(
            new Op(
                Integer.parseInt(t[1]),
                Long.parseLong(t[2]),
                t[3],
                List.copyOf(Arrays.asList(t).subList(4, t.length)),
                null));
      } else if (t[0].equals("A")) {
        Integer i = index.get(id);
        if (i == null) {
          throw new IOException("Journal " + file + " acknowledges unknown operation: " + line);
        }
        Op o = all.get(i);
        all.set(i, new Op(o.thread(), o.n(), o.kind(), o.fields(), t.length > 3 ? t[3] : "-"));
      } else {
        throw new IOException("Journal " + file + " has a malformed line: " + line);
      }
    }
    for (Op o : all) {
      byThread.computeIfAbsent(o.thread(), k -> new ArrayList<>()).add(o);
    }
    return byThread;
  }
}
