package io.cairn.tck;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A {@link Clock} that only moves when told to. The TCK hands one to every backend it opens
 * (through {@code PersistenceRegistry.Builder.clock}) so TTL expiry is tested without sleeping.
 *
 * <p>Thread-safe: {@link #advance} and {@link #set} may be called while other threads read the
 * clock. Clocks derived with {@link #withZone} share the same instant.
 */
public final class ManualClock extends Clock {
  /** The instant every TCK test starts at: 2026-01-01T00:00:00Z. */
  public static final Instant START = Instant.parse("2026-01-01T00:00:00Z");

  private final AtomicReference<Instant> now;
  private final ZoneId zone;

  /** A clock standing at {@link #START} in UTC. */
  public ManualClock() {
    this(START);
  }

  /** A clock standing at {@code start} in UTC. */
  public ManualClock(Instant start) {
    this(new AtomicReference<>(Objects.requireNonNull(start, "start")), ZoneOffset.UTC);
  }

  private ManualClock(AtomicReference<Instant> now, ZoneId zone) {
    this.now = now;
    this.zone = zone;
  }

  /** Moves the clock forward by {@code by}, which must not be negative; returns the new instant. */
  public Instant advance(Duration by) {
    Objects.requireNonNull(by, "by");
    if (by.isNegative()) {
      throw new IllegalArgumentException("A manual clock only moves forward; got " + by);
    }
    return now.updateAndGet(t -> t.plus(by));
  }

  /** Moves the clock forward by {@code millis} milliseconds; returns the new instant. */
  public Instant advanceMillis(long millis) {
    return advance(Duration.ofMillis(millis));
  }

  /** Sets the clock to {@code instant}, which may be earlier than now (to test clock skew). */
  public void set(Instant instant) {
    now.set(Objects.requireNonNull(instant, "instant"));
  }

  @Override
  public Instant instant() {
    return now.get();
  }

  @Override
  public long millis() {
    return now.get().toEpochMilli();
  }

  @Override
  public ZoneId getZone() {
    return zone;
  }

  /** A view of the same instant in another zone; advancing either moves both. */
  @Override
  public Clock withZone(ZoneId zone) {
    return new ManualClock(now, Objects.requireNonNull(zone, "zone"));
  }

  @Override
  public String toString() {
    return "ManualClock[" + now.get() + "]";
  }
}
