# Bad input gives a classed condition, worded for R, and changes nothing:
# the namespace's events and warehouse files are the same after it, and
# `meta verify` is clean.

refused <- function(env, expr, class, pattern = NULL) {
  before <- snapshot(env)
  e <- expect_error(expr, class = class)
  expect_s3_class(e, "batchmeta_error")
  expect_true(nzchar(e$code))
  if (!is.null(pattern)) expect_match(conditionMessage(e), pattern, fixed = TRUE)
  expect_identical(snapshot(env), before)
  invisible(e)
}

for (mode in MODES) {
  test_that(paste("bad input is a classed condition and changes nothing,", mode), {
    env <- test_env(mode)
    c <- env$client
    ns <- env$ns
    good <- data.frame(v = 1:3, s = c("a", "b", "c"))
    store_dataframe(good, ns, "t", partitions = list(date = as.Date("2016-10-31")), client = c)

    # Unknown table, namespace (with did-you-mean worded for R), partition, pin, batch.
    refused(env, load_dataframe(ns, "no_such_table", client = c), "batchmeta_not_found",
            sprintf("batchmeta::tables(\"%s\")", ns))
    e <- refused(env, store_dataframe(good, paste0(ns, "x"), "t", partitions = "2016-10-31", client = c),
                 "batchmeta_not_found", "batchmeta::create_namespace(")
    expect_identical(e$code, "namespace_not_found")
    refused(env, load_dataframe(ns, "t", partitions = "2017-01-01", client = c), "batchmeta_not_found")
    refused(env, rollback(ns, "t", partitions = "2016-10-31", client = c), "batchmeta_invalid_input")
    refused(env, load_dataframe(ns, "t", batch_id = "20000101000000000000", client = c),
            "batchmeta_not_found")
    refused(env, history(ns, "t", "2017-01-01", client = c), "batchmeta_not_found")
    refused(env, unpin(ns, "t", "nobody", client = c), "batchmeta_not_found")

    # Bad partitions.
    refused(env, store_dataframe(good, ns, "t", partitions = list(region = "us"), client = c),
            "batchmeta_invalid_input")
    refused(env, store_dataframe(good, ns, "t", partitions = c("2016-10-31", "2016-11-01"), client = c),
            "batchmeta_invalid_input", "exactly one partition")
    refused(env, store_dataframe(good, ns, "t", partitions = as.POSIXct("2016-10-31", tz = "UTC"), client = c),
            "batchmeta_invalid_input", "as.Date(x)")
    refused(env, store_dataframe(good, ns, "t", partitions = TRUE, client = c), "batchmeta_invalid_input")
    refused(env, store_dataframe(good, ns, "t", partitions = "not a date", client = c),
            "batchmeta_invalid_input")
    refused(env, store_dataframe(data.frame(v = 1L, s = "a", date = as.Date("2016-11-01")), ns, "t",
                                 partitions = "2016-10-31", client = c), "batchmeta_invalid_input")
    refused(env, store_dataframe(good, ns, "t", partitions = "2016-10-31", partition_by = "v", client = c),
            "batchmeta_invalid_input")

    # Wrong schema, with the hint naming R's calls.
    refused(env, store_dataframe(data.frame(v = c("x", "y"), s = "a"), ns, "t", partitions = "2016-10-31",
                                 client = c),
            "batchmeta_schema_mismatch", "v (Int32 in the table, Utf8 in the data)")
    refused(env, store_dataframe(data.frame(v = 1:2, s = "a", extra = 1), ns, "t", partitions = "2016-10-31",
                                 client = c),
            "batchmeta_schema_mismatch", "schema_mode = \"merge\"")

    # Data R cannot store, and arguments of the wrong kind.
    refused(env, store_dataframe(list(v = 1), ns, "t", partitions = "2016-10-31", client = c),
            "batchmeta_invalid_input")
    bad <- data.frame(v = 1:2)
    bad$l <- list(1, 2)
    refused(env, store_dataframe(bad, ns, "t", partitions = "2016-10-31", client = c),
            "batchmeta_invalid_input", "list column")
    refused(env, store_dataframe(data.frame(v = 1:2, t = as.difftime(1:2, units = "secs")), ns, "t",
                                 partitions = "2016-10-31", client = c), "batchmeta_invalid_input", "difftime")
    refused(env, store_dataframe(good, ns, "t", partitions = "2016-10-31", expected_batch = "yesterday",
                                 client = c), "batchmeta_invalid_input")
    refused(env, store_dataframe(good, ns, "t", partitions = "2016-10-31", schema_mode = "loose",
                                 client = c), "batchmeta_invalid_input")
    refused(env, store_dataframe(good, ns, "Bad-Name", partitions = "2016-10-31", client = c),
            "batchmeta_invalid_input")
    refused(env, load_dataframe(ns, "t", as_of = "not a time", client = c), "batchmeta_invalid_input")
    refused(env, load_dataframe(ns, "t", columns = "nope", client = c), "batchmeta_invalid_input")
    refused(env, load_dataframe(ns, "t", int64 = "float", client = c), "batchmeta_invalid_input")
    refused(env, create_namespace(ns, client = c), "batchmeta_already_exists")

    # What the refusals left alone is still there and intact.
    expect_identical(load_dataframe(ns, "t", client = c)$v, 1:3)
    expect_identical(nrow(history(ns, "t", "2016-10-31", client = c)), 1L)
    meta_verify(env)
  })
}

test_that("the condition carries the call and a message with the R hint", {
  env <- test_env("embedded")
  e <- tryCatch(load_dataframe(env$ns, "nope", client = env$client), error = identity)
  expect_s3_class(e, c("batchmeta_not_found", "batchmeta_error", "error", "condition"), exact = TRUE)
  expect_identical(e$code, "table_not_found")
  expect_identical(deparse(e$call[[1]]), "load_dataframe")
  expect_false(grepl("bm.", conditionMessage(e), fixed = TRUE))
  # tryCatch by class, as users write it.
  got <- tryCatch(load_dataframe(env$ns, "nope", client = env$client),
                  batchmeta_not_found = function(e) "handled")
  expect_identical(got, "handled")
})
