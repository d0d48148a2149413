"""The morning handover: each organisation's night of its clients, as JSON, printable HTML and a FHIR document."""
