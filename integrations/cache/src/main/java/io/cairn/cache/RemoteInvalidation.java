package io.cairn.cache;

import io.cairn.persistence.Capability;
import io.cairn.persistence.ChangeNotifications;
import io.cairn.persistence.StorageBackend;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the L1 of one {@link TieredCache} consistent with writes made by other instances of the
 * cache (other processes) on a shared, {@link Capability#MULTI_PROCESS} backend, through that
 * backend's {@link ChangeNotifications} (PostgreSQL: {@code LISTEN/NOTIFY}). Without such a backend
 * it is {@link #NONE} and costs one no-op call per write.
 *
 * <h2>Messages (channel {@code cache.<name>})</h2>
 *
 * One notification carries one or more lines, at most {@link ChangeNotifications#MAX_MESSAGE_BYTES}
 * in all:
 *
 * <pre>
 * k:&lt;base64 of the encoded key&gt;   put or invalidate of that key: drop its L1 copy
 * t:&lt;tag&gt;                         invalidateTag: re-read the tag's generation, drop tagged copies
 * a                               invalidateAll, or anything too long to name: clear L1
 * </pre>
 *
 * <h2>Timing and the bound</h2>
 *
 * A write is announced after it returned (so after it is durable in the shared tier), by the daemon
 * thread {@code cairn-cache-notify-<name>}, which batches what queued meanwhile into few
 * notifications; a receiving instance drops the copies on its subscription thread through the
 * cache's write sequence (a load of that key running there caches nothing). So another instance's
 * L1 stops serving a value overwritten or invalidated elsewhere within the notification latency
 * (normally milliseconds). When a notification may have been lost, the receiving instance is told
 * to resync (after its listening connection reconnects; PostgreSQL: a broken idle connection is
 * found within about 15 s) and then clears its whole L1 and forgets its tag generations: safe,
 * costing only misses. If announcing fails on the writing instance (the backend unreachable right
 * after the write), a "clear all" is owed and retried every second until it is sent. Writes made by
 * an instance that is not running this code (another Cairn version, or SQL by hand) are not
 * announced: documented, not detectable.
 *
 * <h2>Resyncs, and a closed backend</h2>
 *
 * L1 is cleared only when a resync says notices may have been lost: once at subscribe (the cache's
 * open waits for it, so that it cannot empty an L1 filled afterwards) and after every reconnect or
 * overflow of the backend's subscription (the {@link ChangeNotifications} contract). Closing the
 * backend ends the subscription without a resync: L1 keeps serving its copies (TieredCache's
 * "Degradation") while hearing no other instance's writes, so they may be stale until they expire.
 * A resync after open that no reconnect caused would break that, emptying an L1 the caller has
 * filled: {@code subscribe} must resync once (the ChangeNotifications contract; PostgreSQL once
 * sent a second one, TieredCacheTest's closed-backend case).
 *
 * <p>Thread-safe.
 */
class RemoteInvalidation implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RemoteInvalidation.class);
  private static final int MAX_QUEUED = 10_000;
  private static final long RETRY_MILLIS = 1_000;
  private static final String ALL = "a";

  /** For caches without a notifying shared backend: does nothing. */
  static final RemoteInvalidation NONE = new RemoteInvalidation();

  private final String cacheName;
  private final ChangeNotifications notifications;
  private final String channel;
  private final Consumer<byte[]> dropKey;
  private final Consumer<String> dropTag;
  private final Runnable dropAll;
  private final LinkedBlockingQueue<String> outbox = new LinkedBlockingQueue<>();
  private final Thread sender;
  private final ChangeNotifications.Subscription subscription;
  private volatile boolean closed;
  private final java.util.concurrent.CountDownLatch firstResync =
      new java.util.concurrent.CountDownLatch(1);
  private static final long FIRST_RESYNC_WAIT_SECONDS = 10;

  private RemoteInvalidation() {
    this.cacheName = "";
    this.notifications = null;
    this.channel = "";
    this.dropKey = k -> {};
    this.dropTag = t -> {};
    this.dropAll = () -> {};
    this.sender = null;
    this.subscription = null;
  }

  private RemoteInvalidation(
      String cacheName,
      ChangeNotifications notifications,
      Consumer<byte[]> dropKey,
      Consumer<String> dropTag,
      Runnable dropAll) {
    this.cacheName = cacheName;
    this.notifications = notifications;
    this.channel = "cache." + cacheName;
    this.dropKey = dropKey;
    this.dropTag = dropTag;
    this.dropAll = dropAll;
    this.sender = new Thread(this::sendLoop, "cairn-cache-notify-" + cacheName);
    sender.setDaemon(true);
    sender.start();
    this.subscription =
        notifications.subscribe(
            channel,
            new ChangeNotifications.Listener() {
              @Override
              public void onMessage(String message) {
                receive(message);
              }

              @Override
              public void resync() {
                dropAll.run();
                firstResync.countDown();
              }
            });
    // The first resync clears L1; wait for it (bounded) so that it cannot empty a freshly
    // warmed L1 later. If it has not come by then the backend is unreachable and L1 is empty.
    try {
      firstResync.await(FIRST_RESYNC_WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * For a cache whose persistent tiers are on {@code backends}: the first MULTI_PROCESS backend
   * offering {@link ChangeNotifications} carries the messages; {@link #NONE} if there is none. The
   * callbacks run on the subscription's thread and must go through the cache's write sequence.
   */
  static RemoteInvalidation attach(
      String cacheName,
      List<StorageBackend> backends,
      Consumer<byte[]> dropKey,
      Consumer<String> dropTag,
      Runnable dropAll) {
    for (StorageBackend b : backends) {
      if (!b.capabilities().contains(Capability.MULTI_PROCESS)) {
        continue;
      }
      Optional<ChangeNotifications> n = b.extension(ChangeNotifications.class);
      if (n.isPresent()) {
        return new RemoteInvalidation(cacheName, n.get(), dropKey, dropTag, dropAll);
      }
      log.warn(
          "Cache '{}': backend '{}' is shared by several processes but offers no change"
              + " notifications; other instances' writes are not seen in this L1 until its entries"
              + " expire (set a short ttl, or use a backend with notifications)",
          cacheName,
          b.name());
    }
    return NONE;
  }

  /** After a put or invalidate of encoded key {@code key} returned. */
  void written(byte[] key) {
    if (notifications != null) {
      String line = "k:" + Base64.getEncoder().encodeToString(key);
      queue(line.length() + 1 > ChangeNotifications.MAX_MESSAGE_BYTES ? ALL : line);
    }
  }

  /** After invalidateTag returned. */
  void tagInvalidated(String tag) {
    if (notifications != null) {
      String line = "t:" + tag;
      // tags are at most 256 UTF-8 bytes (StoredValue.checkTags): always fits; "t:" keeps them
      // apart
      queue(line);
    }
  }

  /** After invalidateAll returned. */
  void cleared() {
    if (notifications != null) {
      queue(ALL);
    }
  }

  private void queue(String line) {
    if (closed) {
      return;
    }
    if (outbox.size() >= MAX_QUEUED) {
      outbox.clear(); // one "clear all" covers everything dropped
      outbox.offer(ALL);
      return;
    }
    outbox.offer(line);
  }

  private void sendLoop() {
    boolean owed = false; // a message could not be sent: peers must clear
    while (!closed) {
      List<String> lines = new ArrayList<>();
      try {
        String first = owed ? outbox.poll(RETRY_MILLIS, TimeUnit.MILLISECONDS) : outbox.take();
        if (first != null) {
          lines.add(first);
        }
      } catch (InterruptedException e) {
        if (closed) {
          return;
        }
        continue;
      }
      List<String> messages = owed ? List.of(ALL) : pack(lines);
      try {
        for (String m : messages) {
          notifications.publish(channel, m);
        }
        if (owed) {
          log.info(
              "Cache '{}': other instances told to clear their L1 after a failed notice",
              cacheName);
        }
        owed = false;
      } catch (RuntimeException e) {
        if (!owed) {
          log.warn(
              "Cache '{}': could not tell other instances about writes ({}); they will be told to"
                  + " clear their L1 once the backend is reachable (retried every {} ms)",
              cacheName,
              e.getMessage(),
              RETRY_MILLIS);
        }
        owed = !closed;
        outbox.clear(); // covered by the owed "clear all"
      }
    }
  }

  /** The queued lines (first, plus what else is waiting) as messages within the size limit. */
  private List<String> pack(List<String> lines) {
    outbox.drainTo(lines, 1000);
    List<String> messages = new ArrayList<>();
    StringBuilder m = new StringBuilder();
    for (String line : lines) {
      if (line.equals(ALL)) {
        return List.of(ALL); // clears everything the other lines name
      }
      if (m.length() > 0
          && m.length() + 1 + line.length() > ChangeNotifications.MAX_MESSAGE_BYTES) {
        messages.add(m.toString());
        m.setLength(0);
      }
      if (m.length() > 0) {
        m.append('\n');
      }
      m.append(line);
    }
    if (m.length() > 0) {
      messages.add(m.toString());
    }
    return messages;
  }

  private void receive(String message) {
    for (String line : message.split("\n", -1)) {
      if (line.startsWith("k:")) {
        byte[] key;
        try {
          key = Base64.getDecoder().decode(line.substring(2));
        } catch (IllegalArgumentException e) {
          log.warn(
              "Cache '{}': undecodable invalidation notice; clearing L1 to be safe", cacheName);
          dropAll.run();
          return;
        }
        try {
          dropKey.accept(key);
        } catch (RuntimeException e) { // the key codec refused it (another version?): be safe
          log.warn(
              "Cache '{}': could not drop a key named by another instance ({}); clearing L1",
              cacheName,
              e.toString());
          dropAll.run();
          return;
        }
      } else if (line.startsWith("t:")) {
        dropTag.accept(line.substring(2));
      } else {
        dropAll.run(); // "a", or a line this version does not know: the safe answer
      }
    }
  }

  /**
   * Stops listening, then sends what is queued (waiting up to 2 s for it) and stops sending; a
   * notice still unsent then is lost and the peers' copies of those keys live until they expire.
   */
  @Override
  public void close() {
    if (notifications == null || closed) {
      return;
    }
    subscription.close();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    while (!outbox.isEmpty() && System.nanoTime() < deadline) {
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    closed = true;
    sender.interrupt();
    try {
      sender.join(TimeUnit.SECONDS.toMillis(2));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return "RemoteInvalidation[" + channel + "]";
  }
}
