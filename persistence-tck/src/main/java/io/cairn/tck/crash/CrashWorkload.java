package io.cairn.tck.crash;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.SnapshotInfo;
import io.cairn.persistence.SnapshotStore;
import io.cairn.persistence.StorageBackend;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.zip.CRC32C;

/**
 * The child side of {@link CrashHarness}: opens a {@link PersistenceRegistry} from a config file
 * and runs a seeded mixed workload on one backend until killed, journaling every write (see {@link
 * Journal}). Prints {@code READY} once the backend is open and every thread has completed a write,
 * and {@code DONE} if it reaches its time limit. Any exception from a store ends the workload with
 * {@code ERROR <message>} and exit code 3.
 *
 * <p>Arguments, {@code key=value}: {@code config} (HOCON file), {@code journal} (file), {@code
 * seed}, {@code run} (cycle number; makes every value unique across cycles), {@code threads},
 * {@code backend} (name; default the registry's default backend), {@code max-seconds} (stop by
 * itself after this long), {@code ack-early} ({@code true}: journal the acknowledgement
 * <i>before</i> calling the store: a deliberately unsafe write path for negative controls), {@code
 * stats-ms} (if positive, print {@code STAT <uptime ms> <heap used> <heap used after the last GC>}
 * (bytes) at this interval, for soak runs).
 *
 * <p>Stores used: key-value namespace {@value #KV}, log {@value #LOG}, snapshot set {@value
 * #SNAPSHOTS} (thread 0 only). Keys are {@code t<thread>-k<i>}, so each key has a single writer.
 */
public final class CrashWorkload {
  static final String KV = "crash-kv";
  static final String LOG = "crash-log";
  static final String SNAPSHOTS = "crash-snap";
  static final int KEYS_PER_THREAD = 64;
  static final int MAX_SNAPSHOT_BYTES = 200_000;

  private CrashWorkload() {}

  /** Runs the workload; arguments as described on the class. */
  public static void main(String[] args) throws Exception {
    Map<String, String> o = new HashMap<>();
    for (String a : args) {
      int eq = a.indexOf('=');
      o.put(a.substring(0, eq), a.substring(eq + 1));
    }
    Path config = Path.of(o.get("config"));
    Path journalFile = Path.of(o.get("journal"));
    long seed = Long.parseLong(o.getOrDefault("seed", "1"));
    int run = Integer.parseInt(o.getOrDefault("run", "0"));
    int threads = Integer.parseInt(o.getOrDefault("threads", "4"));
    boolean ackEarly = Boolean.parseBoolean(o.getOrDefault("ack-early", "false"));
    long maxMillis = Long.parseLong(o.getOrDefault("max-seconds", "120")) * 1000;
    String backendName = o.get("backend");
    long statsMillis = Long.parseLong(o.getOrDefault("stats-ms", "0"));
    if (statsMillis > 0) {
      Thread stats = new Thread(() -> printStats(statsMillis), "crash-stats");
      stats.setDaemon(true);
      stats.start();
    }

    try (PersistenceRegistry registry =
            PersistenceRegistry.open(ConfigFactory.parseFile(config.toFile()));
        Journal journal = new Journal(journalFile)) {
      StorageBackend backend =
          backendName == null ? registry.defaultBackend() : registry.backend(backendName);
      long deadline = System.currentTimeMillis() + maxMillis;
      List<Thread> workers = new ArrayList<>();
      Throwable[] failure = new Throwable[1];
      CountDownLatch writing = new CountDownLatch(threads);
      for (int t = 0; t < threads; t++) {
        Worker w = new Worker(backend, journal, seed, run, t, ackEarly, deadline, writing);
        Thread thread =
            new Thread(
                () -> {
                  try {
                    w.run();
                  } catch (Throwable e) {
                    synchronized (failure) {
                      if (failure[0] == null) {
                        failure[0] = e;
                      }
                    }
                    writing.countDown();
                  }
                },
                "crash-worker-" + t);
        workers.add(thread);
      }
      workers.forEach(Thread::start);
      writing.await();
      System.out.println("READY");
      System.out.flush();
      for (Thread t : workers) {
        t.join();
      }
      if (failure[0] != null) {
        System.out.println("ERROR " + failure[0]);
        failure[0].printStackTrace(System.out);
        System.out.flush();
        System.exit(3);
      }
    }
    System.out.println("DONE");
  }

