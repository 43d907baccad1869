package io.nightscore.model.engine;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.execution.ColumnarToRowExec;
import org.apache.spark.sql.execution.FilterExec;
import org.apache.spark.sql.execution.InputAdapter;
import org.apache.spark.sql.execution.ProjectExec;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.WholeStageCodegenExec;

/**
 * A physical plan that is a columnar scan (Delta/Parquet with the vectorized reader) under at most one filter
 * and one projection, whole-stage code generation around them: the shape of every night's scoring and training
 * query, which the CPU passes read as the scan's column batches instead of rows. The projection's first
 * {@code computed} expressions may be any expressions (the training query's label, id, day and fold); the rest
 * must be scan columns, whose positions in the scan's output are {@code columns}. {@code condition} is the
 * filter's, or null. Whoever reads the batches evaluates the condition and the computed expressions on each
 * batch's rows with Spark's own expression code, bound to the scan's output.
 */
public record ColumnarScan(SparkPlan scan, Expression condition, List<Expression> computed, int[] columns) {

  /** The shape of {@code plan}, or null for any other plan (a join, an aggregate, a row-based source...). */
  public static ColumnarScan of(SparkPlan plan, int computed) {
    SparkPlan p = plan;
    ProjectExec project = null;
    FilterExec filter = null;
    while (true) {
      if (p instanceof WholeStageCodegenExec w) {
        p = w.child();
      } else if (p instanceof InputAdapter a) {
        p = a.child();
      } else if (p instanceof ProjectExec x && project == null && filter == null) {
        project = x;
        p = x.child();
      } else if (p instanceof FilterExec x && filter == null) {
        filter = x;
        p = x.child();
      } else if (p instanceof ColumnarToRowExec transition && transition.child().supportsColumnar()) {
        return of(transition.child(), filter == null ? null : filter.condition(),
            project == null ? plan.output() : project.projectList(), computed);
      } else {
        return null;
      }
    }
  }

  private static ColumnarScan of(SparkPlan scan, Expression condition,
      scala.collection.Seq<? extends NamedExpression> projectList, int computed) {
    List<? extends NamedExpression> list = scala.collection.JavaConverters.seqAsJavaList(projectList);
    List<Attribute> read = scala.collection.JavaConverters.seqAsJavaList(scan.output());
    if (list.size() < computed) {
      return null;
    }
    List<Expression> heads = new ArrayList<>();
    for (int i = 0; i < computed; i++) {
      heads.add((Expression) list.get(i));
    }
    int[] columns = new int[list.size() - computed];
    for (int i = computed; i < list.size(); i++) {
      columns[i - computed] = -1;
      if (list.get(i) instanceof Attribute a) {
        for (int k = 0; k < read.size(); k++) {
          if (read.get(k).exprId().equals(a.exprId())) {
            columns[i - computed] = k;
          }
        }
      }
      if (columns[i - computed] < 0) {
        return null;
      }
    }
    return new ColumnarScan(scan, condition, heads, columns);
  }
}
