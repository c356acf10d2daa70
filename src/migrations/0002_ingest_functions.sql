-- The ingest path's three hot statements as PL/pgSQL functions. PL/pgSQL prepares the statements of
-- a function once per connection, so a batch no longer pays for parsing and planning them (measured:
-- 1-2 ms of planning per batch for the identity lookup alone). The repos that call them are the only
-- callers: people/repo.ts (tandem_identity_lookup, tandem_identity_write), events/repo.ts
-- (tandem_append_events).

CREATE FUNCTION tandem_identity_lookup(p_ws text, p_kinds text[], p_values text[], p_emails text[],
  p_skinds text[], p_svalues text[])
RETURNS TABLE (src text, kind text, value text, person_id uuid, external_id text, identified boolean)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
  -- LATERAL ... LIMIT 1 cannot be flattened into a hash join: one primary-key probe per identifier,
  -- however many identifiers the workspace has and however stale its statistics are.
  RETURN QUERY
  WITH hits AS (
    SELECT 'id'::text AS src, i.kind, i.value, i.person_id, 0::bigint AS ord
    FROM unnest(p_kinds, p_values) AS p(kind, value)
    CROSS JOIN LATERAL (SELECT pi.kind, pi.value, pi.person_id FROM person_identifiers pi
      WHERE pi.workspace_id = p_ws AND pi.kind = p.kind AND pi.value = p.value LIMIT 1) i
    UNION ALL
    SELECT 'email', 'email', lower(e.email), e.id,
      row_number() OVER (PARTITION BY lower(e.email) ORDER BY e.created_at, e.id)
    FROM people e WHERE e.workspace_id = p_ws AND lower(e.email) = ANY(p_emails)
    UNION ALL
    SELECT 'sup', s.kind, s.value, NULL::uuid, 0
    FROM unnest(p_skinds, p_svalues) AS p(kind, value)
    CROSS JOIN LATERAL (SELECT ps.kind, ps.value FROM person_suppressions ps
      WHERE ps.workspace_id = p_ws AND ps.kind = p.kind AND ps.value = p.value LIMIT 1) s
    -- Most workspaces have no suppressions: one probe then spares one per identifier.
    WHERE EXISTS (SELECT 1 FROM person_suppressions WHERE workspace_id = p_ws)
  )
  -- A person with a user id always has an external id and is identified, so only anonymous and
  -- email hits need their person's flags: the probe is skipped for user hits (most of a batch).
  SELECT h.src, h.kind::text, h.value::text, h.person_id,
    CASE WHEN h.src = 'id' AND h.kind = 'user' THEN h.value::text ELSE pe.external_id::text END,
    CASE WHEN h.src = 'id' AND h.kind = 'user' THEN true ELSE pe.identified END
  FROM hits h LEFT JOIN LATERAL (SELECT x.external_id, x.identified FROM people x
    WHERE NOT (h.src = 'id' AND h.kind = 'user') AND x.workspace_id = p_ws AND x.id = h.person_id LIMIT 1) pe ON true
  WHERE h.src <> 'email' OR h.ord = 1;
END $$;

-- New people (with their first attributes), attribute patches of existing people, and new
-- identifiers; answers the identifiers this call claimed (the others were claimed first elsewhere).
CREATE FUNCTION tandem_identity_write(p_ws text, p_people jsonb, p_patches jsonb, p_patch_ids uuid[],
  p_identifiers jsonb, p_at timestamptz)
RETURNS TABLE (kind text, value text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  IF jsonb_array_length(p_people) > 0 THEN
    INSERT INTO people (workspace_id, id, external_id, email, phone, identified, attributes, timezone, locale, created_at, updated_at)
    SELECT p_ws, p.id, p.external_id, p.email, p.phone, p.identified, coalesce(p.attributes, '{}'), p.timezone, p.locale, p.at, p.at
    FROM jsonb_to_recordset(p_people) AS p(id uuid, external_id text, email text, phone text, identified boolean,
      attributes jsonb, timezone text, locale text, at timestamptz)
    ORDER BY p.id;
  END IF;
  IF jsonb_array_length(p_patches) > 0 THEN
    UPDATE people p SET
      attributes = (p.attributes || v.set) - v.unset,
      external_id = coalesce(p.external_id, v.external_id),
      email = CASE WHEN v.has_email THEN v.email ELSE p.email END,
      phone = CASE WHEN v.has_phone THEN v.phone ELSE p.phone END,
      timezone = coalesce(v.timezone, p.timezone),
      locale = coalesce(v.locale, p.locale),
      identified = p.identified OR v.identified,
      updated_at = p_at
    FROM jsonb_to_recordset(p_patches) AS v(id uuid, set jsonb, unset text[], external_id text, email text,
      has_email boolean, phone text, has_phone boolean, timezone text, locale text, identified boolean)
    WHERE p.workspace_id = p_ws AND p.id = v.id AND p.id = ANY(p_patch_ids);
  END IF;
  RETURN QUERY
  INSERT INTO person_identifiers (workspace_id, kind, value, person_id)
  SELECT p_ws, r.kind, r.value, r.person_id
  FROM jsonb_to_recordset(p_identifiers) AS r(kind text, value text, person_id uuid)
  ON CONFLICT (workspace_id, kind, value) DO NOTHING
  RETURNING person_identifiers.kind::text, person_identifiers.value::text;
END $$;

-- Appends events in the given order and notifies live listeners (delivered at commit); answers the ids.
CREATE FUNCTION tandem_append_events(p_ws text, p_events jsonb, p_received timestamptz)
RETURNS TABLE (id bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  PERFORM pg_notify('tandem_events', p_ws);
  RETURN QUERY
  INSERT INTO events (workspace_id, person_id, message_id, type, name, properties, context, user_id, anonymous_id,
    source, timestamp, received_at)
  SELECT p_ws, e.person_id, e.message_id, e.type, e.name, coalesce(e.properties, '{}'), coalesce(e.context, '{}'),
    e.user_id, e.anonymous_id, e.source, e.ts, p_received
  FROM jsonb_to_recordset(p_events) AS e(person_id uuid, message_id text, type text, name text, properties jsonb,
    context jsonb, user_id text, anonymous_id text, source text, ts timestamptz, ord int)
  ORDER BY e.ord
  RETURNING events.id;
END $$;
