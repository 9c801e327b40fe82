package io.cairn.encryption;

import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.spi.KeyCheckStore;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The count of messages sealed under one AES-256-GCM key in one backend, enforced.
 *
 * <p><b>Counting.</b> Before a message is sealed it takes one unit of the block this process
 * reserved; when the block is used up, the next is reserved by adding its size to the key's count
 * in the key check record ({@link KeyCheckRecord}) with a compare-and-replace ({@link
 * KeyCheckStore#compareAndReplaceKeyCheck}), durably, before any message of it is sealed. So the
 * stored count is never below the messages sealed, across crashes and across processes sharing one
 * record (several processes on one PostgreSQL schema reserve disjoint blocks). A crash or a close
 * loses the unused rest of the block, counted as used, which is the safe side. Blocks start at
 * {@value #FIRST_BLOCK} and double up to {@value #MAX_BLOCK} per process, so a short-lived process
 * wastes little and a busy one rewrites the record once per million messages.
 *
 * <p><b>Limits.</b> From half the limit on, {@link #warning()} reports it (the backend's health
 * check turns unhealthy) and a warning is logged once; at the limit every further seal under the
 * key throws {@link PersistenceException} naming the backend, the key and what to run. Thread-safe:
 * the fast path is one atomic decrement.
 */
final class MessageBudget {
  static final long FIRST_BLOCK = 1 << 10;
  static final long MAX_BLOCK = 1 << 20;
  private static final Logger LOG = LoggerFactory.getLogger(MessageBudget.class);

  private final Backend backend;
  private final long keyId;
  private final boolean derived;
  // units left in this process's current block; below zero: reserve the next (under the lock)
  private final AtomicLong remaining = new AtomicLong(-1);
  private volatile long counted;
  private long nextBlock = FIRST_BLOCK;
  private boolean warned;

  private MessageBudget(Backend backend, long keyId, boolean derived, long counted) {
    this.backend = backend;
    this.keyId = keyId;
    this.derived = derived;
    this.counted = counted;
  }

  /** Takes one message, reserving a block first when needed. */
  void take() {
    if (remaining.decrementAndGet() < 0) {
      backend.refill(this);
    }
  }

  /** Messages counted (durably reserved) under the key in this backend, as last seen. */
  long counted() {
    return counted;
  }

  Optional<String> warning() {
    long c = counted;
    if (c >= backend.limit / 2) {
      return Optional.of(
          "Backend '"
              + backend.name
              + "': AES-256-GCM key "
              + keyId
              + " has "
              + c
              + " of its "
              + backend.limit
              + " messages counted (reserved) in this backend. "
              + whatToRun());
    }
    if (!derived) {
      return Optional.of(
          "Backend '"
              + backend.name
              + "': AES-256-GCM key "
              + keyId
              + " is used as the keyset holds it (data written before Cairn derived a key per"
              + " backend), so its messages in other backends and before the upgrade are not"
              + " counted. "
              + whatToRun());
    }
    return Optional.empty();
  }

  private String whatToRun() {
    return "Rotate the keyset (Keysets.rotate, stored through the key source) and reopen, then run"
        + " 'cairn rekey "
        + backend.name
        + "' (docs/security.md, \"Message budget nearly used\").";
  }

  /** The budgets of one backend: where its record is, its limit, the lock for reservations. */
  static final class Backend {
    private final String name;
    private final KeyCheckStore store;
    private final long limit;

    Backend(String name, KeyCheckStore store, long limit) {
      this.name = name;
      this.store = store;
      this.limit = limit;
    }

    String name() {
      return name;
    }

    KeyCheckStore store() {
      return store;
    }

    MessageBudget budget(long keyId, KeyCheckRecord record) {
      return new MessageBudget(this, keyId, record.derived(keyId), record.counted(keyId));
    }

    /** The current record, read from the store. */
    KeyCheckRecord read() {
      byte[] bytes =
          store
              .readKeyCheck()
              .orElseThrow(
                  () ->
                      new PersistenceException(
                          "Backend '"
                              + name
                              + "': the key check record ("
                              + store.keyCheckLocation()
                              + ") vanished while the backend was open; restore it from a"
                              + " backup"));
      return KeyCheckRecord.decode(bytes, store.keyCheckLocation());
    }

    /**
     * Replaces the record with {@code change} applied to the current one, atomically against other
     * processes (compare-and-replace, retried); returns the record written.
     */
    synchronized KeyCheckRecord update(java.util.function.UnaryOperator<KeyCheckRecord> change) {
      for (int attempt = 0; ; attempt++) {
        byte[] bytes = store.readKeyCheck().orElse(null);
        if (bytes == null || !KeyCheckRecord.isVersion2(bytes)) {
          read(); // names what is wrong
          throw new PersistenceException(
              "Backend '"
                  + name
                  + "': the key check record ("
                  + store.keyCheckLocation()
                  + ") was replaced by an older version while the backend was open");
        }
        KeyCheckRecord next = change.apply(KeyCheckRecord.decode(bytes, store.keyCheckLocation()));
        if (store.compareAndReplaceKeyCheck(bytes, next.encode())) {
          return next;
        }
        if (attempt > 1000) {
          throw new PersistenceException(
              "Backend '"
                  + name
                  + "': the key check record ("
                  + store.keyCheckLocation()
                  + ") kept changing under 1000 attempts to update it");
        }
      }
    }

    /** Reserves the next block for {@code b}, or throws at the limit. */
    synchronized void refill(MessageBudget b) {
      while (b.remaining.decrementAndGet() < 0) {
        long[] window = new long[1];
        KeyCheckRecord written =
            update(
                r -> {
                  long now = r.counted(b.keyId);
                  long room = limit - now;
                  if (room <= 0) {
                    b.counted = now;
                    throw refused(b, now);
                  }
                  window[0] = Math.min(b.nextBlock, room);
                  return r.withCounted(b.keyId, now + window[0]);
                });
        b.counted = written.counted(b.keyId);
        b.nextBlock = Math.min(MAX_BLOCK, b.nextBlock * 2);
        b.remaining.set(window[0]);
        if (!b.warned && b.counted >= limit / 2) {
          b.warned = true;
          LOG.warn("{}", b.warning().orElse(""));
        }
      }
    }

    private PersistenceException refused(MessageBudget b, long now) {
      return new PersistenceException(
          "Backend '"
              + name
              + "': AES-256-GCM key "
              + b.keyId
              + " has sealed its limit of "
              + limit
              + " messages in this backend ("
              + now
              + " counted in "
              + store.keyCheckLocation()
              + "), so writes under it are refused: one more could repeat a 96-bit random nonce."
              + " Nothing was written. "
              + b.whatToRun());
    }
  }
}
