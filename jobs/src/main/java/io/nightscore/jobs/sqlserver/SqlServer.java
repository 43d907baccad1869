package io.nightscore.jobs.sqlserver;

import io.nightscore.common.config.Settings;
import io.nightscore.common.sql.SqlSafety;
import io.nightscore.common.table.Table;
import io.nightscore.common.table.Warehouse;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.TableIdentifier;
import org.apache.spark.sql.catalyst.catalog.CatalogTable;
import org.apache.spark.sql.catalyst.catalog.SessionCatalog;
import org.apache.spark.sql.hive.thriftserver.HiveThriftServer2;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code sql-server}: Spark's Thrift JDBC/ODBC server (HiveServer2's protocol) over the nightscore tables. Every
 * fact about the Thrift server and Spark's Hive support (their settings, the catalog calls the JDBC metadata
 * operations read) lives in this class.
 *
 * <p>The server keeps a catalog of its own, a Hive metastore in embedded Derby under a local state folder, that only
 * points at the warehouse's Delta tables: the nightly jobs keep their own catalogs and never wait for it. A
 * background task registers tables created after the start and copies each table's Delta schema into the catalog
 * entry (Delta keeps an empty schema there, and the JDBC column metadata is read from it).
 */
public final class SqlServer {
  private static final Logger LOG = LoggerFactory.getLogger(SqlServer.class);

  /** Where a keystore's password comes from: never a command-line argument or a setting that could be logged. */
  public static final String KEYSTORE_PASSWORD_ENV = "NIGHTSCORE_SQL_SERVER_KEYSTORE_PASSWORD";

  /** {@code users}: the users file (null: no authentication); {@code keystore}: TLS (null: plain). */
  public record Options(int port, String bind, boolean allowWrites, Path users, Path keystore, int refreshSeconds) {}

  /** A running server; {@link #await} returns once it has stopped. */
  public static final class Running {
    private final HiveThriftServer2 server;
    private final ScheduledExecutorService upkeep;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private Running(HiveThriftServer2 server, ScheduledExecutorService upkeep) {
      this.server = server;
      this.upkeep = upkeep;
    }

    public synchronized void stop() {
      if (stopped.getCount() > 0) {
        upkeep.shutdownNow();
        server.stop();
        LOG.info("sql-server: stopped");
        stopped.countDown();
      }
    }

    public void await() throws InterruptedException {
      stopped.await();
    }
  }

  private SqlServer() {}

  /**
   * Refuses settings that would expose the tables: a bind address other than loopback needs both users and TLS.
   * Returns what the server will enforce, for the start-up line.
   */
  public static String validate(Options o) {
    if (o.port() < 1 || o.port() > 65535) {
      throw new IllegalArgumentException("--port must be within [1, 65535], got " + o.port());
    }
    if (o.refreshSeconds() < 1 || o.refreshSeconds() > 60) {
      throw new IllegalArgumentException("--refresh-seconds must be within [1, 60], got " + o.refreshSeconds());
    }
    boolean loopback;
    try {
      loopback = InetAddress.getByName(o.bind()).isLoopbackAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("--bind " + o.bind() + ": not an address of this machine");
    }
    if (!loopback && (o.users() == null || o.keystore() == null)) {
      throw new IllegalArgumentException("--bind " + o.bind() + " is not a loopback address: the server then needs "
          + "both --users FILE (passwords) and --keystore FILE (TLS, password in " + KEYSTORE_PASSWORD_ENV
          + "); refusing to start without " + (o.users() == null ? "--users" : "--keystore"));
    }
    if (o.users() != null) {
      Users users = Users.read(o.users());
      if (users.size() == 0) {
        throw new IllegalArgumentException("users file " + o.users() + " holds no user: add one with "
            + "'bin/nightscore sql-server add-user NAME --users " + o.users() + "'");
      }
    }
    if (o.keystore() != null) {
      if (!Files.isReadable(o.keystore())) {
        throw new IllegalArgumentException("--keystore " + o.keystore() + ": no readable file there");
      }
      if (System.getenv(KEYSTORE_PASSWORD_ENV) == null) {
        throw new IllegalArgumentException("--keystore needs its password in the environment variable "
            + KEYSTORE_PASSWORD_ENV);
      }
    }
    return (o.allowWrites() ? "writes allowed" : "read-only") + ", "
        + (o.users() != null ? "users from " + o.users() : "no authentication (loopback only)") + ", "
        + (o.keystore() != null ? "TLS" : "no TLS");
  }

