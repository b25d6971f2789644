"""Demo data: Northwind Mutual, an insurer with three customer programs, and benchmark-size data.

`story.build_demo(today=...)` writes the story told in docs/demo-data.md: on `today`, the
governance scan raises every flag kind on the two troubled programs while "Claims
Without Friction" raises none and scores low risk. `build_scale(scale=N)` adds about
N×20 programs across a few organizations, written in bulk, for the benchmarks.

This package's root holds only names (Django imports it while loading apps, before
models exist); `demo.story.build_demo` and `demo.scale.build_scale` write the data.
"""

DEMO_ORG_NAME = "Northwind Mutual"
DEMO_ORG_SLUG = "northwind-mutual"
# A known password for the two local demo logins. seed_demo refuses to create it unless
# DEBUG is on (or the operator insists with --allow-production).
DEMO_PASSWORD = "northwind-demo"
DEMO_OFFICE_USER = "office@demo"
DEMO_CEO_USER = "ceo@demo"

HEALTHY_PROGRAM = "Claims Without Friction"
STRUGGLING_PROGRAM = "Service Everywhere"
PAUSED_PROGRAM = "Digital First Onboarding"
