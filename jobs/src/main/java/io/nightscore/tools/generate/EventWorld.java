package io.nightscore.tools.generate;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.exp;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.log1p;
import static org.apache.spark.sql.functions.log;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.round;
import static org.apache.spark.sql.functions.sin;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * A synthetic ad-impression world with a known true conversion probability per event.
 *
 * <p>Hidden per-user propensity, per-category effects (Zipf-like popularity, cardinalities up to 10^5),
 * diurnal and weekly seasonality and a few interactions make up the true log-odds; the observed
 * features are noisy, partly missing views of them (user history counts and ratios, publisher and
 * campaign click-through rates, ...), plus features with no effect at all.
 */
public final class EventWorld extends World {

  /** Categorical features: name, value prefix, cardinality, effect s.d., missing share. */
  record Categorical(String name, String prefix, int cardinality, double sigma, double missing) {}

  static final List<Categorical> CATEGORICAL = List.of(
      new Categorical("publisher", "pub", 50_000, 0.50, 0.00),
      new Categorical("advertiser", "adv", 20_000, 0.40, 0.00),
      new Categorical("campaign", "cmp", 100_000, 0.50, 0.00),
      new Categorical("creative", "cr", 100_000, 0.30, 0.01),
      new Categorical("app_bundle", "app", 30_000, 0.30, 0.40),
      new Categorical("placement", "plc", 5_000, 0.30, 0.02),
      new Categorical("geo_country", "cc", 200, 0.30, 0.005),
      new Categorical("geo_region", "rg", 3_000, 0.20, 0.05),
      new Categorical("device_type", "dev", 5, 0.30, 0.00),
      new Categorical("os", "os", 12, 0.15, 0.01),
      new Categorical("browser", "br", 15, 0.10, 0.03),
      new Categorical("site_category", "sc", 40, 0.30, 0.02),
      new Categorical("ad_size", "sz", 20, 0.25, 0.00),
      new Categorical("carrier", "car", 100, 0.10, 0.20),
      new Categorical("language", "lang", 60, 0.10, 0.01),
      new Categorical("connection_type", "conn", 5, 0.15, 0.02));

  public EventWorld(long seed) {
    super(seed);
  }

  @Override
  public List<String> numeric() {
    return numericNames();
  }

  @Override
  public List<String> categorical() {
    return categoricalNames();
  }

  @Override
  String textDirtyColumn() {
    return "user_imp_7d";
  }

  @Override
  String infinityDirtyColumn() {
    return "bid_price";
  }

  /** Names of the numeric features, in schema order (must match reference.conf's default schema). */
  public static List<String> numericNames() {
    return List.of("hour_of_day", "day_of_week",
        "user_imp_1d", "user_imp_7d", "user_imp_30d", "user_clk_7d", "user_clk_30d", "user_conv_30d",
        "user_ctr_7d", "user_ctr_30d", "user_cvr_30d", "user_age_days", "user_sessions_7d",
        "recency_hours", "time_since_last_click_h", "frequency_cap_used",
        "pub_imp_7d", "pub_ctr_7d", "adv_ctr_7d", "camp_ctr_7d", "camp_cvr_7d", "site_ctr_7d",
        "camp_age_days", "creative_age_days",
        "bid_floor", "bid_price", "win_rate_7d", "viewability_7d",
        "ad_position", "page_depth", "session_depth", "session_duration_s", "num_ads_on_page",
        "page_load_ms", "scroll_depth", "screen_width", "screen_height", "latency_ms",
        "video_duration_s", "device_age_months");
  }

  public static List<String> categoricalNames() {
    return CATEGORICAL.stream().map(Categorical::name).toList();
  }

