import { CoreSDKError } from '@coresdk/core'

/** Where the store's tables live: a schema and a prefix on every table, function and channel name. */
export interface SchemaOptions {
  /** The PostgreSQL schema (lowercase letters, digits and `_`, at most 30 characters). @default 'public' */
  schema?: string
  /** The start of every table and function name (lowercase letters, digits and `_`, at most 20). @default 'coresdk_' */
  tablePrefix?: string
}

const SCHEMA = /^[a-z_][a-z0-9_]{0,29}$/
const PREFIX = /^[a-z_][a-z0-9_]{0,19}$|^$/

function invalid(setting: string, accepts: string): CoreSDKError {
  return new CoreSDKError('invalid_config', `Invalid ${setting}: ${accepts}.`)
}

/**
 * The qualified names of one store's objects. Names are checked against a strict pattern, so they can be quoted into
 * SQL as they are; both limits keep every name, and the notification channel, under PostgreSQL's 63 bytes.
 */
export class SchemaNames {
  readonly schema: string
  readonly prefix: string

  constructor(options: SchemaOptions = {}) {
    const schema = options.schema ?? 'public'
    const prefix = options.tablePrefix ?? 'coresdk_'
    if (!SCHEMA.test(schema))
      throw invalid('schema', 'it accepts 1 to 30 lowercase letters, digits or _, not starting with a digit')
    if (!PREFIX.test(prefix))
      throw invalid(
        'tablePrefix',
        'it accepts up to 20 lowercase letters, digits or _, not starting with a digit',
      )
    this.schema = schema
    this.prefix = prefix
  }

  /** A table or function of the store, schema-qualified and quoted. */
  name(base: string): string {
    return `"${this.schema}"."${this.prefix}${base}"`
  }

  /** The unqualified name of an index (indexes live in their table's schema). */
  index(base: string): string {
    return `"${this.prefix}${base}"`
  }

  get sessions(): string {
    return this.name('sessions')
  }

  get users(): string {
    return this.name('user_revocations')
  }

  get events(): string {
    return this.name('revocation_events')
  }

  get refreshLocks(): string {
    return this.name('refresh_locks')
  }

  /** One-time keys (`claimOnce`): one row per claimed key, until its claim ends. */
  get oneTimeKeys(): string {
    return this.name('one_time_keys')
  }

  /** The audit trail (`createPostgresAuditSink`): one row per record, in chain order. */
  get audit(): string {
    return this.name('audit_log')
  }

  get migrations(): string {
    return this.name('migrations')
  }

  /** The LISTEN/NOTIFY channel revocations go out on: one per schema and prefix, every tenant. */
  get channel(): string {
    return `${this.schema}.${this.prefix}revocations`
  }

  /** A short tag of this schema and prefix, for prepared statement names and the advisory lock space. */
  get tag(): string {
    return `${this.schema}.${this.prefix}`
  }
}

/** One step of the schema: applied once, in order, recorded in the migrations table. */
export interface Migration {
  version: number
  name: string
  sql(names: SchemaNames): string
}

// NOTIFY payloads are limited to 8000 bytes; an event that does not fit (a 10 KB session id or credential key) is
// written to the events table and announced by its sequence number.
const NOTIFY_LIMIT = 7900

