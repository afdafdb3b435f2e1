-- PostGraphile peer: the gateway's read rule for contacts as PostgreSQL row-level security.
--
-- Applied to the BENCHMARK database only (bench.generate's), by
-- `python -m bench.peers.postgraphile policies`; idempotent. The gateway is not affected:
-- it connects as the tables' owner (a superuser in the benchmark), which RLS never applies
-- to. PostGraphile runs every request as the role crm_peer_reader, with the caller in
-- `jwt.claims.user_id` / `jwt.claims.tenant_id` (a signed JWT, see server.mjs).
--
-- Mirrors gateway/access/predicates.py (`predicate`, READ mode) and scope.py (the facts):
--   tenant AND module on AND read permission AND (
--     structural or administrator profile           PROFILE_KIND
--     OR owner = caller                              OWNERSHIP
--     OR owner below the caller (closure, depth > 0) HIERARCHY
--     OR owner served by the caller (assistants)     ASSISTANT
--     OR assigned to the caller, someone below them or someone they serve   ASSIGNMENT
--     OR shared with the caller (record_shares)      SHARE
--     OR owner opened by a sharing rule              SHARING_RULE
--     OR access PUBLIC_READ / PUBLIC_WRITE           PUBLIC_LEVEL )
-- Contacts are not `unowned_visible`, so there is no UNOWNED clause. Each fact is computed
-- once per statement: the helpers are wrapped in `(SELECT …)`, which PostgreSQL plans as an
-- InitPlan, so the per-row test is `owner_id = ANY($array)` like the gateway's bound arrays.

BEGIN;

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'crm_peer_reader') THEN
    CREATE ROLE crm_peer_reader NOLOGIN;
  END IF;
END
$$;

DROP SCHEMA IF EXISTS crm_peer CASCADE;
DROP SCHEMA IF EXISTS crm_peer_private CASCADE;
CREATE SCHEMA crm_peer_private;
CREATE SCHEMA crm_peer;
GRANT USAGE ON SCHEMA crm_peer, crm_peer_private TO crm_peer_reader;

-- -- the caller ---------------------------------------------------------------------------

CREATE FUNCTION crm_peer_private.user_id() RETURNS integer
  LANGUAGE sql STABLE AS
$$ SELECT nullif(current_setting('jwt.claims.user_id', true), '')::integer $$;

CREATE FUNCTION crm_peer_private.tenant_id() RETURNS integer
  LANGUAGE sql STABLE AS
$$ SELECT nullif(current_setting('jwt.claims.tenant_id', true), '')::integer $$;

-- The caller's profile kind, if the caller is an active user of the claimed tenant
-- (sign-in refuses anyone else); NULL otherwise, which grants nothing.
CREATE FUNCTION crm_peer_private.kind() RETURNS text
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS
$$
  SELECT p.kind::text
  FROM users u JOIN profiles p ON p.id = u.profile_id
  WHERE u.id = crm_peer_private.user_id()
    AND u.tenant_id = crm_peer_private.tenant_id()
    AND u.is_active
$$;

-- Module switched on (optional, on by default: tenancy.effective_modules) AND the read
-- permission (administrators hold every permission).
CREATE FUNCTION crm_peer_private.can_read(module text, code text) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS
$$
  SELECT coalesce(
           (SELECT m.enabled FROM tenant_modules m
             WHERE m.tenant_id = crm_peer_private.tenant_id() AND m.module = $1),
           true)
     AND (crm_peer_private.kind() = 'administrator'
          OR EXISTS (SELECT FROM users u JOIN profile_permissions pp ON pp.profile_id = u.profile_id
                      WHERE u.id = crm_peer_private.user_id()
                        AND u.tenant_id = crm_peer_private.tenant_id()
                        AND u.is_active
                        AND pp.code = $2))
$$;

CREATE FUNCTION crm_peer_private.sees_everything() RETURNS boolean
  LANGUAGE sql STABLE AS
$$ SELECT coalesce(crm_peer_private.kind() IN ('administrator', 'structural'), false) $$;

-- Everyone below the caller in the reporting hierarchy (not the caller).
CREATE FUNCTION crm_peer_private.subordinates() RETURNS integer[]
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS
$$
  SELECT coalesce(array_agg(h.descendant_id), '{}')
  FROM user_hierarchy h
  WHERE h.ancestor_id = crm_peer_private.user_id() AND h.depth > 0
$$;

-- The users an assistant serves (none for other kinds: links may outlive the profile).
CREATE FUNCTION crm_peer_private.served() RETURNS integer[]
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS
$$
  SELECT coalesce(array_agg(a.served_user_id), '{}')
  FROM assistant_links a
  WHERE a.assistant_id = crm_peer_private.user_id()
    AND crm_peer_private.kind() = 'assistant'
$$;

-- Whose assignments count as the caller's: their own, their subordinates', their served.
CREATE FUNCTION crm_peer_private.assignees() RETURNS integer[]
  LANGUAGE sql STABLE AS
$$
  SELECT ARRAY[crm_peer_private.user_id()]
         || crm_peer_private.subordinates() || crm_peer_private.served()
$$;

-- Records of `entity` shared with the caller (for reading, any share counts).
CREATE FUNCTION crm_peer_private.shared(entity text) RETURNS integer[]
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS
$$
  SELECT coalesce(array_agg(s.record_id), '{}')
  FROM record_shares s
  WHERE s.user_id = crm_peer_private.user_id() AND s.entity = $1
$$;

