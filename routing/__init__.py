"""Pure routing: a routing problem in, a plan out (OR-Tools; greedy fallback).

No database, no web, no clock: time is an input. Imports nothing from the rest of nightcare.
See ../shared/specs/routing-problem.md.
"""
