"""Access control (MISSION A1-A11): profiles' permissions and field rules, the reporting
hierarchy, per-record access and sharing, enforced as SQL predicates. See docs/access.md."""
