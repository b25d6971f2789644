"""Shared pieces of the REST API: parsing, errors, roles, organization scoping, schema.

Each app's `api/` package holds its serializers and viewsets; they build on these so the
rules (tenant boundary, roles, strict input, documented errors) live in one place.
"""
