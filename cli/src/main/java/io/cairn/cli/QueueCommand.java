package io.cairn.cli;

import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StorageBackend;
import io.cairn.queue.DeadLetter;
import io.cairn.queue.DurableQueue;
import io.cairn.queue.QueueInspector;
import io.cairn.queue.QueuePurge;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code cairn queue}: durable queues ({@code cairn-queue}) as stored. {@code list}, {@code peek}
 * and {@code dead-letters} only read ({@link QueueInspector}); {@code redrive} and {@code purge}
 * change the queue and need {@code --yes}. Payloads are shown as sizes unless {@code
 * --show-payloads} asks for them.
 */
@Command(
    name = "queue",
    mixinStandardHelpOptions = true,
    description = "Durable queues: list, peek, dead letters, redrive, purge.",
    subcommands = {
      QueueCommand.ListQueues.class,
      QueueCommand.Peek.class,
      QueueCommand.DeadLetters.class,
      QueueCommand.Redrive.class,
      QueueCommand.Purge.class
    })
final class QueueCommand extends CommandGroup {

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      header = "List queues with their message counts.",
      description = {
        "List the queues configured under cairn.queues and those stored on the",
        "backends, with pending, delayed, leased and dead-lettered counts. Reads only.",
        "",
        "Example: cairn queue list --config app.conf --json"
      })
  static final class ListQueues extends SubsystemCommand implements Callable<Integer> {
    @Override
    public Integer call() {
      PrintWriter out = out();
      try (PersistenceRegistry registry = openForReading()) {
        JsonWriter w = json ? new JsonWriter(out).beginObject().name("queues").beginArray() : null;
        if (w == null) {
          out.printf(
              "%-24s %-12s %10s %10s %10s %10s %12s%n",
              "QUEUE", "BACKEND", "PENDING", "DELAYED", "LEASED", "DEAD", "NEXT-ID");
        }
        for (String b : registry.backendNames()) {
          StorageBackend backend = registry.backend(b);
          for (String q : QueueInspector.queueNames(registry.config(), backend)) {
            QueueInspector.Inspection i =
                QueueInspector.inspect(backend, q, 0, false, Clock.systemUTC());
            if (w != null) {
              counts(w.beginObject(), i).endObject();
            } else {
              out.printf(
                  "%-24s %-12s %10d %10d %10d %10d %12d%n",
                  q, b, i.pending(), i.delayed(), i.leased(), i.deadLetters(), i.end());
            }
          }
        }
        if (w != null) {
          w.endArray().endObject().finish();
        }
      }
      out.flush();
      return CairnCommand.OK;
    }
  }

  @Command(
      name = "peek",
      mixinStandardHelpOptions = true,
      header = "Show the next messages without taking them.",
      description = {
        "Show the messages a consumer would be offered next, in id order, without",
        "leasing or changing them. Payloads are shown as sizes unless",
        "--show-payloads is given (then as UTF-8 text, or hex when not text).",
        "",
        "Example: cairn queue peek orders --max 5 --config app.conf"
      })
  static final class Peek extends SubsystemCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "QUEUE", description = "The queue name.")
    String queue;

    @Option(
        names = "--max",
        paramLabel = "N",
        defaultValue = "10",
        description = "How many messages to show (default ${DEFAULT-VALUE}).")
    int max;

    @Option(names = "--show-payloads", description = "Print payloads, not only their sizes.")
    boolean showPayloads;

    @Override
    public Integer call() {
      requireNotNegative("--max", max);
      PrintWriter out = out();
      try (PersistenceRegistry registry = openForReading()) {
        StorageBackend backend =
            registry.backend(QueueInspector.backendOf(registry.config(), queue));
        QueueInspector.Inspection i =
            QueueInspector.inspect(backend, queue, max, showPayloads, Clock.systemUTC());
        if (json) {
          JsonWriter w = counts(new JsonWriter(out).beginObject(), i).name("next").beginArray();
          for (QueueInspector.Message m : i.next()) {
            w.beginObject()
                .name("id")
                .value(m.id())
                .name("status")
                .value(m.status())
                .name("attempts")
                .value(m.attempts())
                .name("enqueuedAt")
                .value(m.enqueuedAt().toString())
                .name("visibleAt")
                .value(m.visibleAt().toString())
                .name("payloadBytes")
                .value(m.payloadBytes());
            if (m.payload() != null) {
              w.name("payload").value(show(m.payload()));
            }
            w.endObject();
          }
          w.endArray().endObject().finish();
        } else {
          out.printf(
              "Queue %s on %s: %d pending, %d delayed, %d leased, %d dead letters, next id %d%n",
              queue, i.backend(), i.pending(), i.delayed(), i.leased(), i.deadLetters(), i.end());
          for (QueueInspector.Message m : i.next()) {
            out.printf(
                "  %-10d %-14s attempts=%d enqueued=%s %d bytes%s%n",
                m.id(),
                m.status(),
                m.attempts(),
                m.enqueuedAt(),
                m.payloadBytes(),
                m.payload() == null ? "" : "  " + show(m.payload()));
          }
        }
      }
      out.flush();
      return CairnCommand.OK;
    }
  }

  @Command(
      name = "dead-letters",
      mixinStandardHelpOptions = true,
      header = "List a queue's dead letters.",
      description = {
        "List dead-lettered messages with attempts, times and reason. Reads only.",
        "",
        "Example: cairn queue dead-letters orders --config app.conf --json"
      })
  static final class DeadLetters extends SubsystemCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "QUEUE", description = "The queue name.")
    String queue;

    @Option(
        names = "--from",
        paramLabel = "ID",
        defaultValue = "0",
        description = "First message id to list (default ${DEFAULT-VALUE}).")
    long from;

    @Option(
        names = "--max",
        paramLabel = "N",
        defaultValue = "100",
        description = "How many to list (default ${DEFAULT-VALUE}).")
    int max;

    @Option(names = "--show-payloads", description = "Print payloads, not only their sizes.")
    boolean showPayloads;

    @Override
    public Integer call() {
      PrintWriter out = out();
      try (PersistenceRegistry registry = openForReading()) {
        StorageBackend backend =
            registry.backend(QueueInspector.backendOf(registry.config(), queue));
        List<DeadLetter<byte[]>> dead = QueueInspector.deadLetters(backend, queue, from, max);
        JsonWriter w =
            json ? new JsonWriter(out).beginObject().name("deadLetters").beginArray() : null;
        for (DeadLetter<byte[]> d : dead) {
          if (w != null) {
            w.beginObject()
                .name("id")
                .value(d.id())
                .name("attempts")
                .value(d.attempts())
                .name("enqueuedAt")
                .value(d.enqueuedAt().toString())
                .name("deadAt")
                .value(d.deadAt().toString())
                .name("reason")
                .value(d.reason())
                .name("payloadBytes")
                .value(d.payload().length);
            if (showPayloads) {
              w.name("payload").value(show(d.payload()));
            }
            w.endObject();
          } else {
            out.printf(
                "  %-10d attempts=%d dead=%s %d bytes  %s%s%n",
                d.id(),
                d.attempts(),
                d.deadAt(),
                d.payload().length,
                d.reason(),
                showPayloads ? "  " + show(d.payload()) : "");
          }
        }
        if (w != null) {
          w.endArray().endObject().finish();
        } else if (dead.isEmpty()) {
          out.println("  (no dead letters)");
        }
      }
      out.flush();
      return CairnCommand.OK;
    }
  }

  /** Either --all or one or more --id. */
  static final class Selection {
    @Option(names = "--all", required = true, description = "Every dead letter.")
    boolean all;

    @Option(
        names = "--id",
        paramLabel = "ID",
        required = true,
        description = "A dead letter's message id (repeatable).")
    List<Long> ids;
  }

  @Command(
      name = "redrive",
      mixinStandardHelpOptions = true,
      header = "Move dead letters back into the queue.",
      description = {
        "Move dead letters back into the queue as new messages (new ids, attempts",
        "reset), durably, one transaction per message. Opens the queue, so the",
        "service using it must be stopped. Needs --yes.",
        "",
        "Example: cairn queue redrive orders --all --yes --config app.conf"
      })
  static final class Redrive extends SubsystemCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "QUEUE", description = "The queue name.")
    String queue;

    @ArgGroup(multiplicity = "1")
    Selection selection;

    @Option(names = "--yes", description = "Confirm the change.")
    boolean yes;

    @Override
    public Integer call() {
      Cli.requireYes(spec, yes, "redrive dead letters of queue '" + queue + "'");
      PrintWriter out = out();
      long moved;
      try (PersistenceRegistry registry = openForWriting();
          DurableQueue<byte[]> q = DurableQueue.openRaw(registry, queue)) {
        moved = selection.all ? q.redriveAll() : q.redrive(selection.ids);
      }
      if (json) {
        new JsonWriter(out)
            .beginObject()
            .name("queue")
            .value(queue)
            .name("redriven")
            .value(moved)
            .endObject()
            .finish();
      } else {
        out.printf("Redrove %d dead letter(s) of queue %s%n", moved, queue);
      }
      out.flush();
      return CairnCommand.OK;
    }
  }

  @Command(
      name = "purge",
      mixinStandardHelpOptions = true,
      header = "Drop a queue's messages or dead letters.",
      description = {
        "Drop every unfinished message (pending, delayed and leased) with",
        "--messages, every dead letter with --dead-letters, or both. Message ids",
        "are never reused. Crash-safe: running it again after a crash finishes it.",
        "The service using the queue must be stopped. Needs --yes.",
        "",
        "Example: cairn queue purge orders --messages --yes --config app.conf"
      })
  static final class Purge extends SubsystemCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "QUEUE", description = "The queue name.")
    String queue;

    @Option(names = "--messages", description = "Drop unfinished messages.")
    boolean messages;

    @Option(names = "--dead-letters", description = "Drop dead letters.")
    boolean deadLetters;

    @Option(names = "--yes", description = "Confirm the change.")
    boolean yes;

    @Override
    public Integer call() {
      if (!messages && !deadLetters) {
        throw new picocli.CommandLine.ParameterException(
            spec.commandLine(), "say what to purge: --messages, --dead-letters or both");
      }
      Cli.requireYes(spec, yes, "purge queue '" + queue + "'");
      PrintWriter out = out();
      QueuePurge.Result r;
      try (PersistenceRegistry registry = openForWriting()) {
        StorageBackend backend =
            registry.backend(QueueInspector.backendOf(registry.config(), queue));
        r = QueuePurge.purge(backend, queue, messages, deadLetters);
      }
      if (json) {
        new JsonWriter(out)
            .beginObject()
            .name("queue")
            .value(queue)
            .name("messagesPurged")
            .value(r.messages())
            .name("deadLettersPurged")
            .value(r.deadLetters())
            .endObject()
            .finish();
      } else {
        out.printf(
            "Purged %d message(s) and %d dead letter(s) of queue %s%n",
            r.messages(), r.deadLetters(), queue);
      }
      out.flush();
      return CairnCommand.OK;
    }
  }

  static JsonWriter counts(JsonWriter w, QueueInspector.Inspection i) {
    return w.name("queue")
        .value(i.queue())
        .name("backend")
        .value(i.backend())
        .name("pending")
        .value(i.pending())
        .name("delayed")
        .value(i.delayed())
        .name("leased")
        .value(i.leased())
        .name("finished")
        .value(i.finished())
        .name("deadLetters")
        .value(i.deadLetters())
        .name("floor")
        .value(i.floor())
        .name("nextId")
        .value(i.end());
  }

  /** A payload for an operator: UTF-8 text when it decodes cleanly and prints, else hex. */
  static String show(byte[] payload) {
    String text = new String(payload, StandardCharsets.UTF_8);
    boolean printable =
        java.util.Arrays.equals(text.getBytes(StandardCharsets.UTF_8), payload)
            && text.codePoints().allMatch(c -> c >= 0x20 && c != 0x7f || c == '\t');
    return printable ? text : "hex:" + HexFormat.of().formatHex(payload);
  }
}
