package io.nightscore.common.config;

import com.typesafe.config.Config;
import io.nightscore.common.sql.SqlSafety;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Names of the event columns: id, time, label and the numeric and categorical features. */
public final class EventSchema implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Columns nightscore adds to its tables; an input column may not use these names. */
  public static final Set<String> RESERVED = Set.of("dt", "ingested_at", "score", "model_version",
      "scored_at", "reason", "detail", "raw", "source_file");

  private final String id;
  private final String time;
  private final String label;
  private final List<String> numeric;
  private final List<String> categorical;

  public EventSchema(String id, String time, String label, List<String> numeric, List<String> categorical) {
    this.id = SqlSafety.checkIdentifier(id, "nightscore.schema.id");
    this.time = SqlSafety.checkIdentifier(time, "nightscore.schema.time");
    this.label = SqlSafety.checkIdentifier(label, "nightscore.schema.label");
    this.numeric = List.copyOf(numeric);
    this.categorical = List.copyOf(categorical);
    Set<String> seen = new HashSet<>();
    for (String c : allColumns()) {
      SqlSafety.checkIdentifier(c, "nightscore.schema column");
      String lower = c.toLowerCase(java.util.Locale.ROOT);
      if (!seen.add(lower)) {
        throw new IllegalArgumentException("nightscore.schema names column '" + c
            + "' twice; every column must appear once across id, time, label, numeric and categorical");
      }
      if (RESERVED.contains(lower)) {
        throw new IllegalArgumentException("nightscore.schema column '" + c
            + "' uses a name nightscore reserves for its own columns " + RESERVED);
      }
    }
    if (numeric.isEmpty() && categorical.isEmpty()) {
      throw new IllegalArgumentException(
          "nightscore.schema.numeric and nightscore.schema.categorical are both empty: a model needs features");
    }
  }

  static EventSchema fromConfig(Config c) {
    return new EventSchema(c.getString("id"), c.getString("time"), c.getString("label"),
        c.getStringList("numeric"), c.getStringList("categorical"));
  }

  public String id() {
    return id;
  }

  public String time() {
    return time;
  }

  public String label() {
    return label;
  }

  public List<String> numeric() {
    return numeric;
  }

  public List<String> categorical() {
    return categorical;
  }

  /** Feature columns in model order: numeric first, then categorical. */
  public List<String> features() {
    List<String> all = new ArrayList<>(numeric);
    all.addAll(categorical);
    return Collections.unmodifiableList(all);
  }

  /** Every input column: id, time, label, then the features. */
  public List<String> allColumns() {
    List<String> all = new ArrayList<>(List.of(id, time, label));
    all.addAll(features());
    return Collections.unmodifiableList(all);
  }
}
