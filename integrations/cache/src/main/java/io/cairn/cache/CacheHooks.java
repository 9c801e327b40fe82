package io.cairn.cache;

/**
 * Test-only observation points inside {@link TieredCache}'s miss and write paths, so that tests can
 * pause a thread at an exact step and run another operation to completion meanwhile (deterministic
 * interleavings). Production caches use {@link #NONE}; a hook is only consulted off the L1 hit
 * path.
 */
interface CacheHooks {
  /** Where a thread is. Each is reached by the thread doing that operation, with the key. */
  enum Step {
    /**
     * A miss has read L2 (hit or not) and has not yet handed L1's fill over or called the loader.
     */
    L2_READ,
    /** The loader returned a value that is about to be written back to the tiers. */
    LOAD_WRITE_BACK,
    /** A loaded value was written to L2 and not yet to L1. */
    LOAD_L2_WRITTEN,
    /** {@code put} has started and not yet written L2. */
    PUT_BEFORE_L2,
    /** {@code invalidate} has removed the L1 copy and not yet deleted from L2. */
    INVALIDATE_BEFORE_L2,
    /** A caller found a load of its key running that began before the key's last write. */
    FLIGHT_WAIT,
    /**
     * On the fill thread: a value found in a persistent tier is about to be checked against the
     * write sequence and stored in L1.
     */
    L1_FILL,
    /**
     * On the fill thread: a copy of a value found in a lower tier is about to be checked against
     * the write sequence and written to the tiers above.
     */
    UPWARD_FILL
  }

  CacheHooks NONE = (step, key) -> {};

  void at(Step step, Object key);
}
