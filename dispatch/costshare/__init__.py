"""The cost share of the night team: the agreement per period and the monthly statement per organisation."""
