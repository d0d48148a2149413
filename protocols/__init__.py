"""Pure triage: the shared call protocol as versioned data, the engine that walks it, and NEWS2.

No database, no web. Imports nothing from the rest of nightcare.
"""
