package io.cairn.routing;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One entry of a {@link RouteTable}: the route key it is stored under, the targets traffic goes to,
 * how to choose among them, free-form metadata, and the version the table assigned when the route
 * was written.
 *
 * <p>Immutable and thread-safe. Build one with {@link #builder(String)}; the table assigns the
 * {@link #version()} on {@link RouteTable#put(Route)}, so a route built by a caller has version 0
 * until it is stored. {@link #equals} compares every field including the version.
 *
 * <h2>Limits</h2>
 *
 * <ul>
 *   <li>key: 0 to {@value #MAX_KEY_CHARS} characters (the empty key is a valid catch-all for
 *       longest-prefix resolution);
 *   <li>targets: at least one, at most {@value #MAX_TARGETS}; weights 0 to {@value #MAX_WEIGHT};
 *   <li>metadata: at most {@value #MAX_METADATA} entries, kept sorted by key.
 * </ul>
 *
 * Violations throw {@link IllegalArgumentException} from the builder; nothing is written.
 */
public final class Route {
  /** Longest route key, in UTF-16 characters. */
  public static final int MAX_KEY_CHARS = 4096;

  /** Most targets a route may have. */
  public static final int MAX_TARGETS = 4096;

  /** Largest weight a target may have. */
  public static final int MAX_WEIGHT = 1_000_000;

  /** Most metadata entries a route may have. */
  public static final int MAX_METADATA = 1024;

  /** How a client chooses among a route's targets. The table stores it; it does not balance. */
  public enum Policy {
    /** Pick a target at random in proportion to its weight; weight 0 takes no traffic. */
    WEIGHTED,
    /** Cycle through the targets in order, ignoring weights. */
    ROUND_ROBIN,
    /** Use the first target that is up, in the listed order; weights are ignored. */
    FAILOVER
  }

  /**
   * One destination of a route.
   *
   * @param address where traffic goes, e.g. {@code http://10.0.0.7:8080} or {@code orders-v2}; not
   *     empty
   * @param weight relative share under {@link Policy#WEIGHTED}, 0 to {@link #MAX_WEIGHT}
   */
  public record Target(String address, int weight) {
    public Target {
      Objects.requireNonNull(address, "address");
      if (address.isEmpty()) {
        throw new IllegalArgumentException("A route target's address must not be empty");
      }
      if (weight < 0 || weight > MAX_WEIGHT) {
        throw new IllegalArgumentException(
            "Weight of target '" + address + "' must be 0 to " + MAX_WEIGHT + ", got " + weight);
      }
    }
  }

  private final String key;
  private final List<Target> targets;
  private final Policy policy;
  private final Map<String, String> metadata;
  private final long version;

  private Route(
      String key, List<Target> targets, Policy policy, Map<String, String> metadata, long version) {
    this.key = key;
    this.targets = targets;
    this.policy = policy;
    this.metadata = metadata;
    this.version = version;
  }

  /** Starts a route for {@code key}. */
  public static Builder builder(String key) {
    return new Builder(key);
  }

  /** A {@link Policy#WEIGHTED} route to {@code addresses}, each with weight 1. */
  public static Route of(String key, String... addresses) {
    Builder b = builder(key);
    for (String a : addresses) {
      b.target(a, 1);
    }
    return b.build();
  }

  /** The route key this route is stored under (for a longest-prefix match: the matched prefix). */
  public String key() {
    return key;
  }

  /** The targets, in the order given; never empty. */
  public List<Target> targets() {
    return targets;
  }

  public Policy policy() {
    return policy;
  }

  /** Metadata sorted by key; unmodifiable. */
  public Map<String, String> metadata() {
    return metadata;
  }

  /**
   * The table version of the change that stored this route: unique and increasing within a table
   * (one more than the change's log offset). 0 for a route not yet stored.
   */
  public long version() {
    return version;
  }

  /** A builder initialised from this route (version excluded), for changing one field. */
  public Builder toBuilder() {
    Builder b = new Builder(key).policy(policy);
    b.targets.addAll(targets);
    b.metadata.putAll(metadata);
    return b;
  }

  Route withVersion(long newVersion) {
    return new Route(key, targets, policy, metadata, newVersion);
  }

  /** Same route with every field equal except the version (ignored). */
  boolean sameContent(Route other) {
    return key.equals(other.key)
        && targets.equals(other.targets)
        && policy == other.policy
        && metadata.equals(other.metadata);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Route r && version == r.version && sameContent(r);
  }

  @Override
  public int hashCode() {
    return Objects.hash(key, targets, policy, metadata, version);
  }

  @Override
  public String toString() {
    return "Route{key='"
        + key
        + "', targets="
        + targets
        + ", policy="
        + policy
        + (metadata.isEmpty() ? "" : ", metadata=" + metadata)
        + ", version="
        + version
        + "}";
  }

  static String checkKey(String key) {
    Objects.requireNonNull(key, "key");
    if (key.length() > MAX_KEY_CHARS) {
      throw new IllegalArgumentException(
          "Route key of "
              + key.length()
              + " characters exceeds the limit of "
              + MAX_KEY_CHARS
              + ": '"
              + key.substring(0, 64)
              + "...'");
    }
    return key;
  }

  /** Builds a {@link Route}. Not thread-safe. */
  public static final class Builder {
    private final String key;
    private final List<Target> targets = new ArrayList<>();
    private Policy policy = Policy.WEIGHTED;
    private final Map<String, String> metadata = new TreeMap<>();

    private Builder(String key) {
      this.key = checkKey(key);
    }

    /** Adds a target. */
    public Builder target(String address, int weight) {
      return target(new Target(address, weight));
    }

    /** Adds a target. */
    public Builder target(Target target) {
      targets.add(Objects.requireNonNull(target, "target"));
      return this;
    }

    /** Removes every target added so far. */
    public Builder clearTargets() {
      targets.clear();
      return this;
    }

    /** The selection policy; {@link Policy#WEIGHTED} by default. */
    public Builder policy(Policy policy) {
      this.policy = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /** Sets one metadata entry (replacing an earlier value for the same key). */
    public Builder metadata(String name, String value) {
      metadata.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /**
     * @throws IllegalArgumentException if there are no targets or a limit is exceeded
     */
    public Route build() {
      if (targets.isEmpty()) {
        throw new IllegalArgumentException("Route '" + key + "' needs at least one target");
      }
      if (targets.size() > MAX_TARGETS) {
        throw new IllegalArgumentException(
            "Route '" + key + "' has " + targets.size() + " targets; the limit is " + MAX_TARGETS);
      }
      if (metadata.size() > MAX_METADATA) {
        throw new IllegalArgumentException(
            "Route '"
                + key
                + "' has "
                + metadata.size()
                + " metadata entries; the limit is "
                + MAX_METADATA);
      }
      return new Route(
          key,
          List.copyOf(targets),
          policy,
          Collections.unmodifiableMap(new TreeMap<>(metadata)),
          0);
    }
  }
}
