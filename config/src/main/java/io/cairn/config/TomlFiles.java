package io.cairn.config;

import com.electronwill.nightconfig.core.UnmodifiableConfig;
import com.electronwill.nightconfig.toml.TomlParser;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigObject;
import io.cairn.persistence.ConfigurationException;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.TemporalAccessor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a TOML document with night-config and maps it onto the Typesafe Config tree that the
 * equivalent HOCON gives, with every value's origin set to its file and defining line (see {@link
 * TomlLineLocator}).
 *
 * <h2>Mapping</h2>
 *
 * <ul>
 *   <li>Tables and inline tables become objects; arrays (including arrays of tables) become lists.
 *   <li>Strings, booleans, integers and floats map to the same Config types as in HOCON. Durations
 *       and sizes are plain strings ({@code "30s"}, {@code "256MiB"}) read by Config's getters.
 *   <li>Date-times, dates and times (which Config has no type for) become ISO-8601 strings, e.g.
 *       {@code 1979-05-27T07:32:00Z}.
 * </ul>
 *
 * <h2>Errors</h2>
 *
 * A syntax error becomes a {@link ConfigurationException} naming the file, the line the parser had
 * reached and the parser's explanation. night-config does not report positions, so the line is the
 * line of the last non-blank character it read before failing; it reads one character at a time, so
 * this is the line where the error was detected.
 */
final class TomlFiles {
  private TomlFiles() {}

  /**
   * Parses {@code text} read from {@code file}.
   *
   * @param file the name used in origins and messages (as the user wrote the path)
   * @throws ConfigurationException for a syntax error, naming file:line
   */
  static Config parse(String file, String text) {
    PositionReader reader = new PositionReader(new StringReader(text));
    UnmodifiableConfig toml;
    try {
      toml = new TomlParser().parse(reader);
    } catch (RuntimeException e) { // night-config reports every syntax error unchecked
      int line = reader.lastContentLine();
      throw new ConfigurationException(
          "Syntax error in TOML file "
              + file
              + ":"
              + line
              + ": "
              + withoutFinalPeriod(explain(e, lineText(text, line)))
              + ". Fix the file and try again.",
          e);
    }
    OriginTree tree = new OriginTree(file, TomlLineLocator.locate(text));
    return ((ConfigObject) tree.build(plain(toml), List.of())).toConfig();
  }

  /**
   * A bare word after {@code =}, e.g. {@code durability = sometimes} or {@code timeout = 30s}: the
   * commonest TOML mistake for HOCON users, for which night-config's message is obscure.
   */
  private static final Pattern BARE_VALUE =
      Pattern.compile("^\\s*([^=#]+?)\\s*=\\s*([A-Za-z0-9_.+:-]+)\\s*(#.*)?$");

  private static final Set<String> TOML_WORDS =
      Set.of("true", "false", "inf", "+inf", "-inf", "nan", "+nan", "-nan");

  private static String explain(RuntimeException e, String lineText) {
    String m = e.getMessage();
    String parser = m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    if (parser.startsWith("Not enough data available")) {
      return "unexpected end of file (an array, inline table or string is not closed)";
    }
    Matcher bare = BARE_VALUE.matcher(lineText);
    if (bare.matches()
        && !TOML_WORDS.contains(bare.group(2))
        && bare.group(2).chars().anyMatch(Character::isLetter)) {
      return "expected a TOML value, found the unquoted word "
          + bare.group(2)
          + "; strings, durations and sizes must be quoted in TOML: "
          + bare.group(1)
          + " = \""
          + bare.group(2)
          + "\" (parser: "
          + parser
          + ")";
    }
    return parser;
  }

  /** The parser's sentence without its own final period, so the message has one, not two. */
  static String withoutFinalPeriod(String s) {
    String t = s.strip();
    while (t.endsWith(".")) {
      t = t.substring(0, t.length() - 1);
    }
    return t;
  }

  private static String lineText(String text, int line) {
    String[] lines = text.split("\\r?\\n", -1);
    return line >= 1 && line <= lines.length ? lines[line - 1] : "";
  }

  /** night-config values to plain Java maps, lists and scalars. */
  private static Object plain(Object value) {
    if (value instanceof UnmodifiableConfig table) {
      Map<String, Object> map = new LinkedHashMap<>();
      // entrySet(), not the deprecated valueMap(): the same raw stored values.
      for (UnmodifiableConfig.Entry e : table.entrySet()) {
        map.put(e.getKey(), plain(e.getRawValue()));
      }
      return map;
    }
    if (value instanceof List<?> list) {
      List<Object> out = new ArrayList<>(list.size());
      for (Object o : list) {
        out.add(plain(o));
      }
      return out;
    }
    if (value instanceof TemporalAccessor t) {
      return temporal(t);
    }
    return value;
  }

  private static String temporal(TemporalAccessor t) {
    if (t instanceof OffsetDateTime) {
      return DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(t);
    }
    if (t instanceof LocalDateTime) {
      return DateTimeFormatter.ISO_LOCAL_DATE_TIME.format(t);
    }
    if (t instanceof LocalDate) {
      return DateTimeFormatter.ISO_LOCAL_DATE.format(t);
    }
    if (t instanceof LocalTime) {
      return DateTimeFormatter.ISO_LOCAL_TIME.format(t);
    }
    return t.toString();
  }

  /**
   * Counts lines as a parser reads, remembering the line of the last non-whitespace character read.
   * A parser that consumed the newline after a bad token still reports the token's line.
   */
  static final class PositionReader extends Reader {
    private final Reader in;
    private int line = 1;
    private int lastContentLine = 1;

    PositionReader(Reader in) {
      this.in = in;
    }

    int lastContentLine() {
      return lastContentLine;
    }

    @Override
    public int read() throws IOException {
      int c = in.read();
      if (c >= 0) {
        see((char) c);
      }
      return c;
    }

    @Override
    public int read(char[] buf, int off, int len) throws IOException {
      int n = in.read(buf, off, len);
      for (int i = 0; i < n; i++) {
        see(buf[off + i]);
      }
      return n;
    }

    private void see(char c) {
      if (c == '\n') {
        line++;
      } else if (!Character.isWhitespace(c)) {
        lastContentLine = line;
      }
    }

    @Override
    public void close() throws IOException {
      in.close();
    }
  }
}
