* Step 3: level-2 predictors and a cross-level interaction.
* sector (1 = Catholic) and meanses describe schools; ses describes students.
use hsb, clear

* Level-2 predictors shift the school intercepts.
mixed mathach ses sector meanses || id:
estimates store level2

* The cross-level interaction c.ses#c.sector lets the ses slope differ between
* Catholic and public schools (the slope is "explained" by a school characteristic).
mixed mathach c.ses##c.sector meanses || id:
estimates store crosslevel

* Is the interaction needed?  Wald test and likelihood-ratio test (both ML fits).
test c.ses#c.sector
lrtest crosslevel level2
