package io.cairn.persistence;

import com.codahale.metrics.Counter;
import com.codahale.metrics.MetricRegistry;
import com.typesafe.config.Config;
import io.cairn.persistence.spi.EventType;
import io.cairn.persistence.spi.Events;
import io.cairn.persistence.spi.Settings;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sinks {@code cairn.events} configures (keys documented in persistence-api's reference.conf,
 * the event schema in docs/operations.md, "Events").
 *
 * <p>Each event is one line of JSON: {@code {"time":"<ISO-8601 UTC>","type":"<type>",
 * "backend":"<name>"|null, <fields...>}}, fields in the order the emitter gave them. The file sink
 * appends each line with one write to a file opened with {@code O_APPEND} (created {@code 0600},
 * never through a symbolic link), so lines from one process never interleave; it does not fsync
 * (events are diagnostics; a crash may lose the last lines). The SLF4J sink logs each line at INFO
 * to the configured logger. A failing write is logged once per streak of failures and counted in
 * {@code cairn.events.failures}; {@code cairn.events.emitted} counts lines written.
 */
final class EventSinks {
  private static final Logger LOG = LoggerFactory.getLogger(EventSinks.class);
  static final String SECTION = "cairn.events";
  static final String EMITTED = "cairn.events.emitted";
  static final String FAILURES = "cairn.events.failures";

  private EventSinks() {}

  enum Sink {
    OFF,
    FILE,
    SLF4J
  }

  /** The validated {@code cairn.events} section. */
  record Spec(Sink sink, Path file, String logger) {}

  /** Reads {@code cairn.events}; problems go to {@code problems}. Null when off. */
  static Spec read(Config root, Path baseDir, List<io.cairn.persistence.ConfigProblem> problems) {
    if (!root.hasPath(SECTION)) {
      return null;
    }
    Settings s = new Settings(root.getConfig(SECTION), SECTION, problems);
    s.rejectUnknownKeys(Set.of("sink", "file", "logger"), "cairn.events");
    Sink sink = s.oneOf("sink", Sink.class, Sink.OFF);
    String file = s.string("file", "");
    String logger = s.string("logger", "cairn.events");
    if (sink == Sink.FILE && file.isEmpty()) {
      s.problem("file", "a file path for sink = file", "an empty string");
      return null;
    }
    if (sink == Sink.SLF4J && logger.isBlank()) {
      s.problem("logger", "a logger name for sink = slf4j", "an empty string");
      return null;
    }
    if (sink == Sink.OFF) {
      return null;
    }
    Path base = baseDir != null ? baseDir : Path.of("");
    return new Spec(sink, base.resolve(file).toAbsolutePath().normalize(), logger);
  }

  /** Opens the sink {@code spec} names; the caller closes it. */
  static JsonLines open(Spec spec, Clock clock, MetricRegistry metrics) {
    if (spec.sink() == Sink.SLF4J) {
      Logger target = LoggerFactory.getLogger(spec.logger());
      return new JsonLines(clock, metrics, line -> target.info("{}", line), () -> {}, spec);
    }
    FileChannel ch;
    try {
      ch = openAppend(spec.file());
    } catch (IOException e) {
      throw new ConfigurationException(
          "Cannot open the event file "
              + spec.file()
              + " named by "
              + SECTION
              + ".file: "
              + e
              + ". Point it at a writable file (its directory must exist), or set "
              + SECTION
              + ".sink = off.");
    }
    FileChannel channel = ch;
    return new JsonLines(
        clock,
        metrics,
        line -> {
          try {
            ByteBuffer buf = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
            while (buf.hasRemaining()) {
              channel.write(buf);
            }
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        },
        () -> {
          try {
            channel.close();
          } catch (IOException e) {
            LOG.warn("Closing the event file {} failed: {}", spec.file(), e.toString());
          }
        },
        spec);
  }

  private static FileChannel openAppend(Path file) throws IOException {
    Set<StandardOpenOption> opts =
        Set.of(StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
    java.util.Set<java.nio.file.OpenOption> all = new java.util.HashSet<>(opts);
    all.add(LinkOption.NOFOLLOW_LINKS);
    if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
      return FileChannel.open(
          file,
          all,
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    }
    return FileChannel.open(file, all);
  }

  /** Writes events as JSON lines through {@code out}; thread-safe. */
  static final class JsonLines implements Events, AutoCloseable {
    private final Clock clock;
    private final java.util.function.Consumer<String> out;
    private final Runnable closer;
    private final Spec spec;
    private final Counter emitted;
    private final Counter failures;
    private boolean failing; // guarded by this
    private boolean closed; // guarded by this

    JsonLines(
        Clock clock,
        MetricRegistry metrics,
        java.util.function.Consumer<String> out,
        Runnable closer,
        Spec spec) {
      this.clock = clock;
      this.out = out;
      this.closer = closer;
      this.spec = spec;
      this.emitted = metrics.counter(EMITTED);
      this.failures = metrics.counter(FAILURES);
    }

    @Override
    public boolean enabled() {
      return true;
    }

    @Override
    public void emit(EventType type, String backend, Map<String, ?> fields) {
      Events.check(fields);
      StringBuilder b = new StringBuilder(128);
      b.append("{\"time\":");
      string(b, clock.instant().toString());
      b.append(",\"type\":");
      string(b, type.jsonName());
      b.append(",\"backend\":");
      value(b, backend);
      for (Map.Entry<String, ?> e : fields.entrySet()) {
        b.append(',');
        string(b, e.getKey());
        b.append(':');
        value(b, e.getValue());
      }
      b.append('}');
      String line = b.toString();
      synchronized (this) {
        if (closed) {
          return; // events after close (a late subsystem) are dropped, as documented
        }
        try {
          out.accept(line);
          emitted.inc();
          if (failing) {
            failing = false;
            LOG.info("Event sink {} works again", describe());
          }
        } catch (RuntimeException e) {
          failures.inc();
          if (!failing) {
            failing = true;
            LOG.warn(
                "Event sink {} failed; events are dropped until it works again (counted in {}): {}",
                describe(),
                FAILURES,
                e.toString());
          }
        }
      }
    }

    private String describe() {
      return spec.sink() == Sink.FILE ? "file " + spec.file() : "slf4j logger " + spec.logger();
    }

    @Override
    public synchronized void close() {
      if (!closed) {
        closed = true;
        closer.run();
      }
    }

    private static void value(StringBuilder b, Object v) {
      if (v == null) {
        b.append("null");
      } else if (v instanceof String s) {
        string(b, s);
      } else if (v instanceof Double d && (d.isNaN() || d.isInfinite())
          || v instanceof Float f && (f.isNaN() || f.isInfinite())) {
        string(b, v.toString()); // JSON has no NaN
      } else {
        b.append(v); // Number or Boolean (Events.check)
      }
    }

    static void string(StringBuilder b, String s) {
      b.append('"');
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        switch (c) {
          case '"' -> b.append("\\\"");
          case '\\' -> b.append("\\\\");
          case '\n' -> b.append("\\n");
          case '\r' -> b.append("\\r");
          case '\t' -> b.append("\\t");
          default -> {
            if (c < 0x20 || c == 0x2028 || c == 0x2029) {
              b.append(String.format("\\u%04x", (int) c));
            } else {
              b.append(c);
            }
          }
        }
      }
      b.append('"');
    }
  }
}
