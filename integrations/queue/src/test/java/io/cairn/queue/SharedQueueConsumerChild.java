package io.cairn.queue;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.PersistenceRegistry;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A consumer process of {@link SharedQueueMultiProcessTest}: consumes shared queue {@code q} with
 * two threads (the victim: one) and writes, to its own file with one unbuffered write per line (so
 * a line written before a {@code kill -9} is in the file), {@code L <id> <attempt>} for each lease
 * and {@code A <id>} for each ack that returned true. Exits, printing {@code DONE}, once the whole
 * queue is empty (no message due, delayed or leased). As the victim ({@code args[2] = victim}), it
 * stops after {@code args[3]} acks, takes one more batch of leases, prints {@code HOLDING} and
 * waits to be killed.
 *
 * <p>Arguments: configuration, output file, role ({@code consumer} or {@code victim}), acks before
 * holding.
 */
public final class SharedQueueConsumerChild {
  private SharedQueueConsumerChild() {}

  public static void main(String[] args) throws Exception {
    boolean victim = args[2].equals("victim");
    int holdAfter = Integer.parseInt(args[3]);
    try (PersistenceRegistry r =
            PersistenceRegistry.builder().open(ConfigFactory.parseString(args[0]));
        DurableQueue<String> q = DurableQueue.open(r, "q", io.cairn.persistence.Codec.utf8());
        FileOutputStream out = new FileOutputStream(args[1], true)) {
      System.out.println("OPENED");
      AtomicInteger acked = new AtomicInteger();
      Object holding = new Object();
      Runnable consume =
          () -> {
            try {
              while (true) {
                if (victim && acked.get() >= holdAfter) {
                  synchronized (holding) {
                    List<Delivery<String>> held = q.poll(100, Duration.ofSeconds(5));
                    for (Delivery<String> d : held) {
                      write(out, "L " + d.id() + " " + d.attempt());
                    }
                    System.out.println("HOLDING " + held.size());
                    Thread.sleep(Long.MAX_VALUE);
                  }
                }
                List<Delivery<String>> batch = q.poll(50, Duration.ofMillis(200));
                if (batch.isEmpty()) {
                  QueueStats s = q.stats();
                  if (!victim && s.depth() == 0 && s.inFlight() == 0) {
                    return;
                  }
                  continue;
                }
                for (Delivery<String> d : batch) {
                  write(out, "L " + d.id() + " " + d.attempt());
                  if (q.ack(d)) {
                    write(out, "A " + d.id());
                    acked.incrementAndGet();
                  } else {
                    // Refused: legitimate only if the lease had run out and went elsewhere. Same
                    // machine as the server, so the local clock can tell (100 ms of slack).
                    boolean expired =
                        java.time.Instant.now().plusMillis(100).isAfter(d.leaseDeadline());
                    write(out, "S " + d.id() + " " + (expired ? "expired" : "HELD"));
                  }
                }
              }
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            } catch (Exception e) {
              System.out.println("FAILED " + e);
              e.printStackTrace(System.out);
            }
          };
      // The victim runs one thread, so that nothing acks while it holds its leases.
      Thread t1 = new Thread(consume, "consumer-1");
      Thread t2 = victim ? null : new Thread(consume, "consumer-2");
      t1.start();
      if (t2 != null) {
        t2.start();
      }
      t1.join();
      if (t2 != null) {
        t2.join();
      }
      System.out.println("DONE " + acked.get());
    }
  }

  private static void write(FileOutputStream out, String line) throws IOException {
    byte[] b = (line + "\n").getBytes(StandardCharsets.US_ASCII);
    synchronized (out) {
      out.write(b); // one write(2) per line: in the file even if the process is killed next
    }
  }
}