  /**
   * The session settings the server's SparkSession must be created with (static ones: the catalog kind, the
   * metastore, the extensions): its own Hive metastore under {@code state}, the statement guard after Delta's
   * extension, and no SQL on files.
   */
  public static Map<String, String> sessionConf(Options o, Path state) {
    Map<String, String> conf = new LinkedHashMap<>();
    conf.put("spark.sql.catalogImplementation", "hive");
    conf.put("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension," + ReadOnlyExtension.class.getName());
    conf.put(ReadOnlyExtension.ALLOW_WRITES, Boolean.toString(o.allowWrites()));
    conf.put("spark.sql.warehouse.dir", state.resolve("warehouse").toUri().toString());
    conf.put("spark.hadoop.javax.jdo.option.ConnectionURL",
        "jdbc:derby:;databaseName=" + state.resolve("metastore_db") + ";create=true");
    conf.put("spark.hadoop.hive.exec.scratchdir", state.resolve("scratch").toString());
    conf.put("spark.hadoop.hive.exec.local.scratchdir", state.resolve("local-scratch").toString());
    conf.put("spark.sql.runSQLOnFiles", "false");
    // Delta keeps no columns in a catalog entry; Hive would refuse the schema copied there as a type change.
    conf.put("spark.hadoop.hive.metastore.disallow.incompatible.col.type.changes", "false");
    // One Spark session per connection: a client's USE or temporary state never reaches another's.
    conf.put("spark.sql.hive.thriftServer.singleSession", "false");
    return conf;
  }

