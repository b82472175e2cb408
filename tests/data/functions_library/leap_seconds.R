# The instants (UTC midnights) right after each leap second, from R's .leap.seconds, as
# Stata %tc milliseconds; for tests/test_functions_library_other.py.
# Run: Rscript leap_seconds.R > leap_seconds.json
ms <- (as.numeric(.leap.seconds) - as.numeric(as.POSIXct("1960-01-01", tz = "UTC"))) * 1000
cat(jsonlite::toJSON(list(after_ms = ms, dates = format(as.Date(.leap.seconds))), digits = NA, pretty = TRUE))
