* Step 2: centering a level-1 predictor on its group mean.
* Student SES has a within-school and a between-school part; group-mean centering
* separates them.
use hsb, clear

* The school mean of ses, repeated on each student's row, and the deviation from it.
egen meanses_g = mean(ses), by(id)
generate ses_c = ses - meanses_g
label variable ses_c "ses, centered on the school mean"
summarize ses meanses_g ses_c

* The within-school slope (ses_c) and the between-school slope (meanses_g) differ:
* richer schools do better than their students' own SES predicts (a context effect).
mixed mathach ses_c meanses_g || id:, reml

* With the raw ses, the single slope mixes the two.
mixed mathach ses || id:, reml
