package io.nightscore.jobs.sqlserver;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;
import java.util.Set;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.FunctionIdentifier;
import org.apache.spark.sql.catalyst.TableIdentifier;
import org.apache.spark.sql.catalyst.analysis.UnresolvedFunction;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.SubqueryExpression;
import org.apache.spark.sql.catalyst.parser.ParseException;
import org.apache.spark.sql.catalyst.parser.ParserInterface;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.plans.logical.ScriptTransformation;
import org.apache.spark.sql.execution.command.AddArchivesCommand;
import org.apache.spark.sql.execution.command.AddFilesCommand;
import org.apache.spark.sql.execution.command.AddJarsCommand;
import org.apache.spark.sql.execution.command.CreateFunctionCommand;
import org.apache.spark.sql.execution.command.ExplainCommand;
import org.apache.spark.sql.execution.command.ResetCommand;
import org.apache.spark.sql.execution.command.SetCommand;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructType;
import scala.collection.JavaConverters;

/**
 * The SQL server's statement policy, applied where SQL text becomes a plan, before anything is analysed or run.
 * It wraps the session's parser (Delta's, which wraps Spark's), so every statement a JDBC client sends passes it;
 * plans that Spark and Delta build internally never go through a parser and are not affected.
 *
 * <p>Rules, in order: no settings read or changed ({@code SET}, {@code RESET}: the connection cannot reopen
 * what the server closed); no code loaded ({@code ADD JAR|FILE|ARCHIVE}, {@code CREATE FUNCTION}); no Java
 * reflection functions ({@code reflect}, {@code java_method}, {@code try_reflect}) and no {@code TRANSFORM ...
 * USING} scripts anywhere in a statement; no direct file reads (the session's {@code spark.sql.runSQLOnFiles} must
 * be false when the statement arrives); and, unless writes are allowed, nothing but a query (what Spark's own
 * query grammar accepts: SELECT, WITH, VALUES, TABLE, FROM) or one of the read-only statements of
 * {@link #READ_ONLY}. Only the last rule depends on {@code --allow-writes}.
 */
final class StatementGuard implements ParserInterface {

  /** Statements that read the catalog or explain a plan, and change nothing (their parsed plan classes). */
  static final Set<String> READ_ONLY = Set.of(
      "org.apache.spark.sql.catalyst.plans.logical.ShowTables",
      "org.apache.spark.sql.catalyst.plans.logical.ShowTableExtended",
      "org.apache.spark.sql.catalyst.plans.logical.ShowNamespaces",
      "org.apache.spark.sql.catalyst.plans.logical.ShowViews",
      "org.apache.spark.sql.catalyst.plans.logical.ShowColumns",
      "org.apache.spark.sql.catalyst.plans.logical.ShowPartitions",
      "org.apache.spark.sql.catalyst.plans.logical.ShowTableProperties",
      "org.apache.spark.sql.catalyst.plans.logical.ShowCreateTable",
      "org.apache.spark.sql.catalyst.plans.logical.ShowFunctions",
      "org.apache.spark.sql.catalyst.plans.logical.DescribeRelation",
      "org.apache.spark.sql.catalyst.plans.logical.DescribeColumn",
      "org.apache.spark.sql.catalyst.plans.logical.DescribeNamespace",
      "org.apache.spark.sql.catalyst.plans.logical.DescribeFunction",
      "org.apache.spark.sql.catalyst.plans.logical.SetCatalogAndNamespace",
      "org.apache.spark.sql.execution.command.ShowCatalogsCommand",
      "org.apache.spark.sql.execution.command.ShowCurrentNamespaceCommand",
      "org.apache.spark.sql.execution.command.DescribeQueryCommand",
      "org.apache.spark.sql.execution.command.ExplainCommand",
      "org.apache.spark.sql.delta.commands.DescribeDeltaHistory",
      "org.apache.spark.sql.delta.commands.DescribeDeltaDetailCommand");

  /** Functions that call any Java method the server's class path holds. */
  static final Set<String> REFLECTION = Set.of("reflect", "java_method", "try_reflect");

  /** Work of the server itself (registering tables) on this thread is not a client's statement. */
  private static final ThreadLocal<Boolean> TRUSTED = ThreadLocal.withInitial(() -> false);

  private final ParserInterface delegate;
  private final SparkSession session;
  private final boolean allowWrites;

  StatementGuard(SparkSession session, ParserInterface delegate, boolean allowWrites) {
    this.session = session;
    this.delegate = delegate;
    this.allowWrites = allowWrites;
  }

  boolean allowWrites() {
    return allowWrites;
  }

  /** Runs the server's own statements (catalog upkeep) past the guard, on this thread only. */
  static void trusted(Runnable work) {
    boolean before = TRUSTED.get();
    TRUSTED.set(true);
    try {
      work.run();
    } finally {
      TRUSTED.set(before);
    }
  }

