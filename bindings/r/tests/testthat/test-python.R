# R and Python on the same table, through the real wheel: R writes and
# Python reads (types and values checked on the Python side, in cross.py),
# Python writes back and R reads exactly what it wrote; a pandas frame
# written by Python reads in R as expected, and R writes into the table
# Python created (pandas' nanosecond timestamps), which Python reads.

python <- function(...) {
  py <- python_bin()
  if (!file.exists(py)) stop(py, " is missing: run scripts/python-build (scripts/r-test does)")
  out <- suppressWarnings(system2(py, c(shQuote(testthat::test_path("cross.py")), ...),
                                  stdout = TRUE, stderr = TRUE,
                                  env = "BATCHMETA_URL= BATCHMETA_TOKEN="))
  status <- attr(out, "status")
  expect_true(is.null(status) || status == 0L, info = paste(out, collapse = "\n"))
  expect_identical(tail(out, 1L), "ok", info = paste(out, collapse = "\n"))
}

for (mode in c("embedded", "remote")) {
  test_that(paste("R writes, Python reads, and back, equal,", mode), {
    env <- test_env(mode)
    df <- all_types(50L)
    store_dataframe(df, env$ns, "t", partitions = list(date = as.Date("2016-10-31")), client = env$client)
    python("read-r", shQuote(env$url), env$ns)
    back <- load_dataframe(env$ns, "back", client = env$client)
    back$date <- NULL
    expect_identical(back, df)
    meta_verify(env)
  })

  test_that(paste("Python writes, R reads; R writes into Python's table,", mode), {
    env <- test_env(mode)
    python("write-py", shQuote(env$url), env$ns)
    got <- load_dataframe(env$ns, "py", client = env$client)
    expect_identical(names(got), c("n", "x", "s", "flag", "cat", "at", "day", "region"))
    expect_identical(as.character(got$n), c("1", NA, "4611686018427387904"))
    expect_s3_class(got$n, "integer64")
    expect_identical(got$x, c(0.25, -1, 1e300))
    expect_identical(got$s, c("a", NA, "z\u00e9"))
    expect_identical(got$flag, c(TRUE, FALSE, TRUE))
    expect_identical(got$cat, factor(c("hi", "lo", NA), levels = c("lo", "mid", "hi"), ordered = TRUE))
    expect_identical(attr(got$at, "tzone"), "Europe/Berlin")
    expect_identical(format(got$at, "%Y-%m-%d %H:%M:%OS6"),
                     c("2016-10-31 01:02:03.123456", NA, "1999-12-31 23:59:59.000000"))
    expect_identical(got$day, as.Date(c("2016-10-31", "2000-02-29", NA)))
    expect_identical(got$region, rep("eu", 3L))

    # R writes the same values into the table pandas created.
    mine <- got
    mine$region <- NULL
    mine$at <- as.POSIXct(c("2016-10-31 01:02:03.123456", NA, "1999-12-31 23:59:59"), tz = "Europe/Berlin")
    store_dataframe(mine, env$ns, "py", partitions = list(region = "us"), client = env$client)
    python("read-r-py", shQuote(env$url), env$ns)
    meta_verify(env)
  })
}
