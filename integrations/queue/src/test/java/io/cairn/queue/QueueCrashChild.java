package io.cairn.queue;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.Codec;
import io.cairn.persistence.PersistenceRegistry;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
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
 * <p>In {@code run} and {@code drain} mode every event is one line appended to {@link #EVENTS_FILE}
 * in the data directory, written before the next step: {@code E <payload> <id>} after an enqueue
 * returned (acknowledged), {@code D <payload> <attempt> <id>} after a poll returned, {@code I
 * <payload>} just before an ack, {@code A <payload>} after an ack returned {@code true}, {@code X
 * <payload>} for a dead letter. Only {@code READY} and {@code DONE} (and log output) go to standard
 * output.
 *
 * <p>Why a file and not the pipe: {@link io.cairn.tck.crash.ChildJvm#killHard()} kills through
 * {@link Process#destroyForcibly()}, and the JDK's {@code Process.destroy} also closes the parent's
 * end of the child's standard output. Lines the child had written but the parent had not read yet
 * are discarded, so the parent's record of the last moments before every kill was incomplete:
 * deliveries and acks the child really made went missing, and the parent reported those messages as
 * acknowledged but never consumed. A line {@code write(2)}-en to a file survives {@code kill -9}
 * (it is in the page cache), so the file is the complete record.
 */
public final class QueueCrashChild {
  static final String QUEUE_CONF =
      "cairn.queues.q { backend = b, visibility-timeout = 1s, max-attempts = 4,"
          + " backoff-initial = 10ms, backoff-max = 50ms, truncate-every = 64 }\n";

  /** Name of the event file in the child's directory; the parent reads and deletes it. */
  static final String EVENTS_FILE = "events.log";

  private static FileOutputStream out;
  private static FileOutputStream events;

  private QueueCrashChild() {}

  static String config(String type, Path dir) {
    return "cairn.backends.b { type = "
        + type
        + ", durability = full, data-dir = \""
        + dir.resolve("data").toString().replace("\\", "/")
        + "\" }\n"
        + QUEUE_CONF;
  }

  /**
   * One write(2) per line: standard error shares the pipe, and a line split over two writes could
   * be cut by a log line from another thread.
   */
  private static synchronized void emit(String line) {
    try {
      (events != null ? events : out).write((line + "\n").getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** READY and DONE: to standard output, where the parent waits for them, and to the events. */
  private static synchronized void signal(String line) {
    emit(line);
    if (events != null) {
      try {
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  public static void main(String[] args) throws Exception {
    out = new FileOutputStream(java.io.FileDescriptor.out);
    String mode = args[0];
    if (mode.equals("burst")) {
      burst(Path.of(args[1]), Integer.parseInt(args[2]));
      return;
    }
    String type = args[1];
    Path dir = Path.of(args[2]);
    if (!mode.equals("inspect")) {
      events = new FileOutputStream(dir.resolve(EVENTS_FILE).toFile(), true);
    }
    try (PersistenceRegistry r =
            PersistenceRegistry.builder()
                .baseDirectory(dir)
                .open(ConfigFactory.parseString(config(type, dir)));
        DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8())) {
      if (mode.equals("inspect")) {
        var states = r.backend("b").keyValue("queue.q.state");
        var deadStore = r.backend("b").keyValue("queue.q.dead");
        var log = r.backend("b").log("queue.q");
        emit("INSPECT first=" + log.firstOffset() + " next=" + log.nextOffset());
        for (int i = 3; i < args.length; i++) {
          long id = Long.parseLong(args[i]);
          emit(
              "S "
                  + id
                  + " state="
                  + java.util.Arrays.toString(states.get(Records.key(id)))
                  + " dead="
                  + (deadStore.get(Records.key(id)) != null));
        }
      } else if (mode.equals("run")) {
        run(q, Integer.parseInt(args[3]), Long.parseLong(args[4]));
      } else {
        drain(q);
        audit(r);
      }
    }
    signal("DONE");
  }

  /**
   * {@code burst <dir> <n>} (for {@link QueueCrashEventsTest}): records {@code n} events, writing
   * each line to standard output as well, creates {@code burst.done} and waits to be killed.
   */
  private static void burst(Path dir, int n) throws Exception {
    events = new FileOutputStream(dir.resolve(EVENTS_FILE).toFile(), true);
    for (int i = 0; i < n; i++) {
      signal("E burst-" + i + " " + i);
    }
    java.nio.file.Files.createFile(dir.resolve("burst.done"));
    Thread.sleep(Long.MAX_VALUE);
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
                    long first = q.enqueueAll(batch).get(0);
                    for (int i = 0; i < batch.size(); i++) {
                      emit("E " + batch.get(i) + " " + (first + i));
                    }
                  } else {
                    String payload = cycle + "-" + producer + "-" + n++;
                    emit("E " + payload + " " + q.enqueue(payload));
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
                    emit("D " + d.payload() + " " + d.attempt() + " " + d.id());
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
    signal("READY");
    for (Thread t : threads) {
      t.join();
    }
  }

  /** Prints LEFT for every log record at or above the floor that is not finished. */
  private static void audit(PersistenceRegistry r) {
    var log = r.backend("b").log("queue.q");
    var states = r.backend("b").keyValue("queue.q.state");
    emit("AUDIT first=" + log.firstOffset() + " next=" + log.nextOffset());
    long from = log.firstOffset();
    while (true) {
      var batch = log.read(from, 512);
      if (batch.isEmpty()) {
        break;
      }
      for (var rec : batch) {
        byte[] st = states.get(Records.key(rec.offset()));
        if (st == null || (st[1] != Records.ACKED && st[1] != Records.DEAD)) {
          emit("LEFT " + rec.offset() + " state=" + java.util.Arrays.toString(st));
        }
        from = rec.offset() + 1;
      }
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
        emit("D " + d.payload() + " " + d.attempt() + " " + d.id());
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
