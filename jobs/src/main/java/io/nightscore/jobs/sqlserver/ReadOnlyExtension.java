package io.nightscore.jobs.sqlserver;

import org.apache.spark.sql.SparkSessionExtensions;
import scala.runtime.AbstractFunction1;
import scala.runtime.BoxedUnit;

/**
 * The SQL server's session extension ({@code spark.sql.extensions}, listed after Delta's so that it wraps Delta's
 * parser): puts a {@link StatementGuard} in front of every session's parser. Whether writes are allowed is read
 * from the application's Spark configuration ({@link #ALLOW_WRITES}), which a client's session cannot change.
 */
public final class ReadOnlyExtension extends AbstractFunction1<SparkSessionExtensions, BoxedUnit> {

  /** Set by {@code sql-server --allow-writes}. */
  static final String ALLOW_WRITES = "spark.nightscore.sqlServer.allowWrites";

  @Override
  public BoxedUnit apply(SparkSessionExtensions extensions) {
    extensions.injectParser(new scala.runtime.AbstractFunction2<>() {
      @Override
      public org.apache.spark.sql.catalyst.parser.ParserInterface apply(org.apache.spark.sql.SparkSession session,
          org.apache.spark.sql.catalyst.parser.ParserInterface delegate) {
        return new StatementGuard(session, delegate,
            session.sparkContext().getConf().getBoolean(ALLOW_WRITES, false));
      }
    });
    return BoxedUnit.UNIT;
  }
}
