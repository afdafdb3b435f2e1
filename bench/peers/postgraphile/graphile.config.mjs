// PostGraphile 5 preset of the benchmark peer (see README.md): the crm_peer schema that
// rls.sql creates (security-invoker views over the contacts tables, whose row-level
// security policies mirror the gateway's read rule), read-only, callers signed in by JWT.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { PgLazyJWTPreset } from "postgraphile/presets/lazy-jwt";
import { PgSimplifyInflectionPreset } from "@graphile/simplify-inflection";
import { makePgService } from "postgraphile/adaptors/pg";

const databaseUrl = process.env.PEER_DATABASE_URL;
const jwtSecret = process.env.PEER_JWT_SECRET;
if (!databaseUrl || !jwtSecret) {
  throw new Error("PEER_DATABASE_URL and PEER_JWT_SECRET must be set");
}

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset, PgSimplifyInflectionPreset, PgLazyJWTPreset],
  // Integer `id`s (no global object ids) and no mutations: the peer only answers the list.
  disablePlugins: ["NodePlugin"],
  schema: { defaultBehavior: "-insert -update -delete" },
  pgServices: [
    makePgService({
      connectionString: databaseUrl,
      schemas: ["crm_peer"],
      poolConfig: { max: Number(process.env.PEER_POOL_SIZE ?? 10) },
    }),
  ],
  grafserv: {
    pgJwtSecret: jwtSecret,
    graphiql: false,
    watch: false,
  },
  grafast: {
    explain: false,
  },
};

export default preset;
