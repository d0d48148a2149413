"""Summaries of a client's own record (her organisation's record system, through the RecordSource port), for the
night: fetched on a call or job, audited, kept encrypted until the morning, then purged."""
