package io.nightscore.tools.gpu;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the RAPIDS Accelerator's "potential GPU plan" explanation (one line per operator and expression,
 * {@code *} = will run on the GPU, {@code !} = cannot, with the reason) and judges its CPU fallbacks
 * against the short list of those RAPIDS cannot avoid today.
 */
public final class GpuPlacement {
  /** One node: marker, kind (Exec, NOT_FOUND, Expression, Partitioning, ...; empty for some operators), name. */
  private static final Pattern NODE = Pattern.compile("^(\\s*)([*!@#])(\\w*)\\s*<([^>]+)>\\s*(.*)$");

  private GpuPlacement() {}

  /** A physical operator: where RAPIDS would run it, and why not on the GPU (with the expressions to blame). */
  public record Operator(String name, boolean onGpu, String reason) {}

  /**
   * A fallback nightscore accepts: the operator, a phrase of RAPIDS' reason (empty = any reason), and why it
   * cannot be helped.
   */
  public record Allowed(String operator, String reasonContains, String why) {
    boolean covers(Operator op) {
      return !op.onGpu() && op.name().equals(operator) && op.reason().contains(reasonContains);
    }
  }

  /**
   * The fallbacks nightscore accepts (docs/gpu.md explains each). Anything else that falls back
   * is a regression to fix: a UDF, an expression RAPIDS lacks, an operator it cannot place.
   */
  public static final List<Allowed> ALLOWED = List.of(
      new Allowed("FileSourceScanExec", "DeltaParquetFileFormat",
          "Delta table scans: RAPIDS 25.04 has only a Delta stub for Spark 3.5, so Delta reads decode on the CPU"),
      new Allowed("FileSourceScanExec", "GpuCSVScan does not support modified escape chars",
          "raw CSV is read as RFC 4180 writes it (doubled quotes, quoted line breaks), which RAPIDS' CSV reader "
              + "cannot: the CSV scan decodes on the CPU, the checks after it run on the GPU; Parquet and JSON "
              + "raw input scan on the GPU"),
      new Allowed("ProjectExec", "incorrect file name, or file start or file length from a CPU scan",
          "the quarantine's source_file (input_file_name) above a CSV scan that decodes on the CPU: RAPIDS keeps "
              + "the projection naming the file where the scan is; the events query does not name the file"),
      new Allowed("LocalTableScanExec", "",
          "a categorical vocabulary (at most max-categories rows, built on the driver) before it is broadcast "
              + "for its join: RAPIDS has no LocalTableScan; the events never pass through it"));

  /** The operators of one explanation, in plan order; expression reasons are attached to their operator. */
  public static List<Operator> parse(String explanation) {
    List<Operator> ops = new ArrayList<>();
    String name = null;
    boolean gpu = false;
    String reason = "";
    List<String> blamed = new ArrayList<>();
    for (String line : explanation.split("\\R")) {
      Matcher m = NODE.matcher(line);
      if (!m.matches()) {
        continue;
      }
      String kind = m.group(3);
      boolean operator = kind.equals("Exec") || kind.equals("NOT_FOUND")
          || (kind.isEmpty() && m.group(4).endsWith("Exec"));
      if (operator) {
        if (name != null) {
          ops.add(new Operator(name, gpu, withBlame(reason, blamed)));
        }
        name = m.group(4);
        gpu = m.group(2).equals("*");
        reason = reasonOf(m.group(5));
        blamed = new ArrayList<>();
      } else if (name != null && m.group(2).equals("!") && blamed.size() < 3) {
        blamed.add(m.group(4) + ": " + reasonOf(m.group(5)));
      }
    }
    if (name != null) {
      ops.add(new Operator(name, gpu, withBlame(reason, blamed)));
    }
    return ops;
  }

  private static String reasonOf(String verdict) {
    int because = verdict.indexOf("because ");
    return because < 0 ? "" : verdict.substring(because + "because ".length()).trim();
  }

  private static String withBlame(String reason, List<String> blamed) {
    return blamed.isEmpty() ? reason : reason + " [" + String.join("; ", blamed) + "]";
  }

  /** The allow-list entry that covers a fallback, if any. */
  public static Optional<Allowed> allowance(Operator op) {
    return ALLOWED.stream().filter(a -> a.covers(op)).findFirst();
  }

  /** Fallbacks no allow-list entry covers. */
  public static List<Operator> unexpected(List<Operator> ops) {
    return ops.stream().filter(op -> !op.onGpu() && allowance(op).isEmpty()).toList();
  }
}
