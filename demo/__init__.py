"""`make demo`: a local world that shows the whole product without a cloud account."""
