"""The GraphQL layer: per-request context, schema composition, extensions, shared types."""
