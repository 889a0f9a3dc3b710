package io.infergate.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Kubernetes sets configuration through the environment: every flag of the server subcommands
 * takes its default from INFERGATE_ and the flag's name in capitals, and nothing else.
 */
class FlagEnvironmentTest {

  @Test
  void everyServerFlagHasItsOwnEnvironmentVariable() {
    CommandLine main = new CommandLine(new Main());
    List<String> wrong = new ArrayList<>();
    for (String name : List.of("serve", "gateway", "worker")) {
      for (OptionSpec option : main.getSubcommands().get(name).getCommandSpec().options()) {
        if (option.usageHelp() || option.versionHelp()) {
          continue;
        }
        String flag = option.longestName();
        String variable = "INFERGATE_" + flag.substring(2).toUpperCase(Locale.ROOT);
        String declared = option.defaultValueString(false);
        if (declared == null || !(declared.equals("${env:" + variable + "}")
            || declared.startsWith("${env:" + variable + ":-"))) {
          wrong.add(name + " " + flag + " (default " + declared + ")");
        }
      }
    }
    assertThat(wrong).as("flags without their INFERGATE_ variable").isEmpty();
  }
}
