* Step 5: maximum likelihood versus restricted maximum likelihood.
* REML accounts for the fixed effects estimated from the data, so its variance
* components are less biased downwards; ML is needed to compare fixed parts by lrtest.
use hsb, clear

mixed mathach ses sector || id:, reml
estimates store reml_full
mixed mathach ses sector || id:, mle
estimates store ml_full
mixed mathach ses || id:, mle
estimates store ml_reduced

* Comparing fixed parts: a likelihood-ratio test of ML fits ...
lrtest ml_full ml_reduced

* ... but never of an ML fit against a REML fit: lrtest refuses (capture keeps the
* do-file going and leaves the return code in _rc).
capture lrtest reml_full ml_reduced
display "lrtest of a REML fit against an ML fit: return code " _rc

* The two methods side by side.
estimates stats reml_full ml_full
