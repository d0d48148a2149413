"""The regional coordinator's figures (the /insight/ page): response times per urgency, calls per outcome, per
organisation and per hour of the night, the night team's utilisation."""
