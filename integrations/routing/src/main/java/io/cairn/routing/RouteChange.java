package io.cairn.routing;

import java.util.Optional;

/**
 * One applied change of a {@link RouteTable}, as told to a {@link RouteListener}.
 *
 * @param key the route key that changed
 * @param previous the route stored before the change, or {@code null} if there was none
 * @param current the route stored after the change, or {@code null} if the change removed it
 * @param version the table version of the change (its log offset plus one)
 */
public record RouteChange(String key, Route previous, Route current, long version) {
  /** Whether the change removed the route. */
  public boolean isRemoval() {
    return current == null;
  }

  public Optional<Route> previousRoute() {
    return Optional.ofNullable(previous);
  }

  public Optional<Route> currentRoute() {
    return Optional.ofNullable(current);
  }
}
