package eventlake.sql;

import java.util.Locale;
import java.util.Set;

import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.SparkSessionExtensions;
import org.apache.spark.sql.catalyst.expressions.CallMethodViaReflection;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.SubqueryExpression;
import org.apache.spark.sql.catalyst.plans.logical.Command;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.plans.logical.ScriptTransformation;
import org.apache.spark.sql.execution.command.SetCommand;
import scala.Function1;
import scala.runtime.BoxedUnit;

import static scala.jdk.javaapi.CollectionConverters.asJava;

/**
 * Makes every session of the SQL endpoint read-only, except the one session eventlake
 * registers the lake's tables with (see {@link #trust}).
 *
 * <p>A Spark SQL extension (spark.sql.extensions) whose check rule sees each statement after
 * analysis, before it runs. It admits queries and the commands that only read the catalog
 * (SHOW ..., DESCRIBE ..., EXPLAIN, USE, SET without a value) and rejects everything else:
 * writes (INSERT, MERGE, UPDATE, DELETE, CREATE, DROP, ALTER, OPTIMIZE, VACUUM), ADD JAR,
 * CREATE FUNCTION, changing a setting (e.g. turning spark.sql.runSQLOnFiles back on to read
 * bronze's files by path), reflect()/java_method() (they call any static Java method) and
 * TRANSFORM ... USING (it runs a shell command on the server).
 */
public final class ReadOnlyGuard implements Function1<SparkSessionExtensions, BoxedUnit> {

    private static volatile SparkSession trusted;

    // Commands that only read (their class names, Spark's v1 and v2 spellings): USE, SET without
    // a value (checked below) and EXPLAIN. Every Show* and Describe* command reads too.
    private static final Set<String> READING_COMMANDS = Set.of(
        "SetCommand", "ResetCommand", "SetCatalogAndNamespace", "SetNamespaceCommand",
        "SetCatalogCommand", "ExplainCommand");

    /** The session that may write the catalog; set once, later calls are ignored. */
    public static synchronized void trust(SparkSession session) {
        if (trusted == null) {
            trusted = session;
        }
    }

    @Override
    public BoxedUnit apply(SparkSessionExtensions extensions) {
        extensions.injectCheckRule(session -> plan -> {
            if (session != trusted) {
                inspect(plan);
            }
            return BoxedUnit.UNIT;
        });
        return BoxedUnit.UNIT;
    }

    static void inspect(LogicalPlan plan) {
        if (plan instanceof Command) {
            String name = plan.getClass().getSimpleName();
            boolean reads = name.startsWith("Show") || name.startsWith("Describe")
                || READING_COMMANDS.contains(name);
            if (!reads) {
                reject(describe(name) + " changes the lake or the server");
            }
            if (plan instanceof SetCommand set && set.kv().isDefined() && set.kv().get()._2().isDefined()) {
                reject("SET with a value changes the server's settings");
            }
        }
        if (plan instanceof ScriptTransformation) {
            reject("TRANSFORM ... USING runs a program on the server");
        }
        for (Expression expression : asJava(plan.expressions())) {
            inspect(expression);
        }
        for (LogicalPlan child : asJava(plan.children())) {
            inspect(child);
        }
    }

    private static void inspect(Expression expression) {
        if (expression instanceof CallMethodViaReflection) {
            reject("reflect() and java_method() call Java methods on the server");
        }
        if (expression instanceof SubqueryExpression subquery) {
            inspect(subquery.plan());
        }
        for (Expression child : asJava(expression.children())) {
            inspect(child);
        }
    }

    private static String describe(String commandClass) {
        return commandClass.replaceAll("(Command|Exec)$", "")
            .replaceAll("([a-z])([A-Z])", "$1 $2").toUpperCase(Locale.ROOT);
    }

    private static void reject(String why) {
        throw new SecurityException("eventlake's SQL endpoint is read-only: " + why);
    }
}
