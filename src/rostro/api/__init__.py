"""The Azure Face API contract: JSON shapes and spellings, errors, auth, limits, routes."""