  private static void printStats(long every) {
    long start = System.nanoTime();
    while (true) {
      try {
        Thread.sleep(every);
      } catch (InterruptedException e) {
        return;
      }
      long afterGc = 0;
      for (java.lang.management.MemoryPoolMXBean pool :
          java.lang.management.ManagementFactory.getMemoryPoolMXBeans()) {
        if (pool.getType() == java.lang.management.MemoryType.HEAP
            && pool.getCollectionUsage() != null) {
          afterGc += pool.getCollectionUsage().getUsed();
        }
      }
      Runtime rt = Runtime.getRuntime();
      System.out.println(
          "STAT "
              + (System.nanoTime() - start) / 1_000_000
              + " "
              + (rt.totalMemory() - rt.freeMemory())
              + " "
              + afterGc);
      System.out.flush();
    }
  }

  /** Deterministic snapshot content for {@code id} of {@code size} bytes. */
  static byte[] snapshotData(long id, int size) {
    byte[] data = new byte[size];
    new Random(id).nextBytes(data);
    return data;
  }

  static long crc32c(byte[] data) {
    CRC32C crc = new CRC32C();
    crc.update(data);
    return crc.getValue();
  }

  private static final class Worker {
    private final KeyValueStore kv;
    private final LogStore log;
    private final SnapshotStore snaps;
    private final Journal journal;
    private final Random rnd;
    private final int run;
    private final int thread;
    private final boolean ackEarly;
    private final long deadline;
    private final CountDownLatch writing;

    Worker(
        StorageBackend backend,
        Journal journal,
        long seed,
        int run,
        int thread,
        boolean ackEarly,
        long deadline,
        CountDownLatch writing) {
      this.kv = backend.keyValue(KV);
      this.log = backend.log(LOG);
      this.snaps = backend.snapshots(SNAPSHOTS);
      this.journal = journal;
      this.rnd = new Random(seed * 1_000_003L + run * 7919L + thread);
      this.run = run;
      this.thread = thread;
      this.ackEarly = ackEarly;
      this.deadline = deadline;
      this.writing = writing;
    }

    private String key() {
      return "t" + thread + "-k" + rnd.nextInt(KEYS_PER_THREAD);
    }

    private String value(long n) {
      return "r" + run + "-t" + thread + "-n" + n + "-" + "x".repeat(rnd.nextInt(300));
    }

    private static byte[] b(String s) {
      return s.getBytes(StandardCharsets.UTF_8);
    }

    void run() throws IOException {
      for (long n = 0; System.currentTimeMillis() < deadline; n++) {
        int dice = rnd.nextInt(100);
        if (dice < 40) {
          String k = key();
          String v = value(n);
          step(n, "PUT " + k + " " + v, () -> String.valueOf(kv.put(b(k), b(v))));
        } else if (dice < 55) {
          String k = key();
          step(n, "DEL " + k, () -> String.valueOf(kv.delete(b(k))));
        } else if (dice < 65) {
          Set<String> keys = new LinkedHashSet<>();
          int size = 2 + rnd.nextInt(4);
          while (keys.size() < size) {
            keys.add(key());
          }
          List<KeyValue> batch = new ArrayList<>();
          StringBuilder op = new StringBuilder("BATCH");
          int i = 0;
          for (String k : keys) {
            String v = value(n) + "-b" + i++;
            batch.add(new KeyValue(b(k), b(v)));
            op.append(' ').append(k).append(' ').append(v);
          }
          step(
              n,
              op.toString(),
              () -> {
                kv.putAll(batch);
                return "-";
              });
        } else if (dice < 85) {
          String p = "p" + run + "-t" + thread + "-n" + n;
          step(n, "APP " + p, () -> String.valueOf(log.append(b(p))));
        } else if (dice < 93 || thread != 0) {
          int count = 2 + rnd.nextInt(3);
          List<byte[]> payloads = new ArrayList<>();
          StringBuilder op = new StringBuilder("APPALL");
          for (int i = 0; i < count; i++) {
            String p = "p" + run + "-t" + thread + "-n" + n + "-" + i;
            payloads.add(b(p));
            op.append(' ').append(p);
          }
          step(n, op.toString(), () -> String.valueOf(log.appendAll(payloads)));
        } else if (dice < 97) {
          long version = run * 1_000_000L + n;
          byte[] data = snapshotData(version, rnd.nextInt(MAX_SNAPSHOT_BYTES));
          step(
              n,
              "SNAP " + version + " " + data.length + " " + crc32c(data),
              () -> {
                SnapshotInfo info = snaps.save(version, data);
                return String.valueOf(info.crc32c());
              });
        } else {
          step(n, "RETAIN 3", () -> String.valueOf(snaps.retainLatest(3)));
        }
      }
    }

    private interface Call {
      String call();
    }

    private void step(long n, String op, Call call) throws IOException {
      journal.intent(thread, n, op);
      if (ackEarly) {
        journal.ack(thread, n, "-");
        call.call();
      } else {
        String result = call.call();
        journal.ack(thread, n, result);
      }
      if (n == 0) {
        writing.countDown();
      }
    }
  }
}
