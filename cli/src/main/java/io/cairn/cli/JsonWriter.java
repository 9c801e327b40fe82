package io.cairn.cli;

import java.io.PrintWriter;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A streaming JSON writer: values go to the output as they are written, so memory does not grow
 * with the document (an {@code inspect --json} of 200,000 stores renders in constant space beyond
 * the stats themselves). Output is indented two spaces per level with {@code "key" : value}, as the
 * earlier Typesafe-rendered output was; or, made with {@link #oneLine}, a whole document on one
 * line (JSON lines: {@code cairn log}). Not thread-safe.
 */
final class JsonWriter {
  private final PrintWriter out;

  /** Per open container: whether it has had a member yet. */
  private final Deque<boolean[]> open = new ArrayDeque<>();

  private final boolean oneLine;

  private boolean afterName;

  JsonWriter(PrintWriter out) {
    this(out, false);
  }

  private JsonWriter(PrintWriter out, boolean oneLine) {
    this.out = out;
    this.oneLine = oneLine;
  }

  /** A writer that puts each document on one line ({@code "key":value}, no indentation). */
  static JsonWriter oneLine(PrintWriter out) {
    return new JsonWriter(out, true);
  }

  JsonWriter beginObject() {
    beforeValue();
    out.print('{');
    open.push(new boolean[] {false});
    return this;
  }

  JsonWriter endObject() {
    return end('}');
  }

  JsonWriter beginArray() {
    beforeValue();
    out.print('[');
    open.push(new boolean[] {false});
    return this;
  }

  JsonWriter endArray() {
    return end(']');
  }

  JsonWriter name(String name) {
    separate();
    string(name);
    out.print(oneLine ? ":" : " : ");
    afterName = true;
    return this;
  }

  JsonWriter value(String s) {
    beforeValue();
    if (s == null) {
      out.print("null");
    } else {
      string(s);
    }
    return this;
  }

  JsonWriter value(long n) {
    beforeValue();
    out.print(n);
    return this;
  }

  JsonWriter value(boolean b) {
    beforeValue();
    out.print(b);
    return this;
  }

  /** Ends the document with a newline and flushes. */
  void finish() {
    if (!open.isEmpty()) {
      throw new IllegalStateException("JSON document has " + open.size() + " open container(s)");
    }
    out.println();
    out.flush();
  }

  private JsonWriter end(char c) {
    boolean[] state = open.pop();
    if (state[0]) {
      newline();
    }
    out.print(c);
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
    if (state[0]) {
      out.print(',');
    }
    state[0] = true;
    newline();
  }

  private void newline() {
    if (oneLine) {
      return;
    }
    out.print('\n');
    for (int i = 0; i < open.size(); i++) {
      out.print("  ");
    }
  }

  private void string(String s) {
    out.print('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.print("\\\"");
        case '\\' -> out.print("\\\\");
        case '\n' -> out.print("\\n");
        case '\r' -> out.print("\\r");
        case '\t' -> out.print("\\t");
        case '\b' -> out.print("\\b");
        case '\f' -> out.print("\\f");
        default -> {
          if (c < 0x20 || c == 0x2028 || c == 0x2029) {
            out.printf("\\u%04x", (int) c);
          } else {
            out.print(c);
          }
        }
      }
    }
    out.print('"');
  }
}
