package io.cairn.cli;

import io.cairn.persistence.LeasedQueueStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.queue.QueueInspector;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Refuses an export or migration that would leave queue messages behind, before anything is
 * written. A durable queue keeps its messages in one of two places, chosen by the backend:
 *
 * <ul>
 *   <li>on an embedded backend (SQLite, RocksDB, memory), in its own log and key-value stores
 *       ({@code queue.<name>...}), which export and migrate copy exactly;
 *   <li>on a backend that offers {@link LeasedQueueStore} (PostgreSQL), in the server's queue
 *       table, outside the three stores: export and migrate do not copy it.
 * </ul>
 *
 * So a copy loses messages when the source keeps them in a queue table, or when the target would
 * keep them in one (the queue opened there reads its table, not the copied stores). In both cases a
 * queue holding messages (ready, delayed, leased or dead) is named with its counts and the copy is
 * refused; the operator lets consumers drain it (or purges it) and runs the command again. Empty
 * queues pass: there is nothing to lose.
 */
final class QueueCarryCheck {
  private QueueCarryCheck() {}

  /**
   * @param from the backend copied
   * @param to the backend written, or empty for an export (whose stream any backend may import)
   * @throws IllegalStateException naming each queue with messages that the copy would not carry
   */
  static void require(StorageBackend from, Optional<StorageBackend> to) {
    List<String> left = new ArrayList<>();
    Optional<LeasedQueueStore> table = from.extension(LeasedQueueStore.class);
    if (table.isPresent()) {
      for (String q : table.get().queues()) {
        LeasedQueueStore.Counts c = table.get().counts(q);
        left.add(
            describe(q, c.ready(), c.delayed(), c.leased(), c.dead())
                + " in the queue table of "
                + from.type()
                + " backend '"
                + from.name()
                + "'");
      }
    } else if (to.isPresent() && to.get().extension(LeasedQueueStore.class).isPresent()) {
      for (StoreId id : from.stores()) {
        if (id.kind() == StoreKind.LOG && id.name().startsWith("queue.")) {
          String q = id.name().substring("queue.".length());
          QueueInspector.Inspection i =
              QueueInspector.inspect(from, q, 0, false, Clock.systemUTC());
          if (i.pending() + i.delayed() + i.leased() + i.deadLetters() > 0) {
            left.add(
                describe(q, i.pending(), i.delayed(), i.leased(), i.deadLetters())
                    + " on "
                    + from.type()
                    + " backend '"
                    + from.name()
                    + "', while on "
                    + to.get().type()
                    + " backend '"
                    + to.get().name()
                    + "' a queue lives in the server's queue table, which a copy does not fill");
          }
        }
      }
    }
    if (!left.isEmpty()) {
      throw new IllegalStateException(
          "Cannot copy the stores without losing queue messages: "
              + String.join("; ", left)
              + ". Export and migrate copy the key-value, log and snapshot stores only. Let the"
              + " consumers drain these queues (or `cairn queue purge` them) and run the command"
              + " again; nothing was written.");
    }
  }

  private static String describe(String queue, long ready, long delayed, long leased, long dead) {
    return "queue '"
        + queue
        + "' holds "
        + ready
        + " ready, "
        + delayed
        + " delayed, "
        + leased
        + " leased and "
        + dead
        + " dead messages";
  }
}
