"""The edges to other systems: Twilio voice and SMS, partner record systems (FHIR R4, CSV), alarm centres.

Each adapter implements a small interface (port) defined by `dispatch`, and is wired in by the app factory.
"""
