package io.cairn.bench.queue;

import com.squareup.tape2.QueueFile;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.Codec;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.queue.Delivery;
import io.cairn.queue.DurableQueue;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Messages through a durable queue at {@code durability = full}: 8 producer threads enqueue and 8
 * consumer threads poll and ack (Cairn) or peek and remove (Tape) concurrently. One invocation
 * moves {@value #MESSAGES} messages of 100 bytes from producers to consumers; the score is messages
 * per second, each enqueued, delivered and acknowledged.
 *
 * <p>The baseline is Square Tape's {@link QueueFile}, which writes synchronously ({@code rwd}) and
 * is not thread-safe, so its threads share one lock (with wait/notify for empty), as an application
 * would. Both write to the same file system. Target: Cairn at least 10x, thanks to group commit
 * (concurrent enqueues, leases and acks share one fsync).
 *
 * <p>The consumer that settles the last message of an invocation interrupts the other consumers, so
 * that the invocation ends without waiting out their 20 ms poll slices (Cairn's {@code poll}
 * returns empty when interrupted, Tape's {@code wait} throws); this applies to every implementation
 * alike. Before 2026-11-22 the invocation ended only when every consumer's slice ran out, which
 * added up to 20 ms to each invocation of 800 messages (a large share for the faster queue).
 *
 * <p>Two Cairn consumer loops:
 *
 * <ul>
 *   <li>{@code CAIRN_SQLITE}, {@code CAIRN_ROCKSDB}: {@code poll} then {@code ack} per message.
 *       Each consumer waits for two commits per message in sequence (the lease, which the queue
 *       stores before handing a delivery out, then the ack).
 *   <li>{@code CAIRN_*_ACK_AND_POLL}: {@link DurableQueue#ackAndPoll}, which stores the ack of one
 *       message and the lease of the next in one commit, as {@code DurableQueue.consume} workers
 *       do. Same guarantees (the ack is final and the next attempt is stored when the call
 *       returns); one commit per message per consumer. This is an advantage of Cairn's API that
 *       Tape cannot use: Tape's consumer already writes only once per message (its {@code remove};
 *       its {@code peek} stores nothing, so Tape keeps no delivery attempts or leases at all), so
 *       chaining remove and peek would save Tape nothing.
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class DurableQueueBenchmark {
  static final int MESSAGES = 800;
  static final int PRODUCERS = 8;
  static final int CONSUMERS = 8;
  static final Duration POLL_SLICE = Duration.ofMillis(20);

  /** The implementations compared; the baseline is the one not starting with CAIRN. */
  public enum Impl {
    CAIRN_SQLITE,
    CAIRN_ROCKSDB,
    CAIRN_SQLITE_ACK_AND_POLL,
    CAIRN_ROCKSDB_ACK_AND_POLL,
    TAPE
  }

  /** Thin adapter so one benchmark body drives every implementation. */
  interface Queue extends AutoCloseable {
    void enqueue(byte[] payload);

    /** A consumer for one thread for one invocation. */
    Consumer consumer();

    @Override
    void close();
  }

  /** One consumer thread's loop state. */
  interface Consumer {
    /** Settles one message; false if none arrived within the poll slice. */
    boolean consumeOne();
  }

  @Param Impl impl;

  Path dir;
  Queue queue;
  ExecutorService threads;
  byte[] payload;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    dir = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "cairn-q-");
    queue = open(impl, dir);
    threads = Executors.newFixedThreadPool(PRODUCERS + CONSUMERS);
    payload = new byte[100];
    new Random(42).nextBytes(payload);
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    threads.shutdownNow();
    queue.close();
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @Benchmark
  @OperationsPerInvocation(MESSAGES)
  public int enqueuePollAck() throws Exception {
    AtomicInteger consumed = new AtomicInteger();
    List<Future<?>> fs = new ArrayList<>();
    for (int p = 0; p < PRODUCERS; p++) {
      fs.add(
          threads.submit(
              () -> {
                for (int i = 0; i < MESSAGES / PRODUCERS; i++) {
                  queue.enqueue(payload);
                }
              }));
    }
    Set<Thread> waiting = new HashSet<>(); // consumer threads still in their loop
    for (int c = 0; c < CONSUMERS; c++) {
      Consumer consumer = queue.consumer();
      fs.add(
          threads.submit(
              () -> {
                synchronized (waiting) {
                  waiting.add(Thread.currentThread());
                }
                try {
                  while (consumed.get() < MESSAGES) {
                    if (consumer.consumeOne() && consumed.incrementAndGet() == MESSAGES) {
                      // End the invocation now: wake consumers waiting out a poll slice.
                      synchronized (waiting) {
                        for (Thread t : waiting) {
                          if (t != Thread.currentThread()) {
                            t.interrupt();
                          }
                        }
                      }
                    }
                  }
                } finally {
                  synchronized (waiting) {
                    waiting.remove(Thread.currentThread());
                    Thread.interrupted(); // clear our flag while no one can set it again
                  }
                }
              }));
    }
    for (Future<?> f : fs) {
      f.get();
    }
    return consumed.get();
  }

  static Queue open(Impl impl, Path dir) throws IOException {
    switch (impl) {
      case CAIRN_SQLITE:
        return cairn("sqlite", dir, false);
      case CAIRN_ROCKSDB:
        return cairn("rocksdb", dir, false);
      case CAIRN_SQLITE_ACK_AND_POLL:
        return cairn("sqlite", dir, true);
      case CAIRN_ROCKSDB_ACK_AND_POLL:
        return cairn("rocksdb", dir, true);
      case TAPE:
        return tape(dir);
      default:
        throw new IllegalArgumentException(impl.name());
    }
  }

  static Queue cairn(String type, Path dir, boolean chained) {
    PersistenceRegistry registry =
        PersistenceRegistry.builder()
            .baseDirectory(dir)
            .open(
                ConfigFactory.parseString(
                    "cairn.backends.q { type = "
                        + type
                        + ", durability = full, data-dir = data }\n"
                        + "cairn.queues.bench { backend = q, visibility-timeout = 5m }"));
    DurableQueue<byte[]> q = DurableQueue.open(registry, "bench", Codec.bytes());
    return new Queue() {
      @Override
      public void enqueue(byte[] p) {
        q.enqueue(p);
      }

      @Override
      public Consumer consumer() {
        if (!chained) {
          return () -> {
            List<Delivery<byte[]>> ds = q.poll(1, POLL_SLICE);
            if (ds.isEmpty()) {
              return false;
            }
            if (!q.ack(ds.get(0))) {
              throw new IllegalStateException("lease lost in benchmark: " + ds.get(0));
            }
            return true;
          };
        }
        return new Consumer() {
          Delivery<byte[]> current; // leased together with the previous ack

          @Override
          public boolean consumeOne() {
            if (current == null) {
              current = q.poll(POLL_SLICE).orElse(null);
              if (current == null) {
                return false;
              }
            }
            // Visibility timeout 5 min: the lease cannot be lost, so the ack always succeeds.
            // No wait for the next message here: the ack is settled when the call returns, and a
            // consumer that found nothing waits in poll above, where the end of the invocation
            // interrupts it (ackAndPoll with a wait would hold the last ack's count back by a
            // whole poll slice, ending every invocation 20 ms late).
            current = q.ackAndPoll(current, Duration.ZERO).orElse(null);
            return true;
          }
        };
      }

      @Override
      public void close() {
        q.close();
        registry.close();
      }
    };
  }

  static Queue tape(Path dir) throws IOException {
    QueueFile file = new QueueFile.Builder(dir.resolve("tape.queue").toFile()).build();
    Object lock = new Object();
    return new Queue() {
      @Override
      public void enqueue(byte[] p) {
        synchronized (lock) {
          try {
            file.add(p);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
          lock.notifyAll();
        }
      }

      @Override
      public Consumer consumer() {
        return this::consumeOne;
      }

      private boolean consumeOne() {
        synchronized (lock) {
          try {
            if (file.isEmpty()) {
              lock.wait(20);
              if (file.isEmpty()) {
                return false;
              }
            }
            byte[] message = file.peek();
            if (message == null) {
              return false;
            }
            file.remove();
            return true;
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
          }
        }
      }

      @Override
      public void close() {
        try {
          file.close();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    };
  }
}
