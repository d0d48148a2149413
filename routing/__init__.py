"""Pure routing: a routing problem in, a plan out (OR-Tools; greedy fallback).

No database, no web, no clock: time is an input. Imports nothing from the rest of nightcare.
The problem and plan, as JSON: docs/routing-problem.md.
"""
