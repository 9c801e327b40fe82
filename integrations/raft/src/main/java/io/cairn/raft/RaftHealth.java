package io.cairn.raft;

import com.codahale.metrics.health.HealthCheck;
import com.codahale.metrics.health.HealthCheckRegistry;

/**
 * The health check {@code <groups section>.<group>} (e.g. {@code cairn.raft-groups.orders}) of a
 * Raft group's storage opened through a registry: it reads the group's log bounds, so a closed
 * backend or a damaged state record makes it unhealthy with the storage's own message (naming the
 * group and the store); healthy, it says how many log entries the group holds. Opening the group
 * again replaces the check.
 */
final class RaftHealth extends HealthCheck {
  private final KeyValueRaftStorage storage;

  private RaftHealth(KeyValueRaftStorage storage) {
    this.storage = storage;
  }

  /** Registers (replacing) the check of {@code storage}'s group. */
  static void register(HealthCheckRegistry healthChecks, KeyValueRaftStorage storage) {
    String name = RaftSettings.RAFT + "." + storage.group();
    healthChecks.unregister(name);
    healthChecks.register(name, new RaftHealth(storage));
  }

  @Override
  protected Result check() {
    try {
      return Result.healthy(
          "Raft group '"
              + storage.group()
              + "': "
              + storage.logEntries()
              + " log entries at durability "
              + storage.durability());
    } catch (RuntimeException e) {
      return Result.unhealthy("Raft group '" + storage.group() + "': " + e.getMessage());
    }
  }
}
