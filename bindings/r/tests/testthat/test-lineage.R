# Lineage by batch from R: a client's loads become its stores' inputs,
# rollback_impact and stale, and a chain a (R) -> b (Python) -> c (R)
# whose lineage both languages read.

day <- function() list(day = as.Date("2016-10-31"))

py_step <- function(...) {
  py <- python_bin()
  if (!file.exists(py)) stop(py, " is missing: run scripts/python-build (scripts/r-test does)")
  out <- suppressWarnings(system2(py, c(shQuote(testthat::test_path("lineage.py")), ...),
                                  stdout = TRUE, stderr = TRUE,
                                  env = "BATCHMETA_URL= BATCHMETA_TOKEN= BATCHMETA_RUN_ID="))
  status <- attr(out, "status")
  expect_true(is.null(status) || status == 0L, info = paste(out, collapse = "\n"))
  expect_identical(tail(out, 1L), "ok", info = paste(out, collapse = "\n"))
  out
}

for (mode in c("embedded", "remote")) {
  test_that(paste("R records what it loaded and names what a rollback affects,", mode), {
    env <- test_env(mode)
    other <- batchmeta::connect(env$url, default = FALSE)
    a0 <- store_dataframe(data.frame(n = 1:3), env$ns, "a", partitions = day(), client = other)$batch_id
    a1 <- store_dataframe(data.frame(n = 4:6), env$ns, "a", "2016-10-31", client = other)$batch_id
    load_dataframe(env$ns, "a", "2016-10-31", client = env$client)
    b <- store_dataframe(data.frame(n = 1:2), env$ns, "b", partitions = day(), client = env$client)$batch_id
    up <- lineage(env$ns, "b", "2016-10-31", client = env$client)
    expect_identical(up$batch_id, a1)
    expect_identical(up$current, TRUE)
    b2 <- store_dataframe(data.frame(n = 1:2), env$ns, "b", "2016-10-31", client = env$client)$batch_id
    expect_identical(lineage(env$ns, "b", "2016-10-31", batch_id = b2, client = env$client)$batch_id, a1)
    expect_identical(rollback_impact(env$ns, "a", "2016-10-31", client = env$client)$batch_id, b2)
    rollback(env$ns, "a", "2016-10-31", client = env$client)
    st <- stale(env$ns, client = env$client)
    expect_identical(st$batch_id, b2)
    expect_identical(st$input_batch_id, a1)
    # Only the given inputs; a bad one is a classed condition and records nothing.
    b3 <- store_dataframe(data.frame(n = 1:2), env$ns, "b", "2016-10-31", inputs = a0,
                          track_reads = FALSE, client = env$client)$batch_id
    expect_identical(lineage(env$ns, "b", "2016-10-31", client = env$client)$batch_id, a0)
    before <- snapshot(env)
    err <- tryCatch(store_dataframe(data.frame(n = 1L), env$ns, "b", "2016-10-31",
                                    inputs = "20000101000000000001", client = env$client),
                    batchmeta_invalid_input = function(e) e)
    expect_s3_class(err, "batchmeta_invalid_input")
    expect_identical(err$code, "input_batch_not_found")
    expect_identical(snapshot(env), before)
    expect_true(nzchar(b3))
  })

  test_that(paste("a chain across R and Python reads the same both ways,", mode), {
    env <- test_env(mode)
    store_dataframe(data.frame(n = 1:3), env$ns, "a", partitions = day(), client = env$client)
    out <- py_step("load-a-store-b", shQuote(env$url), env$ns)
    b <- out[length(out) - 1L]
    load_dataframe(env$ns, "b", "2016-10-31", client = env$client)
    store_dataframe(data.frame(n = 7L), env$ns, "c", partitions = day(), client = env$client)
    up <- lineage(env$ns, "c", "2016-10-31", client = env$client)
    expect_identical(up$batch_id[1], b)
    expect_identical(up$depth, c(1, 2))
    py_step("check-c", shQuote(env$url), env$ns)
  })
}
