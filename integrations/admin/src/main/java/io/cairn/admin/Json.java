package io.cairn.admin;

import java.util.ArrayDeque;
import java.util.Deque;

/** A small JSON text builder: objects, arrays, strings, numbers, booleans; strings escaped. */
final class Json {
  private final StringBuilder out = new StringBuilder();
  // One flag per open container: has it got a member yet?
  private final Deque<boolean[]> open = new ArrayDeque<>();
  private boolean afterName;

  Json beginObject() {
    beforeValue();
    out.append('{');
    open.push(new boolean[1]);
    return this;
  }

  Json endObject() {
    open.pop();
    out.append('}');
    return this;
  }

  Json beginArray() {
    beforeValue();
    out.append('[');
    open.push(new boolean[1]);
    return this;
  }

  Json endArray() {
    open.pop();
    out.append(']');
    return this;
  }

  Json name(String name) {
    separate();
    string(name);
    out.append(':');
    afterName = true;
    return this;
  }

  Json value(String s) {
    beforeValue();
    if (s == null) {
      out.append("null");
    } else {
      string(s);
    }
    return this;
  }

  Json value(long n) {
    beforeValue();
    out.append(n);
    return this;
  }

  Json value(boolean b) {
    beforeValue();
    out.append(b);
    return this;
  }

  String text() {
    return out.toString();
  }

  private void beforeValue() {
    if (afterName) {
      afterName = false;
    } else {
      separate();
    }
  }

  private void separate() {
    if (!open.isEmpty()) {
      boolean[] hasMember = open.peek();
      if (hasMember[0]) {
        out.append(',');
      }
      hasMember[0] = true;
    }
  }

  private void string(String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }
}
