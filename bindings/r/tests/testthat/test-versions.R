# Rollback, history, compare-and-swap, pins, as-of reads and the audit
# trail, embedded and against a real `meta serve`.

day <- list(date = as.Date("2016-10-31"))

for (mode in MODES) {
  test_that(paste("rollback walks back and history records every move,", mode), {
    env <- test_env(mode)
    c <- env$client
    b1 <- store_dataframe(data.frame(v = 1L), env$ns, "t", partitions = day, message = "one", client = c)
    b2 <- store_dataframe(data.frame(v = 2L), env$ns, "t", partitions = "2016-10-31", client = c)
    b3 <- store_dataframe(data.frame(v = 3L), env$ns, "t", partitions = "date=2016-10-31", client = c)
    expect_identical(load_dataframe(env$ns, "t", client = c)$v, 3L)

    rb <- rollback(env$ns, "t", partitions = "2016-10-31", message = "bad data", client = c)
    expect_identical(rb$action, "rollback")
    expect_identical(rb$from_batch, b3$batch_id)
    expect_identical(rb$to_batch, b2$batch_id)
    expect_identical(load_dataframe(env$ns, "t", client = c)$v, 2L)
    rollback(env$ns, "t", partitions = "2016-10-31", client = c)
    expect_identical(load_dataframe(env$ns, "t", client = c)$v, 1L)
    # Roll forward to any committed batch; old batches stay readable.
    rollback(env$ns, "t", partitions = "2016-10-31", to = b3$batch_id, client = c)
    expect_identical(load_dataframe(env$ns, "t", client = c)$v, 3L)
    expect_identical(load_dataframe(env$ns, "t", batch_id = b2$batch_id, client = c)$v, 2L)

    h <- history(env$ns, "t", "2016-10-31", client = c)
    expect_identical(h$action, c("rollback", "rollback", "rollback", "publish", "publish", "publish"))
    expect_identical(h$to_batch, c(b3$batch_id, b1$batch_id, b2$batch_id, b3$batch_id, b2$batch_id, b1$batch_id))
    expect_identical(h$message[c(5, 6)], c(NA, "one"))
    expect_s3_class(h$at, "POSIXct")
    expect_true(all(diff(h$id) < 0))
    b <- batches(env$ns, "t", "2016-10-31", client = c)
    expect_setequal(b$batch_id, c(b1$batch_id, b2$batch_id, b3$batch_id))
    expect_true(all(b$state == "committed"))
    meta_verify(env)
  })

  test_that(paste("expected_batch: exactly one writer wins, the loser learns the winner,", mode), {
    env <- test_env(mode)
    c <- env$client
    first <- store_dataframe(data.frame(v = 1L), env$ns, "t", partitions = day,
                             expected_batch = NO_BATCH, client = c)
    # A second first-writer loses.
    e <- expect_error(store_dataframe(data.frame(v = 9L), env$ns, "t", partitions = day,
                                      expected_batch = NO_BATCH, client = c),
                      class = "batchmeta_conflict")
    expect_identical(e$current_batch, first$batch_id)
    expect_identical(e$code, "conflict")
    expect_match(conditionMessage(e), sprintf("expected_batch = \"%s\"", first$batch_id), fixed = TRUE)
    expect_s3_class(e, "batchmeta_error")
    second <- store_dataframe(data.frame(v = 2L), env$ns, "t", partitions = day,
                              expected_batch = first$batch_id, client = c)
    # Expecting the old batch now loses, and changes nothing.
    before <- snapshot(env)
    e <- expect_error(store_dataframe(data.frame(v = 3L), env$ns, "t", partitions = day,
                                      expected_batch = first$batch_id, client = c),
                      class = "batchmeta_conflict")
    expect_identical(e$current_batch, second$batch_id)
    expect_error(rollback(env$ns, "t", partitions = "2016-10-31", expected_batch = first$batch_id,
                          client = c), class = "batchmeta_conflict")
    expect_identical(load_dataframe(env$ns, "t", client = c)$v, 2L)
    after <- snapshot(env)
    expect_identical(after$events, before$events)
    expect_identical(after$last, before$last)
    meta_verify(env)
  })

  test_that(paste("pins and as-of reads hold a version,", mode), {
    env <- test_env(mode)
    c <- env$client
    b1 <- store_dataframe(data.frame(v = 1L), env$ns, "t", partitions = day, client = c)
    p <- pin(env$ns, "t", "nightly_report", partition = "2016-10-31", owner = "ana",
             reason = "month end", client = c)
    expect_identical(p$batch_id, b1$batch_id)
    expect_identical(p$partition, "date=2016-10-31")
    between <- max(history(env$ns, "t", "2016-10-31", client = c)$at)
    Sys.sleep(0.01)
    store_dataframe(data.frame(v = 2L), env$ns, "t", partitions = day, client = c)
    expect_identical(load_dataframe(env$ns, "t", client = c)$v, 2L)
    expect_identical(load_dataframe(env$ns, "t", pin = "nightly_report", client = c)$v, 1L)
    expect_identical(load_dataframe(env$ns, "t", as_of = between + 0.001, client = c)$v, 1L)
    expect_identical(load_dataframe(env$ns, "t", as_of = format(between + 0.001, "%Y-%m-%dT%H:%M:%OS6Z", tz = "UTC"),
                                    client = c)$v, 1L)
    # A table pin as of a time.
    pin(env$ns, "t", "as_then", as_of = between + 0.001, client = c)
    expect_identical(load_dataframe(env$ns, "t", pin = "as_then", client = c)$v, 1L)
    ps <- pins(env$ns, "t", client = c)
    expect_setequal(ps$name, c("nightly_report", "as_then"))
    expect_identical(ps$owner[ps$name == "nightly_report"], "ana")
    expect_identical(nrow(pins(env$ns, client = c)), 2L)
    unpin(env$ns, "t", "nightly_report", client = c)
    expect_identical(pins(env$ns, "t", client = c)$name, "as_then")
    expect_error(load_dataframe(env$ns, "t", pin = "nightly_report", client = c),
                 class = "batchmeta_not_found")
    expect_error(load_dataframe(env$ns, "t", pin = "as_then", batch_id = b1$batch_id, client = c),
                 class = "batchmeta_invalid_input")

    ev <- events(env$ns, "t", client = c)
    expect_true(all(c("publish", "create_pin", "delete_pin") %in% ev$action))
    feed <- events(env$ns, after = min(ev$id), client = c)
    expect_true(all(diff(feed$id) > 0))
    expect_identical(nrow(feed), nrow(ev) - 1L)
    expect_identical(events(env$ns, "t", action = "publish", client = c)$action, c("publish", "publish"))
    meta_verify(env)
  })
}
