"""Pure numerics for linear mixed models: no printing, no session. Usable as a library."""
