package io.cairn.persistence;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** A typed view over a {@link LogStore}. Same contract as the log underneath. */
public final class TypedLogStore<T> {
  private final LogStore log;
  private final Codec<T> codec;

  public TypedLogStore(LogStore log, Codec<T> codec) {
    this.log = Objects.requireNonNull(log, "log");
    this.codec = Objects.requireNonNull(codec, "codec");
  }

  /** A decoded record. */
  public record Record<T>(long offset, T value) {}

  public LogStore raw() {
    return log;
  }

  public long append(T value) {
    return log.append(codec.encode(value));
  }

  public List<Record<T>> read(long fromOffset, int maxRecords) {
    List<LogRecord> raw = log.read(fromOffset, maxRecords);
    List<Record<T>> out = new ArrayList<>(raw.size());
    for (LogRecord r : raw) {
      out.add(new Record<>(r.offset(), codec.decode(r.payload())));
    }
    return out;
  }
}
