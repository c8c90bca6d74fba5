# Every type R stores comes back identical (values, NA, NaN, levels in
# order, ordered, time zones, 64-bit integers), embedded and against a
# real `meta serve` (data written directly and uploaded through it).

for (mode in MODES) {
  test_that(paste("every type round-trips,", mode), {
    env <- test_env(mode)
    df <- all_types(50L)
    r <- store_dataframe(df, env$ns, "t", partitions = list(date = as.Date("2016-10-31")),
                         message = "first", client = env$client)
    expect_s3_class(r, "batchmeta_store_result")
    expect_true(r$created_table)
    expect_equal(r$batches$rows, 50)
    expect_match(r$batch_id, "^[0-9]{20}$")

    got <- load_dataframe(env$ns, "t", client = env$client)
    expect_identical(got$date, rep(as.Date("2016-10-31"), 50L))
    got$date <- NULL
    expect_identical(got, df)
    # The pieces identical() covers, spelled out.
    expect_identical(levels(got$f), c("lo", "mid", "hi"))
    expect_true(is.ordered(got$o))
    expect_identical(attr(got$ts, "tzone"), "America/New_York")
    expect_identical(format(got$ts[1], "%Y-%m-%d %H:%M:%OS1"), "2016-10-31 12:34:56.5")
    expect_true(is.nan(got$d[3]) && is.na(got$d[2]) && !is.nan(got$d[2]))
    expect_identical(as.character(got$i64[c(1, 3)]), c("9007199254740993", "-9223372036854775807"))
    expect_identical(got$s[3], "\u00fc\u65e5")

    # A tibble in, a tibble out; columns =; int64 = "double".
    tb <- tibble::as_tibble(df[1:3, c("i", "s")])
    store_dataframe(tb, env$ns, "tb", partitions = list(region = "us"), client = env$client)
    out <- load_dataframe(env$ns, "tb", columns = c("s", "region"), output = "tibble",
                          client = env$client)
    expect_s3_class(out, "tbl_df")
    expect_identical(out$s, df$s[1:3])
    expect_identical(out$region, rep("us", 3L))
    expect_identical(names(out), c("s", "region"))
    dbl <- load_dataframe(env$ns, "t", columns = "i64", int64 = "double", client = env$client)
    expect_identical(dbl$i64, c(9007199254740992, NA, -9223372036854775807, rep(1, 47)))

    meta_verify(env)
  })
}

test_that("a POSIXct without a time zone and an empty frame round-trip", {
  env <- test_env("embedded")
  local <- data.frame(at = as.POSIXct(c("2016-10-31 08:00:00", NA)), n = 1:2)
  expect_identical(attr(local$at, "tzone"), "")
  store_dataframe(local, env$ns, "local", client = env$client)
  got <- load_dataframe(env$ns, "local", client = env$client)
  expect_identical(got, local)

  empty <- all_types(3L)[0, ]
  store_dataframe(empty, env$ns, "empty", client = env$client)
  got <- load_dataframe(env$ns, "empty", client = env$client)
  expect_identical(nrow(got), 0L)
  expect_identical(vapply(got, function(c) class(c)[1], ""), vapply(empty, function(c) class(c)[1], ""))
  # No rows, no dictionary in the file: the levels of an empty factor are not kept.
  got$f <- empty$f
  got$o <- empty$o
  expect_identical(got, empty)
})

test_that("partition_by splits a frame into partitions published in one commit", {
  env <- test_env("embedded")
  df <- data.frame(day = as.Date("2016-10-31") + rep(0:2, each = 4), v = 1:12)
  r <- store_dataframe(df, env$ns, "daily", partition_by = "day", client = env$client)
  expect_equal(nrow(r$batches), 3)
  expect_equal(r$batches$rows, c(4, 4, 4))
  expect_length(unique(r$commit_id), 1L)
  p <- partitions(env$ns, "daily", client = env$client)
  expect_identical(p$partition, c("day=2016-10-31", "day=2016-11-01", "day=2016-11-02"))
  two <- load_dataframe(env$ns, "daily", partitions = as.Date(c("2016-10-31", "2016-11-02")),
                        client = env$client)
  two <- two[order(two$v), ]
  expect_identical(two$v, c(1:4, 9:12))
  expect_identical(unique(two$day), as.Date(c("2016-10-31", "2016-11-02")))
  # A data frame of key columns names partitions too.
  one <- load_dataframe(env$ns, "daily", partitions = data.frame(day = as.Date("2016-11-01")),
                        client = env$client)
  expect_identical(one$v, 5:8)
})

test_that("sf_writer and sf_reader take the seed's argument names", {
  env <- test_env("embedded")
  opt <- list(ETL_DATE = "20161031")
  result <- data.frame(item = c("shirt", "dress"), price = c(20, 45.5))
  create <- store_dataframe(result[0, ], env$ns, "sold", partitions = list(etl_date = 20161031L),
                            client = env$client)
  expect_true(create$created_table)
  expect_identical(table_info(env$ns, "sold", client = env$client)$partition_keys$type, "int")
  r <- sf_writer(data = result, namespace = env$ns, resource = "sold",
                 partitions = c(as.integer(opt$ETL_DATE)), client = env$client)
  expect_identical(r$batches$partition, "etl_date=20161031")
  back <- sf_reader(namespace = env$ns, resource = "sold", partitions = c(as.integer(opt$ETL_DATE)),
                    client = env$client)
  expect_identical(back$item, result$item)
  expect_identical(back$price, result$price)
  expect_identical(as.character(back$etl_date), c("20161031", "20161031"))
})

test_that("the embedded default is .batchmeta/ in the working directory", {
  dir <- tempfile("wd")
  dir.create(dir)
  old <- setwd(dir)
  on.exit(setwd(old))
  withr::local_envvar(BATCHMETA_URL = "")
  withr::local_options(batchmeta.quiet = FALSE)
  expect_message(client <- connect(default = FALSE), "using the embedded catalog in .*\\.batchmeta")
  create_namespace("sales", client = client)
  store_dataframe(data.frame(x = 1:3), "sales", "t", client = client)
  expect_true(dir.exists(file.path(dir, ".batchmeta")))
  expect_identical(load_dataframe("sales", "t", client = client)$x, 1:3)
  expect_identical(namespaces(client = client), "sales")
})
