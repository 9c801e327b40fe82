package io.cairn.cli;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StorageBackend;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A stand-in service for the ITs, run in a child JVM ({@code java -cp test-classes:cairn.jar}):
 * opens backend {@code main} of a configuration (holding its lock) and runs {@code threads} writers
 * until a stop file appears. Writer {@code t} repeats, for seq = 1, 2, ...: append {@code seq} to
 * log {@code log-t}; put {@code t/seq} = seq in namespace {@code data}; put {@code w-t} = seq. So
 * any state as of one instant has, per writer, with L records in {@code log-t}, K the largest seq
 * of the {@code t/*} keys and W = {@code w-t}: W &le; K &le; L &le; W + 1, keys {@code t/1..t/K}
 * all present, log record i = i + 1 ({@link #checkCut}). Prints {@code ready} to the ready file
 * once writing, and exits 0 only if no write failed (else prints the error and exits 1).
 *
 * <p>Usage: {@code WriterService CONFIG READY_FILE STOP_FILE THREADS}
 */
public final class WriterService {
  private WriterService() {}

  public static void main(String[] args) throws Exception {
    Path config = Path.of(args[0]);
    Path ready = Path.of(args[1]);
    Path stop = Path.of(args[2]);
    int threads = Integer.parseInt(args[3]);
    AtomicReference<Throwable> error = new AtomicReference<>();
    AtomicLong writes = new AtomicLong();
    try (PersistenceRegistry registry =
        PersistenceRegistry.open(ConfigFactory.parseFile(config.toFile()))) {
      StorageBackend b = registry.backend("main");
      List<Thread> ts = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int id = t;
        Thread th =
            new Thread(
                () -> {
                  try {
                    for (long seq = 1; !Files.exists(stop); seq++) {
                      writeOne(b, id, seq);
                      writes.incrementAndGet();
                    }
                  } catch (Throwable e) {
                    error.compareAndSet(null, e);
                  }
                },
                "writer-" + t);
        ts.add(th);
        th.start();
      }
      while (writes.get() < 50L * threads && error.get() == null) {
        Thread.sleep(10);
      }
      Files.writeString(ready, "ready\n");
      for (Thread th : ts) {
        th.join();
      }
    }
    if (error.get() != null) {
      System.out.println("service error: " + error.get());
      error.get().printStackTrace(System.out);
      System.exit(1);
    }
    System.out.println("service ok: " + writes.get() + " writes");
  }

  static void writeOne(StorageBackend b, int t, long seq) {
    byte[] v = bytes(seq);
    b.log("log-" + t).append(v);
    b.keyValue("data").put((t + "/" + seq).getBytes(), v);
    b.keyValue("data").put(("w-" + t).getBytes(), v);
  }

  static byte[] bytes(long n) {
    return ByteBuffer.allocate(8).putLong(n).array();
  }

  static long number(byte[] b) {
    return ByteBuffer.wrap(b).getLong();
  }

  /**
   * Checks that {@code b} holds a consistent cut of {@code threads} writers; returns the total
   * records (log records plus keys) checked. Throws AssertionError naming what is wrong.
   */
  static long checkCut(StorageBackend b, int threads) {
    long checked = 0;
    for (int t = 0; t < threads; t++) {
      var log = b.log("log-" + t);
      long first = log.firstOffset();
      long l = log.nextOffset() - first;
      for (long off = first; off < log.nextOffset(); ) {
        var recs = log.read(off, 1000);
        for (var r : recs) {
          long want = r.offset() - first + 1;
          if (number(r.payload()) != want) {
            throw new AssertionError(
                "log-"
                    + t
                    + " offset "
                    + r.offset()
                    + " holds "
                    + number(r.payload())
                    + ", expected "
                    + want);
          }
          checked++;
        }
        off = recs.get(recs.size() - 1).offset() + 1;
      }
      byte[] wv = b.keyValue("data").get(("w-" + t).getBytes());
      long w = wv == null ? 0 : number(wv);
      long k = 0;
      while (b.keyValue("data").get((t + "/" + (k + 1)).getBytes()) != null) {
        byte[] v = b.keyValue("data").get((t + "/" + (k + 1)).getBytes());
        if (number(v) != k + 1) {
          throw new AssertionError("key " + t + "/" + (k + 1) + " holds " + number(v));
        }
        k++;
        checked++;
      }
      if (!(w <= k && k <= l && l <= w + 1)) {
        throw new AssertionError(
            "writer "
                + t
                + " is not a consistent cut: w-"
                + t
                + " = "
                + w
                + ", keys up to "
                + k
                + ", log records "
                + l);
      }
      if (b.keyValue("data").get((t + "/" + (k + 2)).getBytes()) != null) {
        throw new AssertionError("writer " + t + ": key " + (k + 2) + " present after a gap");
      }
    }
    return checked;
  }
}
