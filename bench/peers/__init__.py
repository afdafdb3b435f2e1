"""Other GraphQL servers measured against the gateway on the same data and the same rule."""
