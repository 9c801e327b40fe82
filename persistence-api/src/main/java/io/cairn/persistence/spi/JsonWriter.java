package io.cairn.persistence.spi;

import java.io.Flushable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Objects;

/**
 * A streaming JSON writer for the reports tools print or serve about backends (the {@code cairn}
 * command's {@code --json}, the admin endpoint): values go to the output as they are written, so
 * memory does not grow with the document. Two layouts: {@link #indented} (two spaces per level,
 * {@code "key" : value}) and {@link #oneLine} ({@code "key":value}, no white space: JSON lines,
 * HTTP bodies). Strings are escaped as RFC 8259 asks, plus U+2028 and U+2029 (so the text is also
 * valid JavaScript).
 *
 * <p>Not thread-safe. An {@link IOException} of the output is thrown as {@link
 * UncheckedIOException}; a {@link java.io.PrintWriter} never throws (check its {@code
 * checkError()}). Misuse the writer can see ({@code finish} with containers open, an end without a
 * begin) throws {@link IllegalStateException}; it does not check that names and values alternate.
 */
public final class JsonWriter {
  private final Appendable out;
  private final boolean oneLine;

  /** Per open container: whether it has had a member yet. */
  private final Deque<boolean[]> open = new ArrayDeque<>();

  private boolean afterName;

  private JsonWriter(Appendable out, boolean oneLine) {
    this.out = Objects.requireNonNull(out, "out");
    this.oneLine = oneLine;
  }

  /** A writer that indents two spaces per level and writes {@code "key" : value}. */
  public static JsonWriter indented(Appendable out) {
    return new JsonWriter(out, false);
  }

  /** A writer that puts a document on one line: {@code "key":value}, no white space. */
  public static JsonWriter oneLine(Appendable out) {
    return new JsonWriter(out, true);
  }

  public JsonWriter beginObject() {
    beforeValue();
    put('{');
    open.push(new boolean[] {false});
    return this;
  }

  public JsonWriter endObject() {
    return end('}');
  }

  public JsonWriter beginArray() {
    beforeValue();
    put('[');
    open.push(new boolean[] {false});
    return this;
  }

  public JsonWriter endArray() {
    return end(']');
  }

  /** The name of the next member of the open object. */
  public JsonWriter name(String name) {
    separate();
    string(Objects.requireNonNull(name, "name"));
    put(oneLine ? ":" : " : ");
    afterName = true;
    return this;
  }

  /** A string, or {@code null}. */
  public JsonWriter value(String s) {
    beforeValue();
    if (s == null) {
      put("null");
    } else {
      string(s);
    }
    return this;
  }

  public JsonWriter value(long n) {
    beforeValue();
    put(Long.toString(n));
    return this;
  }

  public JsonWriter value(boolean b) {
    beforeValue();
    put(Boolean.toString(b));
    return this;
  }

  /**
   * Ends the document with a newline and flushes the output if it is {@link Flushable}.
   *
   * @throws IllegalStateException if an object or array is still open
   */
  public void finish() {
    if (!open.isEmpty()) {
      throw new IllegalStateException("JSON document has " + open.size() + " open container(s)");
    }
    put('\n');
    if (out instanceof Flushable f) {
      try {
        f.flush();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  private JsonWriter end(char c) {
    if (open.isEmpty()) {
      throw new IllegalStateException("'" + c + "' without an open object or array");
    }
    boolean[] state = open.pop();
    if (state[0]) {
      newline();
    }
    put(c);
    return this;
  }

  private void beforeValue() {
    if (afterName) {
      afterName = false;
      return;
    }
    if (!open.isEmpty()) {
      separate();
    }
  }

  private void separate() {
    boolean[] state = open.peek();
    if (state == null) {
      throw new IllegalStateException("a member name outside an object");
    }
    if (state[0]) {
      put(',');
    }
    state[0] = true;
    newline();
  }

  private void newline() {
    if (oneLine) {
      return;
    }
    put('\n');
    for (int i = 0; i < open.size(); i++) {
      put("  ");
    }
  }

  private void string(String s) {
    put('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> put("\\\"");
        case '\\' -> put("\\\\");
        case '\n' -> put("\\n");
        case '\r' -> put("\\r");
        case '\t' -> put("\\t");
        case '\b' -> put("\\b");
        case '\f' -> put("\\f");
        default -> {
          if (c < 0x20 || c == 0x2028 || c == 0x2029) {
            put(String.format("\\u%04x", (int) c));
          } else {
            put(c);
          }
        }
      }
    }
    put('"');
  }

  private void put(char c) {
    try {
      out.append(c);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void put(String s) {
    try {
      out.append(s);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
