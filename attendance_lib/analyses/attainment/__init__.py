"""KS2 and KS4 outcomes by attendance band: bands, intervals and adjusted odds ratios."""