-- Owners whose records a sharing rule opens to the caller: rules of the tenant for this
-- entity (or all), granted to the caller's profile or to a subtree the caller is in; the
-- owners are the rule's owner root and everyone below it.
CREATE FUNCTION crm_peer_private.rule_owners(entity text) RETURNS integer[]
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS
$$
  SELECT coalesce(array_agg(DISTINCT opened.descendant_id), '{}')
  FROM sharing_rules r
  JOIN user_hierarchy opened ON opened.ancestor_id = r.owner_root_id
  WHERE r.tenant_id = crm_peer_private.tenant_id()
    AND (r.entity IS NULL OR r.entity = $1)
    AND (r.grantee_profile_id = (SELECT u.profile_id FROM users u
                                  WHERE u.id = crm_peer_private.user_id())
         OR r.grantee_root_id IN (SELECT h.ancestor_id FROM user_hierarchy h
                                   WHERE h.descendant_id = crm_peer_private.user_id()))
$$;

GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA crm_peer_private TO crm_peer_reader;

-- -- policies ---------------------------------------------------------------------------

GRANT SELECT ON public.contacts, public.contact_emails, public.contact_tag_links,
  public.contact_tags, public.contact_assignments, public.users TO crm_peer_reader;

ALTER TABLE public.contacts ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS crm_peer_read ON public.contacts;
CREATE POLICY crm_peer_read ON public.contacts FOR SELECT TO crm_peer_reader USING (
  tenant_id = (SELECT crm_peer_private.tenant_id())
  AND (SELECT crm_peer_private.can_read('contacts', 'contacts.contact.read'))
  AND (
    (SELECT crm_peer_private.sees_everything())
    OR owner_id = (SELECT crm_peer_private.user_id())
    OR owner_id = ANY ((SELECT crm_peer_private.subordinates())::integer[])
    OR owner_id = ANY ((SELECT crm_peer_private.served())::integer[])
    OR EXISTS (
      SELECT FROM public.contact_assignments a
      WHERE a.contact_id = contacts.id
        AND a.tenant_id = (SELECT crm_peer_private.tenant_id())
        AND a.user_id = ANY ((SELECT crm_peer_private.assignees())::integer[]))
    OR id = ANY ((SELECT crm_peer_private.shared('contact'))::integer[])
    OR owner_id = ANY ((SELECT crm_peer_private.rule_owners('contact'))::integer[])
    OR access IN ('PUBLIC_READ', 'PUBLIC_WRITE')
  )
);

-- What hangs off a visible contact (its emails, tags, owner) is shown within the tenant,
-- as the gateway's joins do (`tenant_id = :tenant` in each join condition).
ALTER TABLE public.contact_emails ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS crm_peer_read ON public.contact_emails;
CREATE POLICY crm_peer_read ON public.contact_emails FOR SELECT TO crm_peer_reader
  USING (tenant_id = (SELECT crm_peer_private.tenant_id()));

ALTER TABLE public.contact_tag_links ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS crm_peer_read ON public.contact_tag_links;
CREATE POLICY crm_peer_read ON public.contact_tag_links FOR SELECT TO crm_peer_reader
  USING (tenant_id = (SELECT crm_peer_private.tenant_id()));

ALTER TABLE public.contact_tags ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS crm_peer_read ON public.contact_tags;
CREATE POLICY crm_peer_read ON public.contact_tags FOR SELECT TO crm_peer_reader
  USING (tenant_id = (SELECT crm_peer_private.tenant_id()));

ALTER TABLE public.contact_assignments ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS crm_peer_read ON public.contact_assignments;
CREATE POLICY crm_peer_read ON public.contact_assignments FOR SELECT TO crm_peer_reader
  USING (tenant_id = (SELECT crm_peer_private.tenant_id()));

ALTER TABLE public.users ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS crm_peer_read ON public.users;
CREATE POLICY crm_peer_read ON public.users FOR SELECT TO crm_peer_reader
  USING (tenant_id = (SELECT crm_peer_private.tenant_id()));

-- -- what PostGraphile exposes: the list's shape, as security-invoker views -------------
-- (the base tables' policies apply to the caller through them). Smart tags give the views
-- keys and relations: `contacts.owner` (to-one) and `contacts.tags` (to-many, a plain list).

CREATE VIEW crm_peer.users WITH (security_invoker = true) AS
  SELECT u.id, u.email, u.display_name FROM public.users u;
COMMENT ON VIEW crm_peer.users IS E'@primaryKey id\n@behavior -connection -list';

CREATE VIEW crm_peer.contacts WITH (security_invoker = true) AS
  SELECT
    c.id,
    CASE WHEN c.kind = 'COMPANY' THEN c.company_name
         ELSE concat_ws(' ', nullif(c.first_name, ''), nullif(c.last_name, '')) END
      AS display_name,
    (SELECT e.address FROM public.contact_emails e
      WHERE e.contact_id = c.id AND e.tenant_id = c.tenant_id
      ORDER BY e.position LIMIT 1) AS email,
    c.access,
    c.owner_id,
    c.sort_name
  FROM public.contacts c;
COMMENT ON VIEW crm_peer.contacts IS
  E'@primaryKey id\n@foreignKey (owner_id) references crm_peer.users (id)|@fieldName owner|@behavior -manyRelation';

CREATE VIEW crm_peer.contact_tags WITH (security_invoker = true) AS
  SELECT l.contact_id, t.id AS tag_id, t.name
  FROM public.contact_tag_links l
  JOIN public.contact_tags t ON t.id = l.tag_id AND t.tenant_id = l.tenant_id;
COMMENT ON VIEW crm_peer.contact_tags IS
  E'@primaryKey contact_id,tag_id\n@behavior -connection -list -single\n@foreignKey (contact_id) references crm_peer.contacts (id)|@foreignFieldName tags|@behavior -connection +list';

GRANT SELECT ON ALL TABLES IN SCHEMA crm_peer TO crm_peer_reader;

COMMIT;
