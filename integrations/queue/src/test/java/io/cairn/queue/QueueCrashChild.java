package io.cairn.queue;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.Codec;
import io.cairn.persistence.PersistenceRegistry;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Child JVM of {@link QueueCrashLoopTest}. Modes:
 *
 * <ul>
 *   <li>{@code run <type> <dir> <cycle> <seed>}: producers enqueue unique payloads and consumers
 *       poll and ack (sometimes nack) until the parent kills the process.
 *   <li>{@code drain <type> <dir> <seed>}: consumes and acks until nothing is pending or in flight,
 *       lists the dead letters and exits.
 * </ul>
 *
 * <p>Every event is one line on standard output, flushed before the next step: {@code E <payload>}
 * after an enqueue returned (acknowledged), {@code D <payload> <attempt>} after a poll returned,
 * {@code I <payload>} just before an ack, {@code A <payload>} after an ack returned {@code true},
 * {@code X <payload>} for a dead letter.
 */
public final class QueueCrashChild {
  static final String QUEUE_CONF =
      "cairn.queues.q { backend = b, visibility-timeout = 1s, max-attempts = 4,"
          + " backoff-initial = 10ms, backoff-max = 50ms, truncate-every = 64 }\n";

  private static PrintStream out;

  private QueueCrashChild() {}

  static String config(String type, Path dir) {
    return "cairn.backends.b { type = "
        + type
        + ", durability = normal, data-dir = \""
        + dir.resolve("data").toString().replace("\\", "/")
        + "\" }\n"
        + QUEUE_CONF;
  }

  private static synchronized void emit(String line) {
    out.println(line);
    out.flush();
  }

  public static void main(String[] args) throws Exception {
    out = new PrintStream(new FileOutputStream(java.io.FileDescriptor.out), false, "UTF-8");
    String mode = args[0];
    String type = args[1];
    Path dir = Path.of(args[2]);
    try (PersistenceRegistry r =
            PersistenceRegistry.builder()
                .baseDirectory(dir)
                .open(ConfigFactory.parseString(config(type, dir)));
        DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8())) {
      if (mode.equals("run")) {
        run(q, Integer.parseInt(args[3]), Long.parseLong(args[4]));
      } else {
        drain(q);
      }
    }
    emit("DONE");
  }

  private static void run(DurableQueue<String> q, int cycle, long seed) throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    List<Thread> threads = new ArrayList<>();
    for (int p = 0; p < 3; p++) {
      int producer = p;
      threads.add(
          new Thread(
              () -> {
                long n = 0;
                Random random = new Random(seed * 31 + producer);
                while (!stop.get()) {
                  if (random.nextInt(4) == 0) {
                    List<String> batch = new ArrayList<>();
                    for (int i = 0; i < 3; i++) {
                      batch.add(cycle + "-" + producer + "-" + n++);
                    }
                    q.enqueueAll(batch);
                    batch.forEach(b -> emit("E " + b));
                  } else {
                    String payload = cycle + "-" + producer + "-" + n++;
                    q.enqueue(payload);
                    emit("E " + payload);
                  }
                }
              }));
    }
    for (int c = 0; c < 3; c++) {
      int consumer = c;
      threads.add(
          new Thread(
              () -> {
                Random random = new Random(seed * 17 + consumer);
                while (!stop.get()) {
                  for (Delivery<String> d : q.poll(4, Duration.ofMillis(50))) {
                    emit("D " + d.payload() + " " + d.attempt());
                    int dice = random.nextInt(10);
                    if (dice == 0) {
                      q.nack(d, Duration.ZERO);
                    } else if (dice == 1) {
                      // abandon: the lease runs out and the message is redelivered
                    } else {
                      emit("I " + d.payload());
                      if (q.ack(d)) {
                        emit("A " + d.payload());
                      }
                    }
                  }
                }
              }));
    }
    threads.forEach(Thread::start);
    emit("READY");
    for (Thread t : threads) {
      t.join();
    }
  }

  private static void drain(DurableQueue<String> q) {
    while (true) {
      QueueStats s = q.stats();
      List<Delivery<String>> ds = q.poll(64, Duration.ofMillis(200));
      if (ds.isEmpty() && s.depth() == 0 && s.inFlight() == 0) {
        break;
      }
      for (Delivery<String> d : ds) {
        emit("D " + d.payload() + " " + d.attempt());
        emit("I " + d.payload());
        if (q.ack(d)) {
          emit("A " + d.payload());
        }
      }
    }
    long from = 0;
    while (true) {
      List<DeadLetter<String>> dead = q.deadLetters(from, 256);
      if (dead.isEmpty()) {
        break;
      }
      for (DeadLetter<String> d : dead) {
        emit("X " + d.payload());
        from = d.id() + 1;
      }
    }
    emit("STATS " + q.stats());
  }
}
