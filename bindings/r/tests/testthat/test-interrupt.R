# Ctrl-C during a long store stops it and publishes nothing: a child R
# process stores a large frame in a loop; once a store has completed, the
# test sends SIGINT until one lands inside a store (the child catches
# batchmeta_interrupted). That store must have published nothing, every
# published batch must hold all its rows, and `meta verify` must be clean.
# Waits are bounded; the outcome does not depend on timing (a signal that
# lands between two stores is R's own interrupt, and the test signals again).

log_lines <- function(path) if (file.exists(path)) readLines(path, warn = FALSE) else character()

test_that("an interrupted store publishes nothing (embedded)", {
  env <- test_env("embedded")
  n <- 1000000L
  store_dataframe(data.frame(i = 1L, d = 0, s = "x")[0, ], env$ns, "big",
                  partitions = list(date = as.Date("2016-10-31")), client = env$client)
  # The empty first publish above; the child's stores come after it.
  base <- 1L
  counts <- c(NA_integer_, NA_integer_)
  log <- tempfile("interrupt", fileext = ".log")
  out <- tempfile("child", fileext = ".out")
  cmd <- sprintf("exec %s %s %s %s %s %d > %s 2>&1 & echo $!",
                 shQuote(file.path(R.home("bin"), "Rscript")), shQuote(test_path("interrupt-child.R")),
                 shQuote(env$url), env$ns, shQuote(log), n, shQuote(out))
  pid <- as.integer(system2("sh", c("-c", shQuote(cmd)), stdout = TRUE))
  on.exit(tools::pskill(pid, tools::SIGKILL), add = TRUE)
  alive <- function() isTRUE(tools::pskill(pid, 0L))

  deadline <- Sys.time() + 600
  while (!("stored" %in% log_lines(log))) {
    if (!alive() || Sys.time() > deadline) {
      fail(paste(c("the child stored nothing:", log_lines(out)), collapse = "\n"))
      return()
    }
    Sys.sleep(0.2)
  }
  deadline <- Sys.time() + 300
  while (!any(startsWith(log_lines(log), "ours")) && alive() && Sys.time() < deadline) {
    tools::pskill(pid, tools::SIGINT)
    Sys.sleep(0.3)
  }
  lines <- log_lines(log)
  ours <- grep("^ours", lines, value = TRUE)
  expect_length(ours, 1L)
  testthat::expect_true(length(lines) >= 2L, info = paste(lines, collapse = " | "))
  if (length(ours) == 1L) {
    counts <- as.integer(strsplit(ours, " ")[[1]][2:3])
    # The interrupted store published nothing: the publishes are the stores that returned.
    expect_identical(counts[1], counts[2])
  }
  deadline <- Sys.time() + 60
  while (alive() && Sys.time() < deadline) Sys.sleep(0.1)
  expect_false(alive())

  h <- history(env$ns, "big", list(date = as.Date("2016-10-31")), client = env$client)
  publishes <- h[h$action == "publish", ]
  # Nothing was published after the interrupted store either.
  expect_identical(nrow(publishes), counts[1])
  expect_gte(nrow(publishes), base + 1L)
  # No half batch: every published batch holds every row.
  expect_true(all(publishes$rows[seq_len(nrow(publishes) - base)] == n))
  expect_identical(nrow(load_dataframe(env$ns, "big", columns = "i", client = env$client)), n)
  meta_verify(env)
})
