# Writes the public panels the xtgee tests use (run once; the CSVs are committed):
# geepack's ohio (wheeze at ages 7-10 and maternal smoking, 537 children x 4) and seizure
# (epileptic seizure counts, 59 patients x 4 periods, long form).
library(geepack)
data(ohio); ohio$t <- ohio$age + 3
write.csv(ohio[, c("id", "t", "age", "smoke", "resp")], "ohio.csv", row.names = FALSE)
data(seizure)
long <- reshape(seizure, direction = "long", varying = c("y1", "y2", "y3", "y4"), v.names = "y",
                timevar = "t", idvar = "id", ids = seq_len(nrow(seizure)))
long <- long[order(long$id, long$t), ]
long$lbase <- log(long$base / 4); long$lage <- log(long$age)
write.csv(long[, c("id", "t", "y", "trt", "lbase", "lage")], "seizure.csv", row.names = FALSE)
