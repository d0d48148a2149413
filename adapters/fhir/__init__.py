"""Partner record systems over HL7 FHIR R4 (fhir.resources' R4B models, httpx): `FhirRecordSource` implements
dispatch.ports.RecordSource; `demo_server` serves fictitious record systems for the demo region and the tests."""
