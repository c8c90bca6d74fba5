# R CMD check runs this; scripts/r-test runs testthat::test_dir() directly.
library(testthat)
library(batchmeta)
test_check("batchmeta")
