package io.nightscore.jobs;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import picocli.CommandLine;

/**
 * The generated reference pages: every configuration key from {@code reference.conf} (docs/configuration.md) and
 * every command and option from the command-line model (docs/cli.md). A test fails when the committed pages differ.
 */
public final class ReferenceDocs {
  private static final int WIDTH = 110;

  private ReferenceDocs() {}

  /** docs/configuration.md: one table per group of keys, each key with its default and its comment. */
  public static String configuration() {
    Config reference = ConfigFactory.parseResources(ReferenceDocs.class.getClassLoader(), "reference.conf")
        .resolve(ConfigResolveOptions.noSystem());
    Map<String, Map<String, ConfigValue>> groups = new TreeMap<>();
    for (Map.Entry<String, ConfigValue> e : reference.entrySet()) {
      String key = e.getKey();
      List<String> parts = com.typesafe.config.ConfigUtil.splitPath(key);
      String group = parts.size() > 2 ? parts.get(0) + "." + parts.get(1) : parts.get(0);
      groups.computeIfAbsent(group, g -> new TreeMap<>()).put(key, e.getValue());
    }
    StringBuilder b = new StringBuilder();
    b.append("# Configuration reference\n\n")
        .append("Generated from `common/src/main/resources/reference.conf` (the defaults, with their comments); ")
        .append("`ReferenceDocsTest` fails when this page is stale. Regenerate it with\n")
        .append("`mvn -q -pl jobs -am test -Dtest=ReferenceDocsTest -Dsurefire.failIfNoSpecifiedTests=false ")
        .append("-Dnightscore.docs.write=true`.\n\n")
        .append("Precedence, lowest first: `reference.conf` < `conf/application.conf` (packaged) < `--config FILE` < ")
        .append("`--conf key=value` and `-Dkey=value`. `${?ENV}` substitutions work in any file. Unknown or mistyped ")
        .append("`nightscore.*` keys fail at start-up naming the key. `nightscore.spark` and ")
        .append("`nightscore.xgboost.params` are open maps: the keys below are their defaults, others may be added.\n");
    groups.forEach((group, keys) -> {
      b.append("\n## `").append(group).append("`\n\n| key | default | what it is |\n|---|---|---|\n");
      keys.forEach((key, value) -> b.append("| `").append(key).append("` | `").append(render(value))
          .append("` | ").append(comment(value)).append(" |\n"));
    });
    return b.toString();
  }

  /** docs/cli.md: the usage text of every command and subcommand, as the command line prints it. */
  public static String cli() {
    CommandLine root = new CommandLine(new Main(null, System.out));
    StringBuilder b = new StringBuilder();
    b.append("# Command-line reference\n\n")
        .append("Generated from the command-line model (`io.nightscore.jobs.Main`); `ReferenceDocsTest` fails when ")
        .append("this page is stale. `bin/nightscore help COMMAND` prints the same text.\n");
    append(b, root, "nightscore");
    return b.toString();
  }

  private static void append(StringBuilder b, CommandLine cl, String path) {
    cl.setUsageHelpWidth(WIDTH);
    b.append("\n## `").append(path).append("`\n\n```\n")
        .append(cl.getUsageMessage(CommandLine.Help.Ansi.OFF).stripTrailing()).append("\n```\n");
    cl.getSubcommands().forEach((name, sub) -> {
      if (!name.equals("help")) {
        append(b, sub, path + " " + name);
      }
    });
  }

  private static String render(ConfigValue value) {
    String text = value.valueType() == ConfigValueType.LIST && ((ConfigList) value).size() > 6
        ? "[" + ((ConfigList) value).subList(0, 4).stream().map(v -> v.render(ConfigRenderOptions.concise()))
            .collect(Collectors.joining(", ")) + ", … (" + ((ConfigList) value).size() + " values)]"
        : value.render(ConfigRenderOptions.concise());
    return text.replace("|", "\\|").replace("`", "'");
  }

  private static String comment(ConfigValue value) {
    return value.origin().comments().stream().map(String::strip).collect(Collectors.joining(" ")).replace("|", "\\|");
  }
}