  @Override
  Dataset<Row> latent(Dataset<Row> rows) {
    Map<String, Column> cols = new LinkedHashMap<>();
    Column user = n(1);           // hidden propensity of the user
    Column activity = n(3);       // how much the user browses
    Column viewability = n(20);   // hidden quality of the slot
    Column newUser = u(200).lt(0.10);

    Column hour = pmod(floor(lit(14).plus(n(2).multiply(4.5))), lit(24));
    Column dow = pmod(col("_day").plus(3), lit(7)); // 1970-01-01 was a Thursday: 0 = Monday
    cols.put("hour_of_day", hour);
    cols.put("_hour", hour);
    cols.put("day_of_week", dow);

    Column imp7 = round(exp(lit(2.5).plus(activity)));
    Column imp1 = round(exp(lit(0.8).plus(activity).plus(n(4).multiply(0.5))));
    Column imp30 = round(exp(lit(3.8).plus(activity).plus(n(5).multiply(0.3))));
    Column userCtr = sigmoid(lit(-4.0).plus(user.multiply(0.8)));
    Column clk7 = floor(imp7.multiply(userCtr).multiply(exp(n(6).multiply(0.3))).plus(u(7)));
    Column clk30 = floor(imp30.multiply(userCtr).multiply(exp(n(8).multiply(0.3))).plus(u(9)));
    Column conv30 = floor(clk30.multiply(sigmoid(lit(-1.5).plus(user.multiply(0.5)))).plus(u(10)));
    cols.put("user_imp_1d", nullIf(newUser, imp1));
    cols.put("user_imp_7d", nullIf(newUser, imp7));
    cols.put("user_imp_30d", nullIf(newUser, imp30));
    cols.put("user_clk_7d", nullIf(newUser, clk7));
    cols.put("user_clk_30d", nullIf(newUser, clk30));
    cols.put("user_conv_30d", nullIf(newUser, conv30));
    cols.put("user_ctr_7d", nullIf(newUser.or(imp7.leq(0)), round(clk7.divide(imp7), 6)));
    cols.put("user_ctr_30d", nullIf(newUser.or(imp30.leq(0)), round(clk30.divide(imp30), 6)));
    cols.put("user_cvr_30d", nullIf(newUser.or(clk30.leq(0)), round(conv30.divide(clk30), 6)));
    cols.put("user_age_days", nullIf(newUser, floor(exp(lit(4.0).plus(n(11).multiply(1.2))))));
    cols.put("user_sessions_7d", nullIf(newUser, round(exp(lit(1.2).plus(activity.multiply(0.7))
        .plus(n(12).multiply(0.4))))));
    Column recency = round(exp(lit(2.0).plus(n(13).multiply(1.5))), 3);
    cols.put("recency_hours", nullIf(newUser, recency));
    cols.put("time_since_last_click_h", nullIf(newUser.or(u(14).lt(0.2)),
        round(exp(lit(4.0).minus(user.multiply(0.6)).plus(n(15))), 3)));
    Column freqCap = floor(u(16).multiply(10));
    cols.put("frequency_cap_used", freqCap);

    List<Column> effects = new ArrayList<>();
    Map<String, Column> catRank = new LinkedHashMap<>();
    for (int j = 0; j < CATEGORICAL.size(); j++) {
      Categorical c = CATEGORICAL.get(j);
      Column rank = least(floor(exp(u(100 + j).multiply(Math.log(c.cardinality())))).cast("long"),
          lit((long) c.cardinality()));
      Column effect = categoryEffect(j, rank, c.sigma());
      catRank.put(c.name(), rank);
      effects.add(effect);
      cols.put("_e_" + c.name(), effect);
    }
    Column ePub = col("_e_publisher");
    Column eCamp = col("_e_campaign");
    cols.put("pub_imp_7d", round(exp(lit(12.0).minus(log(catRank.get("publisher")).multiply(0.8))
        .plus(n(30).multiply(0.1)))));
    cols.put("pub_ctr_7d", nullIf(u(31).lt(0.02), round(sigmoid(lit(-4.2).plus(ePub.multiply(0.9))
        .plus(n(32).multiply(0.2))), 6)));
    cols.put("adv_ctr_7d", nullIf(u(33).lt(0.02), round(sigmoid(lit(-4.2)
        .plus(col("_e_advertiser").multiply(0.9)).plus(n(34).multiply(0.2))), 6)));
    cols.put("camp_ctr_7d", nullIf(u(35).lt(0.05), round(sigmoid(lit(-4.2).plus(eCamp.multiply(0.8))
        .plus(n(36).multiply(0.3))), 6)));
    cols.put("camp_cvr_7d", nullIf(u(37).lt(0.05), round(sigmoid(lit(-5.0).plus(eCamp)
        .plus(n(38).multiply(0.5))), 6)));
    cols.put("site_ctr_7d", nullIf(u(39).lt(0.02), round(sigmoid(lit(-4.0)
        .plus(col("_e_site_category")).plus(n(40).multiply(0.1))), 6)));
    cols.put("camp_age_days", floor(u(41).multiply(365)));
    Column creativeAge = floor(u(42).multiply(90));
    cols.put("creative_age_days", creativeAge);
    Column floorPrice = round(exp(lit(-1.0).plus(n(43).multiply(0.5))), 4);
    Column bidRatio = lit(1.0).plus(exp(n(44).multiply(0.7)));
    cols.put("bid_floor", floorPrice);
    cols.put("bid_price", round(floorPrice.multiply(bidRatio), 4));
    cols.put("win_rate_7d", nullIf(u(45).lt(0.03), round(sigmoid(n(46)), 6)));
    cols.put("viewability_7d", nullIf(u(47).lt(0.05), round(sigmoid(lit(0.5).plus(viewability.multiply(0.7))
        .plus(n(48).multiply(0.5))), 6)));
    Column position = lit(1).plus(floor(u(49).multiply(u(50)).multiply(8)));
    cols.put("ad_position", position);
    cols.put("page_depth", floor(exp(n(51).multiply(0.7))));
    cols.put("session_depth", floor(exp(lit(0.5).plus(n(52).multiply(0.8)))));
    cols.put("session_duration_s", round(exp(lit(5.0).plus(n(53))), 1));
    Column adsOnPage = lit(1).plus(floor(u(54).multiply(6)));
    cols.put("num_ads_on_page", adsOnPage);
    cols.put("page_load_ms", nullIf(u(55).lt(0.1), round(exp(lit(7.0).plus(n(56).multiply(0.5))))));
    cols.put("scroll_depth", nullIf(u(57).lt(0.15), round(u(58), 4)));
    Column mobile = catRank.get("device_type").leq(2);
    cols.put("screen_width", when(mobile, lit(360).plus(floor(u(59).multiply(4)).multiply(30)))
        .otherwise(lit(1280).plus(floor(u(59).multiply(5)).multiply(160))));
    cols.put("screen_height", when(mobile, lit(640).plus(floor(u(60).multiply(4)).multiply(60)))
        .otherwise(lit(720).plus(floor(u(60).multiply(4)).multiply(90))));
    cols.put("latency_ms", round(exp(lit(4.0).plus(n(61).multiply(0.4))), 1));
    cols.put("video_duration_s", nullIf(u(62).lt(0.7), floor(lit(6).plus(u(63).multiply(54)))));
    cols.put("device_age_months", nullIf(u(64).lt(0.1), floor(u(65).multiply(60))));

    Column logit = user.multiply(0.8)
        .plus(viewability.multiply(0.4))
        .plus(sin(hour.minus(20).multiply(TWO_PI / 24)).multiply(0.25))
        .plus(when(dow.geq(5), lit(0.1)).otherwise(lit(0.0)))
        .plus(when(mobile, sin(hour.minus(22).multiply(TWO_PI / 24)).multiply(0.3)).otherwise(lit(0.0)))
        .minus(log1p(recency).multiply(0.15))
        .minus(freqCap.multiply(0.04))
        .minus(position.minus(1).multiply(0.1))
        .plus(log(bidRatio).multiply(0.15))
        .minus(log1p(creativeAge.divide(10)).multiply(0.1))
        .minus(adsOnPage.minus(1).multiply(0.05));
    Dataset<Row> out = withLatent(rows, cols, logit, effects);
    for (int j = 0; j < CATEGORICAL.size(); j++) {
      Categorical c = CATEGORICAL.get(j);
      Column value = concat(lit(c.prefix() + "_"), catRank.get(c.name()).cast("string"));
      out = out.withColumn(c.name(), nullIf(u(150 + j).lt(c.missing()), value));
    }
    return out;
  }

}
