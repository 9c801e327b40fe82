package io.cairn.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds the line on which each key of a TOML document is defined, because night-config's parser
 * does not track positions. Only used on text that night-config has already parsed successfully, so
 * it recognises structure and never reports errors; where it cannot tell, callers fall back to the
 * nearest ancestor's line.
 *
 * <h2>Paths</h2>
 *
 * A path is a list of segments: a {@link String} for a table key and an {@link Integer} for an
 * element of an array (an array of tables {@code [[x]]} or an inline array), e.g. {@code ["fruits",
 * 1, "name"]}. Keys are unquoted and unescaped exactly as TOML defines them, so they are equal to
 * the keys night-config produces.
 *
 * <h2>What is recorded</h2>
 *
 * <ul>
 *   <li>{@code [a.b]}: {@code a.b} at the header's line (an explicit header wins over an earlier
 *       implicit definition); {@code a} at that line unless already defined.
 *   <li>{@code [[a.b]]}: the array {@code a.b} at its first header, and element {@code a.b[i]} at
 *       the i-th header. Later headers that name {@code a.b} as a prefix refer to its last element,
 *       as TOML specifies.
 *   <li>{@code a.b.c = v} (relative to the current table): the full path at the key's line, and the
 *       implicit tables {@code a}, {@code a.b} there unless already defined.
 *   <li>Inside values: each element of an array at the line the element starts, and each key of an
 *       inline table at its own line.
 * </ul>
 *
 * Strings (basic, literal, and both multi-line forms) and comments are skipped with their escapes,
 * so text that looks like a key or a table header inside them is not mistaken for one.
 *
 * <p>Not thread-safe; one instance per document via {@link #locate(String)}.
 */
final class TomlLineLocator {
  private final String s;
  private int pos;
  private int line = 1;
  private final Map<List<Object>, Integer> lines = new HashMap<>();
  private final Map<List<Object>, Integer> arraySizes = new HashMap<>();
  private List<Object> table = List.of();

  private TomlLineLocator(String text) {
    this.s = text;
  }

  /** Maps every key path and array element of {@code text} to its 1-based defining line. */
  static Map<List<Object>, Integer> locate(String text) {
    TomlLineLocator l = new TomlLineLocator(text);
    l.document();
    return Collections.unmodifiableMap(l.lines);
  }

  private void document() {
    while (true) {
      skipBlank(true);
      if (eof()) {
        return;
      }
      int start = pos;
      if (peek() == '[') {
        header();
      } else {
        keyValue(table);
      }
      skipRestOfLine();
      if (pos == start) {
        advance(); // never loop on text this scanner does not understand
      }
    }
  }

  private void header() {
    int headerLine = line;
    boolean arrayOfTables = peekAt(1) == '[';
    advance();
    if (arrayOfTables) {
      advance();
    }
    List<String> keys = key();
    List<Object> path = new ArrayList<>();
    for (int i = 0; i < keys.size(); i++) {
      path.add(keys.get(i));
      List<Object> prefix = List.copyOf(path);
      boolean last = i == keys.size() - 1;
      if (!last) {
        lines.putIfAbsent(prefix, headerLine);
        Integer size = arraySizes.get(prefix);
        if (size != null) {
          path.add(size - 1); // a prefix naming an array of tables means its last element
        }
      }
    }
    List<Object> full = List.copyOf(path);
    if (arrayOfTables) {
      lines.putIfAbsent(full, headerLine);
      int index = arraySizes.merge(full, 1, Integer::sum) - 1;
      table = append(full, index);
    } else {
      table = full;
    }
    lines.put(table, headerLine);
  }

  /** {@code key = value} relative to {@code base}; leaves the cursor after the value. */
  private void keyValue(List<Object> base) {
    int keyLine = line;
    List<String> keys = key();
    skipInline();
    if (peek() != '=') {
      return;
    }
    advance();
    List<Object> path = new ArrayList<>(base);
    for (int i = 0; i < keys.size(); i++) {
      path.add(keys.get(i));
      if (i < keys.size() - 1) {
        lines.putIfAbsent(List.copyOf(path), keyLine);
      }
    }
    List<Object> full = List.copyOf(path);
    lines.put(full, keyLine);
    skipInline();
    value(full);
  }

  /** A dotted key of bare and quoted parts. */
  private List<String> key() {
    List<String> parts = new ArrayList<>();
    while (!eof()) {
      skipInline();
      char c = peek();
      if (c == '"') {
        parts.add(basicString());
      } else if (c == '\'') {
        parts.add(literalString());
      } else {
        StringBuilder bare = new StringBuilder();
        while (!eof() && " \t.=]\r\n#".indexOf(peek()) < 0) {
          bare.append(advance());
        }
        parts.add(bare.toString());
      }
      skipInline();
      if (!eof() && peek() == '.') {
        advance();
      } else {
        break;
      }
    }
    return parts;
  }

  private void value(List<Object> path) {
    if (eof()) {
      return;
    }
    char c = peek();
    if (c == '"') {
      if (s.startsWith("\"\"\"", pos)) {
        multiline('"');
      } else {
        basicString();
      }
    } else if (c == '\'') {
      if (s.startsWith("'''", pos)) {
        multiline('\'');
      } else {
        literalString();
      }
    } else if (c == '[') {
      array(path);
    } else if (c == '{') {
      inlineTable(path);
    } else {
      while (!eof() && ",]}#\r\n".indexOf(peek()) < 0) {
        advance(); // number, boolean or date-time (which may contain a space)
      }
    }
  }

  private void array(List<Object> path) {
    advance(); // [
    int index = 0;
    while (true) {
      skipBlank(true);
      if (eof()) {
        return;
      }
      if (peek() == ']') {
        advance();
        return;
      }
      int start = pos;
      List<Object> element = append(path, index);
      lines.put(element, line);
      value(element);
      skipBlank(true);
      if (!eof() && peek() == ',') {
        advance();
      }
      if (pos == start) {
        advance();
      }
      index++;
    }
  }

  private void inlineTable(List<Object> path) {
    advance(); // {
    while (true) {
      skipBlank(true);
      if (eof()) {
        return;
      }
      if (peek() == '}') {
        advance();
        return;
      }
      int start = pos;
      keyValue(path);
      skipBlank(true);
      if (!eof() && peek() == ',') {
        advance();
      }
      if (pos == start) {
        advance();
      }
    }
  }

  /** A {@code "basic"} string, returned unescaped. */
  private String basicString() {
    advance(); // "
    StringBuilder sb = new StringBuilder();
    while (!eof() && peek() != '"' && peek() != '\n') {
      char c = advance();
      if (c == '\\' && !eof()) {
        char e = advance();
        switch (e) {
          case 'b' -> sb.append('\b');
          case 't' -> sb.append('\t');
          case 'n' -> sb.append('\n');
          case 'f' -> sb.append('\f');
          case 'r' -> sb.append('\r');
          case 'u' -> sb.appendCodePoint(hex(4));
          case 'U' -> sb.appendCodePoint(hex(8));
          default -> sb.append(e);
        }
      } else {
        sb.append(c);
      }
    }
    if (!eof() && peek() == '"') {
      advance();
    }
    return sb.toString();
  }

  private int hex(int digits) {
    int end = Math.min(s.length(), pos + digits);
    String h = s.substring(pos, end);
    while (pos < end) {
      advance();
    }
    try {
      return Integer.parseInt(h, 16);
    } catch (NumberFormatException e) {
      return '?';
    }
  }

  /** A {@code 'literal'} string, returned as written. */
  private String literalString() {
    advance(); // '
    int start = pos;
    while (!eof() && peek() != '\'' && peek() != '\n') {
      advance();
    }
    String text = s.substring(start, pos);
    if (!eof() && peek() == '\'') {
      advance();
    }
    return text;
  }

  /** A multi-line string opened by three {@code quote}s; closing quotes may be followed by two. */
  private void multiline(char quote) {
    pos += 3;
    String close = String.valueOf(quote).repeat(3);
    while (!eof()) {
      if (quote == '"' && peek() == '\\') {
        advance();
        if (!eof()) {
          advance();
        }
      } else if (s.startsWith(close, pos)) {
        pos += 3;
        for (int extra = 0; extra < 2 && !eof() && peek() == quote; extra++) {
          advance();
        }
        return;
      } else {
        advance();
      }
    }
  }

  /** Skips spaces, tabs and comments; also newlines when {@code newlines}. */
  private void skipBlank(boolean newlines) {
    while (!eof()) {
      char c = peek();
      if (c == ' ' || c == '\t' || c == '\r' || (newlines && c == '\n')) {
        advance();
      } else if (c == '#') {
        while (!eof() && peek() != '\n') {
          advance();
        }
      } else {
        return;
      }
    }
  }

  private void skipInline() {
    while (!eof() && (peek() == ' ' || peek() == '\t')) {
      advance();
    }
  }

  private void skipRestOfLine() {
    while (!eof() && peek() != '\n') {
      advance();
    }
  }

  private boolean eof() {
    return pos >= s.length();
  }

  private char peek() {
    return s.charAt(pos);
  }

  private char peekAt(int ahead) {
    return pos + ahead < s.length() ? s.charAt(pos + ahead) : '\0';
  }

  private char advance() {
    char c = s.charAt(pos++);
    if (c == '\n') {
      line++;
    }
    return c;
  }

  private static List<Object> append(List<Object> path, Object segment) {
    List<Object> p = new ArrayList<>(path.size() + 1);
    p.addAll(path);
    p.add(segment);
    return List.copyOf(p);
  }
}
