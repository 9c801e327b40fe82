package io.cairn.cli;

import com.typesafe.config.Config;
import io.cairn.persistence.Capability;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code cairn log}: the records of a backend's logs, with their offsets and append times ({@link
 * LogRecord#appendedAtMillis()}; a record written before the format stored the time shows "not
 * recorded", never a made-up time). Reads only: beside a running service the backend opens
 * read-only ({@link Cli#openForReading}); {@code tail --follow} always opens read-only ({@link
 * Cli#openReadOnly}) so it never holds the lock a service needs.
 *
 * <h2>Output</h2>
 *
 * Text: one line per record, {@code OFFSET APPENDED-AT SIZE PAYLOAD}. With {@code --json}: one JSON
 * object per line (JSON lines), {@code {"log":"events","offset":7,
 * "appendedAt":"2026-12-05T17:00:00.123Z","appendedAtMillis":1796490000123,"size":5,
 * "encoding":"utf8","payload":"hello"}}; {@code appendedAt} is null and {@code appendedAtMillis} -1
 * when not recorded; {@code payload} and {@code encoding} are absent with {@code --payload none}.
 * Payloads: {@code auto} (default) prints UTF-8 text as text and anything else as hex; {@code
 * utf8}, {@code hex}, {@code base64} force one rendering ({@code utf8} shows undecodable bytes as
 * U+FFFD); {@code none} prints sizes only. In text, control characters of a UTF-8 payload are
 * escaped ({@code \n}, {@code \t}, {@code \u0001}), so one record stays one line.
 *
 * <h2>Following</h2>
 *
 * {@code tail --follow} polls the log every {@code --poll} and prints what was appended, until
 * interrupted (Ctrl-C: the backend is closed before the process exits). SQLite's read-only
 * connection sees each new commit on the next read. A RocksDB secondary instance sees the owner's
 * state as of its open and the backend offers no catch-up call, so the backend is reopened (caught
 * up) on every poll that found nothing new. A backend whose data lives only in the process that
 * opened it (memory) cannot be followed from another process: exit 2, said so. If retention removes
 * records before they were printed, stderr names the skipped offsets.
 */
@Command(
    name = "log",
    mixinStandardHelpOptions = true,
    description = "Logs: tail (the newest records, optionally following) and dump.",
    subcommands = {LogCommand.Tail.class, LogCommand.Dump.class})
final class LogCommand extends CommandGroup {
  private static final int PAGE = 512;

  /** How payloads are printed. */
  enum Payload {
    auto,
    utf8,
    hex,
    base64,
    none
  }

  /** Options both subcommands share. */
  static final class Output {
    @Option(
        names = "--payload",
        paramLabel = "FORMAT",
        description =
            "How to print payloads: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}: UTF-8"
                + " text as text, anything else as hex).",
        defaultValue = "auto")
    Payload payload;

    @Option(
        names = "--json",
        description =
            "One JSON object per record and line: log, offset, appendedAt (ISO-8601 or null),"
                + " appendedAtMillis (-1: not recorded), size, encoding, payload.")
    boolean json;
  }

  @Command(
      name = "tail",
      mixinStandardHelpOptions = true,
      header = "Print the newest records of a log; --follow keeps printing new ones.",
      description = {
        "Print the last N records of a log (or every record from --from on), with",
        "offset, append time, size and payload. --follow then prints records as they",
        "are appended, until interrupted; it opens the backend read-only, so it runs",
        "beside the service that writes the log.",
        "",
        "Examples:",
        "  cairn log tail audit --config app.conf -n 20",
        "  cairn log tail audit --config app.conf --follow --json"
      })
  static final class Tail implements Callable<Integer> {
    @Mixin ConfigOption config;
    @Mixin BackendOption backendOption;
    @Mixin Output output;

    @Parameters(index = "0", paramLabel = "NAME", description = "The log's name.")
    String name;

    @Option(
        names = "-n",
        paramLabel = "N",
        defaultValue = "10",
        description = "How many of the newest records to print (default ${DEFAULT-VALUE}).")
    int last;

    @Option(
        names = "--from",
        paramLabel = "OFFSET",
        description = "Print every record from this offset on (instead of the last N).")
    Long from;

    @Option(names = "--follow", description = "Keep printing records as they are appended.")
    boolean follow;

    @Option(
        names = "--poll",
        paramLabel = "DURATION",
        defaultValue = "1s",
        description =
            "With --follow: how often to look for new records (default ${DEFAULT-VALUE}).")
    String poll;

    @Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
      if (last < 0) {
        throw new CommandLine.ParameterException(spec.commandLine(), "-n must be 0 or more");
      }
      checkOffset(spec, from);
      long pollMillis = Math.max(1, Cli.duration(spec, "--poll", poll).toMillis());
      Config loaded = config.load();
      String backendName = backendOption.resolve(loaded);
      Config one = Cli.only(loaded, backendName);
      Printer printer = new Printer(spec, output);
      if (!follow) {
        try (PersistenceRegistry registry = Cli.openForReading(one, spec.commandLine().getErr())) {
          LogStore log = requireLog(registry.backend(backendName), name);
          if (log == null) {
            return printer.missing(registry.backend(backendName), name);
          }
          // up to the end as of now: a log a service keeps appending to is not chased
          printer.copy(log, start(log), log.nextOffset(), null);
        }
        printer.out.flush();
        return CairnCommand.OK;
      }
      return follow(one, backendName, printer, pollMillis);
    }

    private long start(LogStore log) {
      return from != null ? from : Math.max(log.firstOffset(), log.nextOffset() - last);
    }

    private int follow(Config one, String backendName, Printer printer, long pollMillis)
        throws InterruptedException {
      PrintWriter err = spec.commandLine().getErr();
      PersistenceRegistry registry = Cli.openReadOnly(one);
      CountDownLatch closed = new CountDownLatch(1);
      // Ctrl-C runs this hook; the loop sees `stop` at its next wait (no interrupt: an interrupt
      // inside an engine call could close its file channel) and closes the backend.
      CountDownLatch stop = new CountDownLatch(1);
      Thread hook =
          new Thread(
              () -> {
                stop.countDown();
                try {
                  closed.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              },
              "cairn-log-follow-stop");
      Runtime.getRuntime().addShutdownHook(hook);
      try {
        StorageBackend backend = registry.backend(backendName);
        boolean reopen = "rocksdb".equals(backend.type());
        if (!reopen
            && !"sqlite".equals(backend.type())
            && !backend.capabilities().contains(Capability.MULTI_PROCESS)) {
          err.println(
              "cairn: cannot follow log '"
                  + name
                  + "': "
                  + backend.type()
                  + " backend '"
                  + backendName
                  + "' keeps its data in the process that opens it, so another process never"
                  + " sees its appends. Run without --follow, or follow from inside the service.");
          err.flush();
          return CairnCommand.USAGE;
        }
        LogStore log = requireLog(backend, name);
        if (log == null) {
          return printer.missing(backend, name);
        }
        long at = start(log);
        err.println(
            "cairn: following log '"
                + name
                + "' of "
                + backend.type()
                + " backend '"
                + backendName
                + "' from offset "
                + at
                + (reopen ? " (the RocksDB secondary instance is reopened to catch up)" : "")
                + "; interrupt (Ctrl-C) to stop");
        err.flush();
        while (true) {
          long next = printer.copy(log, at, Long.MAX_VALUE, null);
          boolean gotNew = next > at;
          at = next;
          printer.out.flush();
          if (stop.await(pollMillis, TimeUnit.MILLISECONDS)) {
            break;
          }
          if (reopen && !gotNew) {
            registry.close();
            registry = Cli.openReadOnly(one);
            backend = registry.backend(backendName);
            log = requireLog(backend, name);
            if (log == null) {
              return printer.missing(backend, name);
            }
          }
        }
        return CairnCommand.OK;
      } finally {
        try {
          registry.close();
        } finally {
          closed.countDown();
          try {
            Runtime.getRuntime().removeShutdownHook(hook);
          } catch (IllegalStateException shuttingDown) {
            // the hook is running: it waits for `closed`
          }
        }
      }
    }
  }

  @Command(
      name = "dump",
      mixinStandardHelpOptions = true,
      header = "Print the records of one log, or of every log of a backend.",
      description = {
        "Print every record of a log (or of every log of the backend when no NAME is",
        "given) with offset, append time, size and payload; --from and --after narrow",
        "it. Reads only: works beside the running service.",
        "",
        "Examples:",
        "  cairn log dump audit --config app.conf --after 2026-12-05T08:00:00Z",
        "  cairn log dump --config app.conf --json --payload base64 > logs.jsonl"
      })
  static final class Dump implements Callable<Integer> {
    @Mixin ConfigOption config;
    @Mixin BackendOption backendOption;
    @Mixin Output output;

    @Parameters(
        index = "0",
        arity = "0..1",
        paramLabel = "NAME",
        description = "The log's name (default: every log of the backend).")
    String name;

    @Option(
        names = "--from",
        paramLabel = "OFFSET",
        description = "Start at this offset (in each log).")
    Long from;

    @Option(
        names = "--after",
        paramLabel = "TIME",
        description =
            "Only records appended after this instant, ISO-8601 with a zone: 2026-12-05T17:00:00Z"
                + " or 2026-12-05T18:00:00+01:00. Records whose append time was not recorded are"
                + " left out (counted on stderr).")
    String after;

    @Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      checkOffset(spec, from);
      Long afterMillis = after == null ? null : instant(spec, after);
      Config loaded = config.load();
      String backendName = backendOption.resolve(loaded);
      Printer printer = new Printer(spec, output);
      printer.dumpAll = name == null;
      long[] unknownTime = {0};
      try (PersistenceRegistry registry =
          Cli.openForReading(Cli.only(loaded, backendName), spec.commandLine().getErr())) {
        StorageBackend backend = registry.backend(backendName);
        List<String> names = new ArrayList<>();
        if (name != null) {
          if (requireLog(backend, name) == null) {
            return printer.missing(backend, name);
          }
          names.add(name);
        } else {
          for (StoreId id : backend.stores()) {
            if (id.kind() == StoreKind.LOG) {
              names.add(id.name());
            }
          }
        }
        for (String n : names) {
          LogStore log = backend.log(n);
          long start = from == null ? log.firstOffset() : from;
          long end = log.nextOffset(); // records appended meanwhile are not waited for
          if (printer.dumpAll && !output.json) {
            printer.out.printf(
                "log %s: offsets %d..%d (%d records)%n",
                n, log.firstOffset(), end - 1, end - log.firstOffset());
          }
          printer.copy(
              log, start, end, afterMillis == null ? null : r -> keep(r, afterMillis, unknownTime));
        }
      }
      printer.out.flush();
      if (unknownTime[0] > 0) {
        spec.commandLine()
            .getErr()
            .printf(
                "cairn: %d record(s) left out: their append time was not recorded (written before"
                    + " the log format stored it), so they cannot be placed after %s%n",
                unknownTime[0], after);
        spec.commandLine().getErr().flush();
      }
      return CairnCommand.OK;
    }

    private static boolean keep(LogRecord r, long afterMillis, long[] unknownTime) {
      if (!r.hasAppendTime()) {
        unknownTime[0]++;
        return false;
      }
      return r.appendedAtMillis() > afterMillis;
    }
  }

  /** The log {@code name} of {@code backend}, or null when the backend has no such log. */
  static LogStore requireLog(StorageBackend backend, String name) {
    // looked up in stores() first: backend.log(name) would create an empty log
    return backend.stores().contains(new StoreId(StoreKind.LOG, name)) ? backend.log(name) : null;
  }

  static void checkOffset(CommandLine.Model.CommandSpec spec, Long offset) {
    if (offset != null && offset < 0) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--from takes an offset of 0 or more; got " + offset);
    }
  }

  /**
   * {@code --after}: an ISO-8601 instant with its zone; a unit-less or zone-less value is refused.
   */
  static long instant(CommandLine.Model.CommandSpec spec, String value) {
    try {
      return Instant.parse(value).toEpochMilli();
    } catch (DateTimeParseException e) {
      try {
        return OffsetDateTime.parse(value).toInstant().toEpochMilli();
      } catch (DateTimeParseException e2) {
        throw new CommandLine.ParameterException(
            spec.commandLine(),
            "--after takes an ISO-8601 instant with its zone, e.g. 2026-12-05T17:00:00Z (UTC) or"
                + " 2026-12-05T18:00:00+01:00; got '"
                + value
                + "'");
      }
    }
  }

  /** Prints records as text or JSON lines. */
  static final class Printer {
    final PrintWriter out;
    final PrintWriter err;
    final Output options;
    boolean dumpAll;

    Printer(CommandLine.Model.CommandSpec spec, Output options) {
      this.out = spec.commandLine().getOut();
      this.err = spec.commandLine().getErr();
      this.options = options;
    }

    int missing(StorageBackend backend, String name) {
      List<String> logs = new ArrayList<>();
      for (StoreId id : backend.stores()) {
        if (id.kind() == StoreKind.LOG) {
          logs.add(id.name());
        }
      }
      err.println(
          "cairn: no log '"
              + name
              + "' in "
              + backend.type()
              + " backend '"
              + backend.name()
              + "'; its logs: "
              + logs);
      err.flush();
      return CairnCommand.USAGE;
    }

    /**
     * Prints the records of {@code log} in {@code [from, end)} that {@code filter} keeps (all when
     * null); returns the offset after the last record read. Says on stderr when records below
     * {@code from}'s range were removed before they could be read.
     */
    long copy(LogStore log, long from, long end, java.util.function.Predicate<LogRecord> filter) {
      long at = from;
      while (at < end) {
        List<LogRecord> page = log.read(at, PAGE);
        if (page.isEmpty()) {
          break;
        }
        long first = page.get(0).offset();
        if (first > at && at > 0) {
          err.printf(
              "cairn: log '%s': records %d..%d were removed (retention or truncation) before they"
                  + " could be read%n",
              log.name(), at, first - 1);
          err.flush();
        }
        for (LogRecord r : page) {
          if (r.offset() >= end) {
            return at;
          }
          if (filter == null || filter.test(r)) {
            print(log.name(), r);
          }
          at = r.offset() + 1;
        }
      }
      return at;
    }

    private void print(String log, LogRecord r) {
      Payload p = options.payload;
      String encoding = null;
      String text = null;
      if (p != Payload.none) {
        if (p == Payload.auto) {
          String utf8 = strictUtf8(r.payload());
          p = utf8 != null ? Payload.utf8 : Payload.hex;
          text = utf8;
        }
        encoding = p.name();
        if (text == null) {
          text =
              switch (p) {
                case utf8 -> new String(r.payload(), StandardCharsets.UTF_8);
                case hex -> HexFormat.of().formatHex(r.payload());
                case base64 -> Base64.getEncoder().encodeToString(r.payload());
                default -> throw new IllegalStateException(p.name());
              };
        }
      }
      String time =
          r.hasAppendTime() ? Instant.ofEpochMilli(r.appendedAtMillis()).toString() : null;
      if (options.json) {
        JsonWriter w = JsonWriter.oneLine(out).beginObject();
        w.name("log").value(log).name("offset").value(r.offset());
        w.name("appendedAt").value(time).name("appendedAtMillis").value(r.appendedAtMillis());
        w.name("size").value(r.payload().length);
        if (encoding != null) {
          w.name("encoding").value(encoding).name("payload").value(text);
        }
        w.endObject();
        out.println();
        return;
      }
      StringBuilder line = new StringBuilder();
      if (dumpAll) {
        line.append(log).append(' ');
      }
      line.append(
          String.format(
              "%8d  %-24s  %9s",
              r.offset(), time == null ? "(not recorded)" : time, Sizes.human(r.payload().length)));
      if (encoding != null) {
        line.append("  ");
        if (p == Payload.utf8) {
          escape(text, line);
        } else {
          line.append(encoding).append(':').append(text);
        }
      }
      out.println(line);
    }

    /** The payload as text if it is well-formed UTF-8, else null. */
    private static String strictUtf8(byte[] b) {
      try {
        return StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(ByteBuffer.wrap(b))
            .toString();
      } catch (CharacterCodingException e) {
        return null;
      }
    }

    private static void escape(String s, StringBuilder b) {
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        switch (c) {
          case '\n' -> b.append("\\n");
          case '\r' -> b.append("\\r");
          case '\t' -> b.append("\\t");
          case '\\' -> b.append("\\\\");
          default -> {
            if (c < 0x20 || c == 0x7f || c == 0x2028 || c == 0x2029) {
              b.append(String.format("\\u%04x", (int) c));
            } else {
              b.append(c);
            }
          }
        }
      }
    }
  }
}
