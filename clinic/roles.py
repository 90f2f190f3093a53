"""Staff roles. The groups, and their least permissions, are created by data
migrations (clinic 0002 for the catalogue); later apps' migrations grant their
own models' permissions to the same groups by name."""

RECEPTION_GROUP = "Reception"
PRACTITIONER_GROUP = "Practitioner"
