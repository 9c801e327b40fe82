package io.cairn.cache;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.Codec;
import io.cairn.persistence.PersistenceRegistry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 16: 100,000 operations from 16 threads mixing get (with loader), getIfPresent, put,
 * invalidate and invalidateTag on a three-tier cache ({@code [l1, fast = RocksDB, main = SQLite]},
 * L1 small so reads reach the persistent tiers, TTL 400 ms on the system clock, exact expiry
 * checks), then a check of the recorded history:
 *
 * <ul>
 *   <li>no stale read: a read never returns a value when a write of that key (put of another value,
 *       invalidate, invalidateTag of its tag) began after the value was produced and ended before
 *       the read began (for a put: after the put ended; for a load: after the loader was called);
 *   <li>no read after expiry: a read that began more than ttl after the put that produced its value
 *       ended returns something else;
 *   <li>nothing lost: a read that began after a put ended, with no other write of the key
 *       overlapping the put or the read, and ending well within the ttl, returns that put's value
 *       (the tiers' bounds are above the key count here, so the bound evicts nothing).
 * </ul>
 *
 * Operations: {@code -DcacheConsistencyOps} (default 100,000).
 */
class TierConsistencyTest {
  private static final Logger log = LoggerFactory.getLogger(TierConsistencyTest.class);
  private static final int THREADS = 16;
  private static final int KEYS = 400;
  private static final int TAGS = 5;
  private static final long TTL_MS = 400;

  @TempDir Path dir;

  enum Kind {
    GET,
    PEEK,
    PUT,
    INVALIDATE,
    TAG
  }

  /** One operation: its interval (nanoTime and epoch ms) and what it read or wrote. */
  static final class Op {
    Kind kind;
    int key; // -1 for TAG
    int tag;
    String value; // PUT: written; GET/PEEK: returned (null: nothing); GET loaded: the loaded value
    boolean loaded; // GET: the loader ran in this call
    long loaderNanos; // GET that loaded: when the loader was called
    long start;
    long end;
    long startMs;
    long endMs;
  }

  static int tagOf(int key) {
    return key % TAGS;
  }

  @Test
  void sixteenThreadsNeverReadStaleExpiredOrLostEntriesAcrossThreeTiers() throws Exception {
    int ops = Integer.getInteger("cacheConsistencyOps", 100_000);
    try (PersistenceRegistry r =
        PersistenceRegistry.builder()
            .baseDirectory(dir)
            .open(
                ConfigFactory.parseString(
                    "cairn.backends.fast { type = rocksdb, durability = none }\n"
                        + "cairn.backends.main { type = sqlite, durability = none }\n"
                        + "cairn.caches.c { ttl = 400ms, tiers = [l1, fast, main],"
                        + " l1 { max-entries = 64, coarse-clock = false },"
                        + " l2.max-entries = 100000 }"))) {
      TieredCache<Integer, String> c =
          TieredCache.open(
              r,
              "c",
              Codec.of(
                  (Integer i) -> Integer.toString(i).getBytes(),
                  b -> Integer.parseInt(new String(b))),
              Codec.utf8());
      List<List<Op>> perThread = new ArrayList<>();
      AtomicInteger remaining = new AtomicInteger(ops);
      CountDownLatch go = new CountDownLatch(1);
      ExecutorService pool = Executors.newFixedThreadPool(THREADS);
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        List<Op> mine = new ArrayList<>();
        perThread.add(mine);
        int thread = t;
        done.add(pool.submit(() -> run(c, thread, mine, remaining, go)));
      }
      go.countDown();
      for (Future<?> f : done) {
        f.get(10, TimeUnit.MINUTES);
      }
      pool.shutdown();
      List<Op> all = new ArrayList<>();
      perThread.forEach(all::addAll);
      check(all);
      c.close();
    }
  }

  private static void run(
      TieredCache<Integer, String> c,
      int thread,
      List<Op> out,
      AtomicInteger remaining,
      CountDownLatch go) {
    try {
      go.await();
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
    ThreadLocalRandom random = ThreadLocalRandom.current();
    int n = 0;
    while (remaining.getAndDecrement() > 0) {
      Op op = new Op();
      int p = random.nextInt(100);
      op.key = random.nextInt(KEYS);
      op.tag = tagOf(op.key);
      String produced = "t" + thread + "-" + n++;
      op.startMs = System.currentTimeMillis();
      op.start = System.nanoTime();
      if (p < 40) {
        op.kind = Kind.GET;
        op.value =
            c.get(
                op.key,
                k -> {
                  op.loaded = true;
                  op.loaderNanos = System.nanoTime();
                  return "l" + produced;
                },
                Set.of("g" + op.tag));
      } else if (p < 55) {
        op.kind = Kind.PEEK;
        op.value = c.getIfPresent(op.key);
      } else if (p < 88) {
        op.kind = Kind.PUT;
        op.value = "p" + produced;
        c.put(op.key, op.value, Set.of("g" + op.tag));
      } else if (p < 98) {
        op.kind = Kind.INVALIDATE;
        c.invalidate(op.key);
      } else {
        op.kind = Kind.TAG;
        op.tag = random.nextInt(TAGS);
        op.key = -1;
        c.invalidateTag("g" + op.tag);
      }
      op.end = System.nanoTime();
      op.endMs = System.currentTimeMillis();
      out.add(op);
    }
  }

  private static boolean writes(Op o) {
    return o.kind == Kind.PUT || o.kind == Kind.INVALIDATE || o.kind == Kind.TAG;
  }

  private static void check(List<Op> all) {
    Map<String, Op> producers = new HashMap<>();
    List<List<Op>> writesByKey = new ArrayList<>();
    for (int k = 0; k < KEYS; k++) {
      writesByKey.add(new ArrayList<>());
    }
    List<Op> tagOps = new ArrayList<>();
    for (Op o : all) {
      if (o.kind == Kind.PUT || (o.kind == Kind.GET && o.loaded)) {
        producers.put(o.value, o);
      }
      if (o.kind == Kind.TAG) {
        tagOps.add(o);
      } else if (writes(o)) {
        writesByKey.get(o.key).add(o);
      }
    }
    for (Op t : tagOps) {
      for (int k = t.tag; k < KEYS; k += TAGS) {
        writesByKey.get(k).add(t);
      }
    }
    for (List<Op> w : writesByKey) {
      w.sort(Comparator.comparingLong(o -> o.start));
    }
    long reads = 0;
    long hits = 0;
    long lostChecked = 0;
    List<String> violations = new ArrayList<>();
    for (Op r : all) {
      if (r.kind != Kind.GET && r.kind != Kind.PEEK) {
        continue;
      }
      reads++;
      List<Op> w = writesByKey.get(r.key);
      boolean served = r.value != null && !r.loaded;
      if (served) {
        hits++;
        Op p = producers.get(r.value);
        if (p == null || p.key != r.key) {
          violations.add("read of key " + r.key + " returned " + r.value + ", never written");
          continue;
        }
        long born = p.kind == Kind.PUT ? p.end : p.loaderNanos;
        for (Op x : w) {
          if (x != p && x.start > born && x.end < r.start) {
            violations.add(
                "stale: key " + r.key + " read " + r.value + " after " + x.kind + " ended");
            break;
          }
        }
        if (r.startMs > p.endMs + TTL_MS + 2) {
          violations.add(
              "expired: key "
                  + r.key
                  + " read "
                  + r.value
                  + " "
                  + (r.startMs - p.endMs)
                  + " ms after it was written (ttl "
                  + TTL_MS
                  + " ms)");
        }
      }
      // lost: the latest put that ended before the read, alone in [put.start, read.end]
      Op last = null;
      for (Op x : w) {
        if (x.kind == Kind.PUT && x.end < r.start && (last == null || x.end > last.end)) {
          last = x;
        }
      }
      if (last == null || r.endMs >= last.startMs + TTL_MS - 50) {
        continue;
      }
      boolean alone = true;
      for (Op x : w) {
        if (x != last && x.end > last.start && x.start < r.end) {
          alone = false;
          break;
        }
      }
      if (alone) {
        lostChecked++;
        if (!last.value.equals(r.value) || r.loaded) {
          violations.add(
              "lost: key "
                  + r.key
                  + " put "
                  + last.value
                  + " then read "
                  + r.value
                  + (r.loaded ? " (loaded)" : ""));
        }
      }
    }
    log.info(
        "{} operations, {} reads ({} served from a tier), {} reads checked for loss, {}"
            + " violations",
        all.size(),
        reads,
        hits,
        lostChecked,
        violations.size());
    assertThat(violations.subList(0, Math.min(20, violations.size())))
        .as("violations (first 20 of %d)", violations.size())
        .isEmpty();
    assertThat(hits).as("the workload reads cached values").isGreaterThan(reads / 10);
    assertThat(lostChecked).as("the loss check is exercised").isGreaterThan(100);
  }
}
