package io.cairn.persistence.spi;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.ConfigProblem;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SettingsNamedSectionTest {
  private static final String DEFAULTS = "cairn.thing-defaults { backend = \"\", size = 5 }\n";

  private static Settings.NamedSection section(boolean required) {
    return new Settings.NamedSection(
        "cairn.things", "cairn.thing-defaults", "thing", "{ size = 5 }", 10, required);
  }

  private static Config config(String text) {
    return ConfigFactory.parseString(DEFAULTS + text);
  }

  @Test
  void readsTheEntryOverTheDefaults() {
    List<ConfigProblem> problems = new ArrayList<>();
    Settings s = section(true).read(config("cairn.things.a { size = 7 }"), "a", problems);
    assertThat(problems).isEmpty();
    assertThat(s.path()).isEqualTo("cairn.things.a");
    assertThat(s.config().getInt("size")).isEqualTo(7);
    assertThat(s.config().getString("backend")).isEmpty();
  }

  @Test
  void anOptionalEntryNotConfiguredGetsTheDefaults() {
    List<ConfigProblem> problems = new ArrayList<>();
    Settings s = section(false).read(config("cairn.things.b = null"), "a", problems);
    assertThat(problems).isEmpty();
    assertThat(s.config().getInt("size")).isEqualTo(5);
    assertThat(section(false).read(config("cairn.things.a = null"), "a", problems)).isNotNull();
    assertThat(problems).isEmpty();
  }

  @Test
  void aRequiredEntryNotConfiguredIsAProblemWithADidYouMean() {
    List<ConfigProblem> problems = new ArrayList<>();
    assertThat(section(true).read(config("cairn.things.alpha {}"), "alpho", problems)).isNull();
    assertThat(problems).hasSize(1);
    assertThat(problems.get(0).path()).isEqualTo("cairn.things.alpho");
    assertThat(problems.get(0).expected()).contains("did you mean 'alpha'");
    assertThat(problems.get(0).found()).isEqualTo("no thing named 'alpho'");
  }

  @Test
  void anEntryThatIsNotAnObjectIsAProblemWithTheExample() {
    for (boolean required : new boolean[] {true, false}) {
      List<ConfigProblem> problems = new ArrayList<>();
      assertThat(section(required).read(config("cairn.things.a = 3"), "a", problems)).isNull();
      assertThat(problems).hasSize(1);
      assertThat(problems.get(0).expected()).isEqualTo("an object such as { size = 5 }");
      assertThat(problems.get(0).found()).isEqualTo("number");
    }
  }

  @Test
  void aBadNameAndUnknownKeysAreProblemsButTheSettingsAreStillRead() {
    List<ConfigProblem> problems = new ArrayList<>();
    Settings s = section(false).read(config("cairn.things.\"-x\" { sise = 7 }"), "-x", problems);
    assertThat(s).isNotNull();
    assertThat(problems).hasSize(2);
    assertThat(problems.get(0).path()).isEqualTo("cairn.things.-x");
    assertThat(problems.get(0).expected())
        .isEqualTo(
            "a thing name of 1-10 characters from [A-Za-z0-9._-], starting with a letter or"
                + " digit");
    assertThat(problems.get(0).found()).isEqualTo("'-x'");
    assertThat(problems.get(1).path()).isEqualTo("cairn.things.-x.sise");
    assertThat(problems.get(1).toString()).contains("size");
    assertThat(s.config().getInt("size")).isEqualTo(5);
  }

  @Test
  void aNameLongerThanTheLimitIsAProblem() {
    List<ConfigProblem> problems = new ArrayList<>();
    assertThat(section(false).read(config(""), "abcdefghijk", problems)).isNotNull();
    assertThat(problems).hasSize(1);
    assertThat(problems.get(0).found()).isEqualTo("'abcdefghijk'");
    problems.clear();
    section(false).read(config(""), "abcdefghij", problems);
    assertThat(problems).isEmpty();
  }
}