  @Override
  public LogicalPlan parsePlan(String sqlText) throws ParseException {
    LogicalPlan plan = delegate.parsePlan(sqlText);
    if (!TRUSTED.get()) {
      check(sqlText, plan);
    }
    return plan;
  }

  private void check(String sqlText, LogicalPlan plan) {
    if (session.sessionState().conf().runSQLonFile()) {
      throw refused("direct file reads are disabled on this server, and this session's spark.sql.runSQLOnFiles "
          + "is true (set through the connection?)");
    }
    String kind = kind(sqlText);
    if (plan instanceof SetCommand || plan instanceof ResetCommand) {
      throw refused(kind + " reads or changes session settings, which this server does not allow");
    }
    if (plan instanceof AddJarsCommand || plan instanceof AddFilesCommand || plan instanceof AddArchivesCommand
        || plan instanceof CreateFunctionCommand
        || plan.getClass().getName().equals("org.apache.spark.sql.catalyst.plans.logical.CreateFunction")) {
      throw refused(kind + " loads code into the server, which this server does not allow");
    }
    scan(kind, plan instanceof ExplainCommand ? ((ExplainCommand) plan).logicalPlan() : plan);
    if (allowWrites || READ_ONLY.contains(plan.getClass().getName()) || isQuery(sqlText)) {
      return;
    }
    throw refused(kind + " (" + plan.nodeName() + ") can change data or metadata, and this server is read-only: "
        + "it runs queries (SELECT, WITH, VALUES, TABLE), SHOW, DESCRIBE, EXPLAIN and USE (an administrator can "
        + "start it with --allow-writes)");
  }

  /** Whether Spark's query grammar alone accepts the text: a query, not a statement that can write. */
  private boolean isQuery(String sqlText) {
    try {
      delegate.parseQuery(sqlText);
      return true;
    } catch (ParseException | RuntimeException e) {
      return false;
    }
  }

  /** Refuses reflection functions and scripts anywhere in the plan: its subqueries, CTEs and expressions. */
  private static void scan(String kind, LogicalPlan root) {
    Deque<LogicalPlan> plans = new ArrayDeque<>();
    plans.push(root);
    while (!plans.isEmpty()) {
      LogicalPlan plan = plans.pop();
      if (plan instanceof ScriptTransformation) {
        throw refused(kind + " runs a script on the server (TRANSFORM ... USING), which this server does not "
            + "allow");
      }
      JavaConverters.seqAsJavaList(plan.children()).forEach(plans::push);
      for (Object inner : JavaConverters.seqAsJavaList(plan.innerChildren())) {
        if (inner instanceof LogicalPlan p) {
          plans.push(p);
        }
      }
      Deque<Expression> expressions = new ArrayDeque<>(JavaConverters.seqAsJavaList(plan.expressions()));
      while (!expressions.isEmpty()) {
        Expression e = expressions.pop();
        if (e instanceof UnresolvedFunction f) {
          String name = f.nameParts().last().toLowerCase(Locale.ROOT);
          if (REFLECTION.contains(name)) {
            throw refused(kind + " calls " + name + "(), a Java reflection function, which this server does not "
                + "allow");
          }
        }
        if (e instanceof SubqueryExpression s) {
          plans.push(s.plan());
        }
        JavaConverters.seqAsJavaList(e.children()).forEach(expressions::push);
      }
    }
  }

  /** The statement's first word, for messages (SELECT, DROP, INSERT...). */
  static String kind(String sqlText) {
    String text = sqlText.replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("--[^\\n]*", " ").trim();
    String word = text.split("[\\s(]+", 2)[0].toUpperCase(Locale.ROOT);
    return word.isEmpty() ? "the statement" : word;
  }

  private static StatementRefusedException refused(String why) {
    return new StatementRefusedException("refused: " + why);
  }

  @Override
  public Expression parseExpression(String sqlText) throws ParseException {
    return delegate.parseExpression(sqlText);
  }

  @Override
  public TableIdentifier parseTableIdentifier(String sqlText) throws ParseException {
    return delegate.parseTableIdentifier(sqlText);
  }

  @Override
  public FunctionIdentifier parseFunctionIdentifier(String sqlText) throws ParseException {
    return delegate.parseFunctionIdentifier(sqlText);
  }

  @Override
  public scala.collection.Seq<String> parseMultipartIdentifier(String sqlText) throws ParseException {
    return delegate.parseMultipartIdentifier(sqlText);
  }

  @Override
  public LogicalPlan parseQuery(String sqlText) throws ParseException {
    return delegate.parseQuery(sqlText);
  }

  @Override
  public StructType parseTableSchema(String sqlText) throws ParseException {
    return delegate.parseTableSchema(sqlText);
  }

  @Override
  public DataType parseDataType(String sqlText) throws ParseException {
    return delegate.parseDataType(sqlText);
  }

  /** A statement the server will not run; the client sees the message. */
  static final class StatementRefusedException extends IllegalArgumentException {
    StatementRefusedException(String message) {
      super(message);
    }
  }
}