/**
 * The store's migrations. Never edit one that has shipped: add the next version. Every write that must be atomic is
 * one function call, so it runs as one statement (one round trip) under one transaction.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'sessions, revoke-all markers, revocation events and the write functions',
    sql: (n) => `
CREATE TABLE ${n.sessions} (
  -- SHA-256 of (tenant, id), (tenant, user) and (tenant, credential key): any string, of any length, fits an index.
  id_hash bytea PRIMARY KEY,
  user_hash bytea NOT NULL,
  -- NULL when the session holds no key: keyless, or its key has passed to a newer session.
  key_hash bytea UNIQUE,
  created_at bigint NOT NULL,
  last_seen_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  absolute_expires_at bigint NOT NULL,
  retain_until bigint NOT NULL,
  revoked_at bigint,
  -- JSON texts (JSON escapes NUL and lone surrogates, which text columns cannot hold); data is the rest of the record.
  claims text NOT NULL,
  secret_hash text NOT NULL,
  tokens text NOT NULL,
  data text NOT NULL,
  -- The session's revocation event without its time: {"kind":"session","tenantId":…,"sessionId":…,"key":…,"userId":…}.
  event text NOT NULL
);
CREATE INDEX ${n.index('sessions_user_idx')} ON ${n.sessions} (user_hash, created_at);
CREATE INDEX ${n.index('sessions_unrevoked_idx')} ON ${n.sessions} (user_hash, created_at) WHERE revoked_at IS NULL;
CREATE INDEX ${n.index('sessions_retain_idx')} ON ${n.sessions} (retain_until);

CREATE TABLE ${n.users} (
  user_hash bytea PRIMARY KEY,
  revoked_at bigint NOT NULL,
  retain_until bigint NOT NULL
);
CREATE INDEX ${n.index('user_revocations_retain_idx')} ON ${n.users} (retain_until);

CREATE TABLE ${n.events} (
  seq bigserial PRIMARY KEY,
  created_at bigint NOT NULL,
  payload text NOT NULL
);

CREATE FUNCTION ${n.name('notify')}(p_payload text, p_now bigint) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  v_seq bigint;
BEGIN
  IF octet_length(p_payload) <= ${NOTIFY_LIMIT} THEN
    PERFORM pg_notify('${n.channel}', p_payload);
  ELSE
    INSERT INTO ${n.events} (created_at, payload) VALUES (p_now, p_payload) RETURNING seq INTO v_seq;
    PERFORM pg_notify('${n.channel}', '#' || v_seq);
  END IF;
END
$fn$;

-- The event of a revoked session: its stored event with the time added. (Written by the client, as PostgreSQL's json
-- parser refuses the escaped lone surrogates JSON.stringify writes.)
CREATE FUNCTION ${n.name('session_event')}(p_event text, p_at bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
  SELECT left(p_event, -1) || ',"at":' || p_at || '}'
$fn$;

-- Returns the stored row (its id_hash is p_id_hash) followed by the sessions the cap revoked, the live row already
-- bound to the key, or no row when the user is at the cap and p_refuse is set.
CREATE FUNCTION ${n.name('create_session')}(
  p_id_hash bytea, p_user_hash bytea, p_key_hash bytea, p_lock bigint, p_lock_timeout text, p_now bigint,
  p_issued_at bigint, p_created_at bigint, p_last_seen_at bigint, p_expires_at bigint,
  p_absolute_expires_at bigint, p_retain_until bigint, p_revoked_at bigint,
  p_claims text, p_secret_hash text, p_tokens text, p_data text, p_event text,
  p_max_per_user integer, p_refuse boolean
) RETURNS SETOF ${n.sessions} LANGUAGE plpgsql AS $fn$
DECLARE
  v_row ${n.sessions}%ROWTYPE;
  v_capped ${n.sessions}%ROWTYPE;
  v_marker bigint;
  v_revoked bigint := p_revoked_at;
  v_active integer := 0;
  v_old record;
  v_tries integer := 0;
BEGIN
  -- Committed without waiting for the WAL flush, which would otherwise happen under the user's lock and make one
  -- user's creates wait for each other's flush; the client flushes (its barrier) before reporting the result.
  PERFORM set_config('synchronous_commit', 'off', true);
  PERFORM set_config('lock_timeout', p_lock_timeout, true);
  -- One user's creates and revoke-alls run one at a time, so the cutoff and the cap hold against concurrent calls.
  -- (A volatile function takes a fresh snapshot per statement: what the previous lock holder committed is seen.)
  PERFORM pg_advisory_xact_lock(p_lock);
  SELECT revoked_at INTO v_marker FROM ${n.users} WHERE user_hash = p_user_hash AND retain_until > p_now;
  IF v_revoked IS NULL AND v_marker IS NOT NULL AND v_marker >= p_issued_at THEN
    v_revoked := v_marker;
  END IF;
  LOOP
    IF p_key_hash IS NOT NULL THEN
      SELECT * INTO v_row FROM ${n.sessions} WHERE key_hash = p_key_hash FOR UPDATE;
      IF FOUND THEN
        -- A revoked record keeps its key while retained, so the same credential cannot start a fresh session.
        IF v_row.retain_until > p_now AND (v_row.revoked_at IS NOT NULL
            OR (v_row.expires_at > p_now AND v_row.absolute_expires_at > p_now)) THEN
          RETURN NEXT v_row;
          RETURN;
        END IF;
        IF v_row.retain_until <= p_now THEN
          DELETE FROM ${n.sessions} WHERE id_hash = v_row.id_hash;
        ELSE
          UPDATE ${n.sessions} SET key_hash = NULL WHERE id_hash = v_row.id_hash;
        END IF;
      END IF;
    END IF;
    IF p_max_per_user IS NOT NULL AND v_revoked IS NULL THEN
      SELECT count(*) INTO v_active FROM (
        SELECT 1 FROM ${n.sessions}
        WHERE user_hash = p_user_hash AND revoked_at IS NULL AND expires_at > p_now
          AND absolute_expires_at > p_now AND retain_until > p_now
        LIMIT p_max_per_user
      ) AS active;
      IF v_active >= p_max_per_user AND p_refuse THEN
        RETURN;
      END IF;
    END IF;
    v_row := ROW(p_id_hash, p_user_hash, p_key_hash, p_created_at, p_last_seen_at, p_expires_at,
      p_absolute_expires_at, p_retain_until, v_revoked, p_claims, p_secret_hash, p_tokens, p_data, p_event);
    IF p_retain_until <= p_now THEN
      -- Nothing to keep: answered as created, stored nowhere.
      RETURN NEXT v_row;
      RETURN;
    END IF;
    INSERT INTO ${n.sessions} VALUES (v_row.*) ON CONFLICT (key_hash) DO NOTHING;
    EXIT WHEN FOUND;
    -- Another user's create bound this key meanwhile (it holds another user's lock): look at the binding again.
    v_tries := v_tries + 1;
    IF v_tries >= 5 THEN
      RAISE EXCEPTION 'credential key binding kept changing' USING ERRCODE = '40001';
    END IF;
  END LOOP;
  RETURN NEXT v_row;
  IF v_active >= p_max_per_user AND NOT p_refuse THEN
    -- Every active session but the newest (max - 1) goes, so the bound holds even after it was lowered. Each one
    -- revoked follows the new row in the result, so the caller's own cache learns of it without waiting for the
    -- notification.
    FOR v_old IN
      SELECT id_hash FROM ${n.sessions}
      WHERE user_hash = p_user_hash AND id_hash <> p_id_hash AND revoked_at IS NULL AND expires_at > p_now
        AND absolute_expires_at > p_now AND retain_until > p_now
      ORDER BY created_at DESC, id_hash DESC
      OFFSET p_max_per_user - 1
      FOR UPDATE
    LOOP
      UPDATE ${n.sessions} SET revoked_at = p_now WHERE id_hash = v_old.id_hash RETURNING * INTO v_capped;
      PERFORM ${n.name('notify')}(${n.name('session_event')}(v_capped.event, p_now), p_now);
      RETURN NEXT v_capped;
    END LOOP;
  END IF;
END
$fn$;

-- Revokes once (the first revokedAt stays) and announces it; returns the row, or nothing when absent. It commits
-- without waiting for the WAL flush, so the notification goes out at once; the client then makes it durable with
-- its flush statement before reporting success (see the store's #query).
CREATE FUNCTION ${n.name('revoke_session')}(p_id_hash bytea, p_at bigint, p_now bigint)
RETURNS SETOF ${n.sessions} LANGUAGE plpgsql AS $fn$
DECLARE
  v_row ${n.sessions}%ROWTYPE;
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  UPDATE ${n.sessions} SET revoked_at = p_at
  WHERE id_hash = p_id_hash AND revoked_at IS NULL AND retain_until > p_now
  RETURNING * INTO v_row;
  IF FOUND THEN
    PERFORM ${n.name('notify')}(${n.name('session_event')}(v_row.event, p_at), p_now);
  ELSE
    SELECT * INTO v_row FROM ${n.sessions} WHERE id_hash = p_id_hash AND retain_until > p_now;
    IF NOT FOUND THEN
      RETURN;
    END IF;
  END IF;
  RETURN NEXT v_row;
END
$fn$;

-- Sets the user's cutoff (the later one wins, kept for the longer retention) and revokes every retained session of
-- the user, under the user's lock; returns the revoked sessions' events. Committed like revoke_session: announced at
-- once, made durable by the client's flush.
CREATE FUNCTION ${n.name('revoke_all')}(
  p_user_hash bytea, p_lock bigint, p_lock_timeout text, p_at bigint, p_now bigint, p_retain_until bigint,
  p_event text
) RETURNS TABLE (revoked text) LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  PERFORM set_config('lock_timeout', p_lock_timeout, true);
  PERFORM pg_advisory_xact_lock(p_lock);
  INSERT INTO ${n.users} AS u (user_hash, revoked_at, retain_until) VALUES (p_user_hash, p_at, p_retain_until)
  ON CONFLICT (user_hash) DO UPDATE SET
    revoked_at = CASE WHEN u.retain_until > p_now THEN GREATEST(u.revoked_at, EXCLUDED.revoked_at)
      ELSE EXCLUDED.revoked_at END,
    retain_until = GREATEST(u.retain_until, EXCLUDED.retain_until);
  PERFORM ${n.name('notify')}(p_event, p_now);
  RETURN QUERY
    UPDATE ${n.sessions} SET revoked_at = p_at
    WHERE user_hash = p_user_hash AND revoked_at IS NULL AND retain_until > p_now
    RETURNING event;
END
$fn$;
`,
  },
  {
    version: 2,
    name: 'refresh locks with fencing tokens',
    sql: (n) => `
-- One row per session ever refresh-locked, deleted with its session: the last fence handed out, the greatest fence
-- whose patch was written, and when the lease ends (ms).
CREATE TABLE ${n.refreshLocks} (
  id_hash bytea PRIMARY KEY REFERENCES ${n.sessions} (id_hash) ON DELETE CASCADE,
  fence bigint NOT NULL,
  written bigint NOT NULL,
  locked_until bigint NOT NULL
);

-- Takes the session's lock when no lease runs (the fence goes up by one), and answers the session as stored with
-- the fence, null while another lease runs; no row when the session is absent. Concurrent calls queue on the lock
-- row and see the winner's lease.
CREATE FUNCTION ${n.name('acquire_refresh')}(p_id_hash bytea, p_ttl bigint, p_now bigint)
RETURNS TABLE (refresh_fence bigint, session ${n.sessions}) LANGUAGE plpgsql AS $fn$
DECLARE
  v_fence bigint;
BEGIN
  PERFORM 1 FROM ${n.sessions} WHERE id_hash = p_id_hash AND retain_until > p_now;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  INSERT INTO ${n.refreshLocks} AS l (id_hash, fence, written, locked_until)
  VALUES (p_id_hash, 1, 0, p_now + p_ttl)
  ON CONFLICT (id_hash) DO UPDATE SET fence = l.fence + 1, locked_until = EXCLUDED.locked_until
  WHERE l.locked_until <= p_now
  RETURNING l.fence INTO v_fence;
  RETURN QUERY SELECT v_fence, s FROM ${n.sessions} s WHERE s.id_hash = p_id_hash;
END
$fn$;

-- Ends a refresh holding p_fence: with p_patch, writes the patch (as the update statement does) unless a greater
-- fence wrote first, then releases the lock when p_fence still holds it. Answers whether it wrote, with the session
-- as stored; no row when the session is absent.
CREATE FUNCTION ${n.name('release_refresh')}(
  p_id_hash bytea, p_fence bigint, p_now bigint, p_patch boolean, p_last_seen_at bigint, p_expires_at bigint,
  p_retain_until bigint, p_claims text, p_secret_hash text, p_tokens text
) RETURNS TABLE (refresh_written boolean, session ${n.sessions}) LANGUAGE plpgsql AS $fn$
DECLARE
  v_lock ${n.refreshLocks}%ROWTYPE;
  v_locked boolean;
  v_written boolean := false;
BEGIN
  SELECT * INTO v_lock FROM ${n.refreshLocks} WHERE id_hash = p_id_hash FOR UPDATE;
  v_locked := FOUND;
  IF v_locked AND p_patch AND p_fence > v_lock.written AND p_fence <= v_lock.fence THEN
    UPDATE ${n.sessions} SET last_seen_at = COALESCE(p_last_seen_at, last_seen_at),
      expires_at = CASE WHEN p_expires_at IS NOT NULL AND (revoked_at IS NOT NULL
        OR LEAST(expires_at, absolute_expires_at, retain_until) > p_now) THEN p_expires_at ELSE expires_at END,
      retain_until = COALESCE(p_retain_until, retain_until), claims = COALESCE(p_claims, claims),
      secret_hash = COALESCE(p_secret_hash, secret_hash), tokens = COALESCE(p_tokens, tokens)
    WHERE id_hash = p_id_hash AND retain_until > p_now;
    IF FOUND THEN
      UPDATE ${n.refreshLocks} SET written = p_fence WHERE id_hash = p_id_hash;
      v_written := true;
    END IF;
  END IF;
  IF v_locked AND v_lock.fence = p_fence THEN
    UPDATE ${n.refreshLocks} SET locked_until = 0 WHERE id_hash = p_id_hash;
  END IF;
  RETURN QUERY SELECT v_written, s FROM ${n.sessions} s WHERE s.id_hash = p_id_hash AND s.retain_until > p_now;
END
$fn$;
`,
  },
  {
    version: 3,
    name: 'revoke every session of a user but one',
    sql: (n) => `
-- Revokes every unrevoked, unexpired session of the user but p_keep_hash, under the user's lock (so no concurrent
-- create slips between), each announced like revoke_session; sets no cutoff. Returns the revoked sessions' events.
CREATE FUNCTION ${n.name('revoke_others')}(
  p_user_hash bytea, p_keep_hash bytea, p_lock bigint, p_lock_timeout text, p_at bigint, p_now bigint
) RETURNS TABLE (revoked text) LANGUAGE plpgsql AS $fn$
DECLARE
  v_event text;
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  PERFORM set_config('lock_timeout', p_lock_timeout, true);
  PERFORM pg_advisory_xact_lock(p_lock);
  FOR v_event IN
    UPDATE ${n.sessions} SET revoked_at = p_at
    WHERE user_hash = p_user_hash AND id_hash <> p_keep_hash AND revoked_at IS NULL
      AND LEAST(expires_at, absolute_expires_at, retain_until) > p_now
    RETURNING event
  LOOP
    PERFORM ${n.name('notify')}(${n.name('session_event')}(v_event, p_at), p_now);
    revoked := v_event;
    RETURN NEXT;
  END LOOP;
END
$fn$;
`,
  },
  {
    version: 4,
    name: 'the audit trail',
    sql: (n) => `
-- One row per audit record: its position in the chain, its hash (the next record's prev) and its canonical JSON line
-- (JSON escapes NUL and lone surrogates, which text cannot hold). The primary key lets one appender win a seq.
CREATE TABLE ${n.audit} (
  seq bigint PRIMARY KEY,
  hash text NOT NULL,
  record text NOT NULL
);
`,
  },
  {
    version: 5,
    name: 'one-time keys',
    sql: (n) => `
-- One row per claimed one-time key (claimOnce: a logout token's jti), keyed by the hash of (tenant, key), until its
-- claim ends (ms). A claim inserts the row, or takes over one whose claim has ended; the sweep deletes ended ones.
CREATE TABLE ${n.oneTimeKeys} (
  key_hash bytea PRIMARY KEY,
  expires_at bigint NOT NULL
);
CREATE INDEX ${n.index('one_time_keys_expiry')} ON ${n.oneTimeKeys} (expires_at);
`,
  },
]

/** The newest schema version this code needs. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version
