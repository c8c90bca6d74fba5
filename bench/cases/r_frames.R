# The R half of case r_frames (bench/cases/r_frames.py): loads the case's
# frame from the catalog Python filled, then times, in interleaved rounds
# after one warm-up, batchmeta's store_dataframe / load_dataframe against
# the baselines R has without arrow: saveRDS / readRDS (gzip, R's default,
# and uncompressed) and data.table's fwrite / fread (CSV, every core).
# Prints one line per sample, "sample<TAB>label<TAB>seconds", and one per
# output, "bytes<TAB>label<TAB>bytes".
#
#   Rscript r_frames.R CATALOG_DIR SCRATCH_DIR ROUNDS

args <- commandArgs(TRUE)
catalog <- args[[1]]
scratch <- args[[2]]
rounds <- as.integer(args[[3]])
options(batchmeta.quiet = TRUE)
suppressPackageStartupMessages({
  library(batchmeta)
  library(data.table)
})

client <- connect(catalog, default = FALSE)
frame <- load_dataframe("bench", "r_source", client = client)
frame$part <- NULL
rows <- nrow(frame)
rds_gzip <- file.path(scratch, "frame.rds")
rds_plain <- file.path(scratch, "frame-uncompressed.rds")
csv <- file.path(scratch, "frame.csv")
check <- function(df) if (nrow(df) != rows) stop("read back ", nrow(df), " rows, not ", rows)

operations <- list(
  "batchmeta store" = function() store_dataframe(frame, "bench", "r_measured", partitions = list(part = 7L),
                                                 client = client),
  "batchmeta load" = function() check(load_dataframe("bench", "r_measured", partitions = 7L, client = client)),
  "saveRDS (gzip)" = function() saveRDS(frame, rds_gzip),
  "readRDS (gzip)" = function() check(readRDS(rds_gzip)),
  "saveRDS (uncompressed)" = function() saveRDS(frame, rds_plain, compress = FALSE),
  "readRDS (uncompressed)" = function() check(readRDS(rds_plain)),
  "data.table fwrite" = function() fwrite(frame, csv),
  "data.table fread" = function() check(fread(csv))
)
for (round in 0:rounds) {
  for (label in names(operations)) {
    invisible(gc())
    seconds <- system.time(operations[[label]](), gcFirst = FALSE)[["elapsed"]]
    if (round > 0) cat(sprintf("sample\t%s\t%.6f\n", label, seconds))
  }
}
stored <- batches("bench", "r_measured", partition = 7L, client = client)
cat(sprintf("bytes\tbatchmeta (Parquet, one batch)\t%.0f\n", stored$bytes[1]))
cat(sprintf("bytes\tRDS (gzip)\t%.0f\n", file.size(rds_gzip)))
cat(sprintf("bytes\tRDS (uncompressed)\t%.0f\n", file.size(rds_plain)))
cat(sprintf("bytes\tCSV (fwrite)\t%.0f\n", file.size(csv)))
cat(sprintf("rows\t%d\n", rows))
cat(sprintf("threads\tdata.table\t%d\n", getDTthreads()))
