# The child of test-interrupt.R: stores a large frame again and again into
# one partition until a store is interrupted (SIGINT, as Ctrl-C sends).
# Each outcome is one line of the log: "stored", "r" (R's own interrupt,
# between two stores) or "ours <published> <expected>" when a store
# answered batchmeta_interrupted, with the partition's publishes then and
# the number of stores that had returned.
library(batchmeta)
options(batchmeta.quiet = TRUE)
args <- commandArgs(TRUE)
dir <- args[1]; ns <- args[2]; log <- args[3]; n <- as.integer(args[4])
client <- connect(dir, default = FALSE)
day <- list(date = as.Date("2016-10-31"))
big <- data.frame(i = seq_len(n), d = seq_len(n) / 3, s = sprintf("row%08d", seq_len(n)))
published <- function() sum(history(ns, "big", day, client = client)$action == "publish")
done <- published()
repeat {
  out <- tryCatch({
    store_dataframe(big, ns, "big", partitions = day, client = client)
    done <- done + 1L
    "stored"
  }, batchmeta_interrupted = function(e) "ours", interrupt = function(e) "r")
  if (out == "r") done <- published()
  if (out == "ours") out <- sprintf("ours %d %d", published(), done)
  cat(out, "\n", sep = "", file = log, append = TRUE)
  if (startsWith(out, "ours")) break
}