  /** Registers the tables, starts the Thrift server and the catalog upkeep; returns once clients can connect. */
  public static Running start(SparkSession spark, Settings settings, Options o, Path state, PrintStream out) {
    String enforced = validate(o);
    if (!(spark.sessionState().sqlParser() instanceof StatementGuard guard) || guard.allowWrites() != o.allowWrites()) {
      throw new IllegalStateException("the session has no statement guard as its outermost parser: "
          + "spark.sql.extensions must end with " + ReadOnlyExtension.class.getName()
          + " (was spark.sql.extensions set by spark-submit or spark-defaults.conf?)");
    }
    if (!"hive".equals(spark.conf().get("spark.sql.catalogImplementation"))) {
      throw new IllegalStateException("the SQL server needs Spark's Hive support (spark.sql.catalogImplementation="
          + "hive), got " + spark.conf().get("spark.sql.catalogImplementation"));
    }
    try {
      Class.forName("org.apache.spark.sql.delta.catalog.DeltaCatalog", false, ClassLoader.getSystemClassLoader());
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException("the SQL server needs Delta on the driver's own class path (HiveServer2 runs "
          + "connections with it): add the nightscore jar with --driver-class-path (spark.driver.extraClassPath); "
          + "bin/nightscore does this itself");
    }
    System.setProperty("derby.stream.error.file", state.resolve("derby.log").toString());
    Warehouse warehouse = new Warehouse(spark, settings);
    StatementGuard.trusted(() -> {
      spark.sql("CREATE DATABASE IF NOT EXISTS " + warehouse.database() + " LOCATION "
          + SqlSafety.pathLiteral(state.resolve("catalog").resolve(warehouse.database() + ".db").toUri().toString()));
      upkeep(spark, warehouse);
    });

    Map<String, String> hive = new LinkedHashMap<>();
    hive.put("hive.server2.thrift.port", Integer.toString(o.port()));
    hive.put("hive.server2.thrift.bind.host", o.bind());
    hive.put("hive.server2.transport.mode", "binary");
    hive.put("hive.server2.enable.doAs", "false");
    hive.put("hive.server2.logging.operation.enabled", "false");
    if (o.users() != null) {
      hive.put("hive.server2.authentication", "CUSTOM");
      // HiveServer2 builds the provider from a configuration of its own, which reads system properties.
      System.setProperty("hive.server2.custom.authentication.class", UsersAuthenticator.class.getName());
      System.setProperty(UsersAuthenticator.USERS_FILE, o.users().toAbsolutePath().toString());
    } else {
      hive.put("hive.server2.authentication", "NONE");
    }
    if (o.keystore() != null) {
      hive.put("hive.server2.use.SSL", "true");
      hive.put("hive.server2.keystore.path", o.keystore().toAbsolutePath().toString());
      hive.put("hive.server2.keystore.password", System.getenv(KEYSTORE_PASSWORD_ENV));
    }
    hive.forEach((k, v) -> spark.conf().set(k, v));
    HiveThriftServer2 server;
    // On a thread of its own: HiveServer2 takes its settings from the Hive session state of the calling thread when
    // there is one, and this thread's (the metastore client's) predates the settings above.
    // Its class loader is this jar's (which holds Delta): HiveServer2 hands it on to every connection's session.
    java.util.concurrent.ExecutorService starter = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "sql-server start");
      t.setContextClassLoader(SqlServer.class.getClassLoader());
      return t;
    });
    try {
      server = starter.submit(() -> HiveThriftServer2.startWithContext(spark.sqlContext())).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting the Thrift server", e);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("the Thrift server did not start: " + e.getCause(), e.getCause());
    } finally {
      starter.shutdown();
      // The TLS socket is open now: the password leaves the session's settings.
      spark.conf().unset("hive.server2.keystore.password");
    }

    ScheduledExecutorService upkeep = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "sql-server catalog upkeep");
      t.setDaemon(true);
      return t;
    });
    upkeep.scheduleWithFixedDelay(() -> {
      try {
        StatementGuard.trusted(() -> upkeep(spark, warehouse));
      } catch (RuntimeException e) {
        LOG.warn("sql-server: catalog upkeep failed, retrying in {} s: {}", o.refreshSeconds(), e.toString());
      }
    }, o.refreshSeconds(), o.refreshSeconds(), TimeUnit.SECONDS);

    String url = "jdbc:hive2://" + o.bind() + ":" + o.port() + "/" + warehouse.database()
        + (o.keystore() != null ? ";ssl=true" : "");
    Running running = new Running(server, upkeep);
    // Before Spark's own shutdown hook (Hadoop's manager runs higher priorities first): stop taking clients, then
    // let Spark stop its context.
    org.apache.hadoop.util.ShutdownHookManager.get().addShutdownHook(running::stop, 60);
    out.println("sql-server: " + url + " (" + enforced + "; tables of " + warehouse.root()
        + ", new tables within " + o.refreshSeconds() + " s) ready");
    out.flush();
    return running;
  }

  /** Registers tables that exist now and are not in the catalog yet, and copies Delta schemas into the catalog. */
  static void upkeep(SparkSession spark, Warehouse warehouse) {
    SessionCatalog catalog = spark.sessionState().catalog();
    for (Table table : Table.values()) {
      if (!warehouse.exists(table)) {
        continue;
      }
      TableIdentifier id = new TableIdentifier(table.sqlName(), scala.Option.apply(warehouse.database()));
      if (!catalog.tableExists(id)) {
        warehouse.register(table);
        LOG.info("sql-server: registered {}", warehouse.qualified(table));
      }
      StructType schema = spark.read().format("delta").load(warehouse.path(table)).schema();
      CatalogTable entry;
      try {
        entry = catalog.getTableMetadata(id);
      } catch (org.apache.spark.sql.AnalysisException e) {
        throw new IllegalStateException("sql-server: " + warehouse.qualified(table) + " left the catalog", e);
      }
      if (!entry.schema().equals(schema)) {
        catalog.alterTableDataSchema(id, schema);
      }
    }
  }
}
