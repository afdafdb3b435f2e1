"""GraphiQL served by the gateway itself: the page at ``GET /graphql`` (for a browser) and
its files under ``/graphiql/assets/``, so it works on a network without internet.

``vendor/`` holds GraphiQL's, React's and the explorer plugin's official builds from npm,
pinned, with their SRI hashes in ``vendor/manifest.json`` (``scripts/update-graphiql-assets``
writes both); ``static/`` holds the gateway's own sign-in bar around GraphiQL.
"""
