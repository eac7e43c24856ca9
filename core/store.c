#include "store.h"

#include <uv.h>

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

enum stmt_id {
	ST_PUT_REG = 0,
	ST_DEL_REG,
	ST_LOAD_REGS,
	ST_SET_META,
	ST_GET_META,
	ST_PUT_REQ,
	ST_DEL_REQ,
	ST_LOAD_REQS,
	ST_PUT_SEND,
	ST_LIST_SENDS,
	ST_LIST_SENDS_EP,
	ST_PRUNE_SENDS,
	ST_BEGIN,
	ST_COMMIT,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_PUT_REG] = ("INSERT OR REPLACE INTO registrations (key, prefix, endpoint, client_id, transport,"
		" version, binding, sms, links, lifetime, registered_ms, updated_ms, expires_ms, reg_id)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"),
	[ST_DEL_REG] = "DELETE FROM registrations WHERE key = ?1",
	[ST_LOAD_REGS] = ("SELECT prefix, endpoint, client_id, transport, version, binding, sms, links,"
		" lifetime, registered_ms, updated_ms, expires_ms, reg_id FROM registrations"),
	[ST_SET_META] = "INSERT OR REPLACE INTO meta (name, value) VALUES (?1, ?2)",
	[ST_GET_META] = "SELECT value FROM meta WHERE name = ?1",
	[ST_PUT_REQ] = ("INSERT OR REPLACE INTO requests (id, key, endpoint, prefix, kind, message, state,"
		" created_ms, updated_ms, result, content_format, payload, detail)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"),
	[ST_DEL_REQ] = "DELETE FROM requests WHERE id = ?1",
	[ST_LOAD_REQS] = ("SELECT id, key, endpoint, prefix, kind, message, state, created_ms, updated_ms,"
		" result, content_format, payload, detail FROM requests ORDER BY id"),
	[ST_PUT_SEND] = ("INSERT INTO sends (endpoint, prefix, received_ms, content_format, payload)"
		" VALUES (?1, ?2, ?3, ?4, ?5)"),
	[ST_LIST_SENDS] = ("SELECT id, endpoint, prefix, received_ms, content_format, payload FROM sends"
		" WHERE id > ?1 ORDER BY id LIMIT ?2"),
	[ST_LIST_SENDS_EP] = ("SELECT id, endpoint, prefix, received_ms, content_format, payload FROM sends"
		" WHERE id > ?1 AND endpoint = ?3 ORDER BY id LIMIT ?2"),
	[ST_PRUNE_SENDS] = "DELETE FROM sends WHERE received_ms < ?1",
	[ST_BEGIN] = "BEGIN",
	[ST_COMMIT] = "COMMIT",
};

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=NORMAL;"
	"CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS registrations ("
	" key TEXT PRIMARY KEY, prefix TEXT, endpoint TEXT NOT NULL, client_id TEXT, transport TEXT,"
	" version TEXT, binding TEXT, sms TEXT, links TEXT NOT NULL, lifetime INTEGER NOT NULL,"
	" registered_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL,"
	" reg_id TEXT);"
	"CREATE TABLE IF NOT EXISTS requests ("
	" id INTEGER PRIMARY KEY, key TEXT NOT NULL, endpoint TEXT NOT NULL, prefix TEXT,"
	" kind INTEGER NOT NULL, message BLOB NOT NULL, state INTEGER NOT NULL,"
	" created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, result INTEGER NOT NULL,"
	" content_format INTEGER NOT NULL, payload BLOB, detail TEXT);"
	"CREATE TABLE IF NOT EXISTS sends ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, endpoint TEXT NOT NULL, prefix TEXT,"
	" received_ms INTEGER NOT NULL, content_format INTEGER NOT NULL, payload BLOB NOT NULL);"
	"CREATE INDEX IF NOT EXISTS sends_by_endpoint ON sends (endpoint, id);";

struct store {
	sqlite3 *db;
	char *path;
	/* WAL checkpoints run on libuv's thread pool with a connection of their own, so the
	 * core never waits for the syncs of one (SQLite's automatic checkpoint would run them
	 * inside a commit on the core thread). */
	uv_loop_t *loop;
	uv_work_t ckpt_req;
	sqlite3 *ckpt_db;              /* used by the checkpoint work only, one at a time */
	bool ckpt_running;
	int wal_pages;
	sqlite3_stmt *stmt[ST_COUNT];
	bool in_txn;
	uint64_t commits;
	uint64_t errors;
};

static int fail_db(struct store *s, struct lwm2m_error *err, const char *what)
{
	return lwm2m_fail(err, LWM2M_EINVAL, -1, "state_db: %s: %s", what, s->db ? sqlite3_errmsg(s->db) : "?");
}

int store_open(const char *path, struct store **out, struct lwm2m_error *err)
{
	struct store *s = calloc(1, sizeof(*s));
	int rc;

	if(!s) return lwm2m_fail(err, LWM2M_ENOMEM, -1, "out of memory");
	if(sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK){
		rc = lwm2m_fail(err, LWM2M_EINVAL, -1, "plugin_opt_state_db: cannot open %s: %s", path,
				s->db ? sqlite3_errmsg(s->db) : "out of memory");
		store_close(s);
		return rc;
	}
	sqlite3_busy_timeout(s->db, 2000);
	s->path = strdup(path);
	if(sqlite3_exec(s->db, schema, NULL, NULL, NULL) != SQLITE_OK){
		rc = fail_db(s, err, path);
		store_close(s);
		return rc;
	}
	/* A database from before HTTP registrations: add the column (fails harmlessly when it
	 * is there already). */
	sqlite3_exec(s->db, "ALTER TABLE registrations ADD COLUMN reg_id TEXT", NULL, NULL, NULL);
	for(int i = 0; i < ST_COUNT; i++){
		if(sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i], NULL) != SQLITE_OK){
			rc = fail_db(s, err, "preparing statements");
			store_close(s);
			return rc;
		}
	}
	*out = s;
	return 0;
}

void store_close(struct store *s)
{
	if(!s) return;
	s->loop = NULL;   /* the loop has ended: no checkpoint is queued any more */
	if(s->db) store_flush(s);
	for(int i = 0; i < ST_COUNT; i++) sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->ckpt_db);
	/* The last connection to close checkpoints the WAL into the database. */
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

/* Runs a prepared statement to completion; the statement is reset and unbound after. */
static bool step(struct store *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if(rc != SQLITE_DONE && rc != SQLITE_ROW){
		s->errors++;
		return false;
	}
	return true;
}

static void begin(struct store *s)
{
	if(s->in_txn) return;
	if(step(s, s->stmt[ST_BEGIN])) s->in_txn = true;
}

#define CHECKPOINT_PAGES 1000   /* WAL pages (4 KiB) before a checkpoint is started */

static int on_wal(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct store *s = arg;
	(void)db;
	(void)name;
	s->wal_pages = pages;
	return SQLITE_OK;
}

static void ckpt_work(uv_work_t *w)
{
	struct store *s = w->data;

	if(!s->ckpt_db && sqlite3_open_v2(s->path, &s->ckpt_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK){
		sqlite3_close(s->ckpt_db);
		s->ckpt_db = NULL;
		return;
	}
	/* Passive: copies what no reader needs, never blocks the core's writes. */
	sqlite3_wal_checkpoint_v2(s->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
}

static void ckpt_done(uv_work_t *w, int status)
{
	struct store *s = w->data;
	(void)status;
	s->ckpt_running = false;
}

static void maybe_checkpoint(struct store *s)
{
	if(!s->loop || s->ckpt_running || s->wal_pages < CHECKPOINT_PAGES || !s->path) return;
	s->ckpt_running = true;
	s->wal_pages = 0;
	s->ckpt_req.data = s;
	if(uv_queue_work(s->loop, &s->ckpt_req, ckpt_work, ckpt_done) != 0) s->ckpt_running = false;
}

void store_set_loop(struct store *s, uv_loop_t *loop)
{
	if(!s) return;
	s->loop = loop;
	/* From now on checkpoints are ours to run, off the core thread. */
	sqlite3_wal_autocheckpoint(s->db, 0);
	sqlite3_wal_hook(s->db, on_wal, s);
}

int store_flush(struct store *s)
{
	if(!s || !s->in_txn) return 0;
	s->in_txn = false;
	if(!step(s, s->stmt[ST_COMMIT])){
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -LWM2M_EINVAL;
	}
	s->commits++;
	maybe_checkpoint(s);
	return 0;
}

/* SQLITE_STATIC: every statement is stepped and its bindings cleared before the caller's
 * strings can change, so SQLite need not copy them. */
static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if(v) sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else sqlite3_bind_null(st, i);
}

void store_put_registration(struct store *s, const struct registration *reg, int64_t expires_wall_ms)
{
	sqlite3_stmt *st;

	if(!s) return;
	begin(s);
	st = s->stmt[ST_PUT_REG];
	bind_text(st, 1, reg->key);
	bind_text(st, 2, reg->prefix);
	bind_text(st, 3, reg->endpoint);
	bind_text(st, 4, reg->client_id);
	bind_text(st, 5, reg->transport);
	bind_text(st, 6, reg->version);
	bind_text(st, 7, reg->binding);
	bind_text(st, 8, reg->sms);
	bind_text(st, 9, reg->links ? reg->links : "");
	sqlite3_bind_int64(st, 10, (sqlite3_int64)reg->lifetime);
	sqlite3_bind_int64(st, 11, reg->registered_wall_ms);
	sqlite3_bind_int64(st, 12, reg->updated_wall_ms);
	sqlite3_bind_int64(st, 13, expires_wall_ms);
	bind_text(st, 14, reg->reg_id);
	step(s, st);
}

void store_delete_registration(struct store *s, const char *key)
{
	if(!s) return;
	begin(s);
	bind_text(s->stmt[ST_DEL_REG], 1, key);
	step(s, s->stmt[ST_DEL_REG]);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

int store_load_registrations(struct store *s,
		void (*fn)(void *ctx, const struct stored_registration *r), void *ctx, struct lwm2m_error *err)
{
	sqlite3_stmt *st = s->stmt[ST_LOAD_REGS];
	int rc;

	while((rc = sqlite3_step(st)) == SQLITE_ROW){
		struct stored_registration r;
		memset(&r, 0, sizeof(r));
		r.params.prefix = col_text(st, 0);
		r.params.endpoint = col_text(st, 1);
		r.params.client_id = col_text(st, 2);
		r.params.transport = col_text(st, 3);
		r.params.version = col_text(st, 4);
		r.params.binding = col_text(st, 5);
		r.params.sms = col_text(st, 6);
		r.params.links = col_text(st, 7);
		r.params.links_len = r.params.links ? strlen(r.params.links) : 0;
		r.params.has_lifetime = true;
		r.params.lifetime = (uint64_t)sqlite3_column_int64(st, 8);
		r.registered_wall_ms = sqlite3_column_int64(st, 9);
		r.updated_wall_ms = sqlite3_column_int64(st, 10);
		r.expires_wall_ms = sqlite3_column_int64(st, 11);
		r.params.reg_id = col_text(st, 12);
		if(r.params.endpoint) fn(ctx, &r);
	}
	sqlite3_reset(st);
	if(rc != SQLITE_DONE) return fail_db(s, err, "reading registrations");
	return 0;
}

void store_put_request(struct store *s, const struct stored_request *r)
{
	sqlite3_stmt *st;

	if(!s) return;
	begin(s);
	st = s->stmt[ST_PUT_REQ];
	sqlite3_bind_int64(st, 1, r->id);
	bind_text(st, 2, r->key);
	bind_text(st, 3, r->endpoint);
	bind_text(st, 4, r->prefix);
	sqlite3_bind_int(st, 5, r->kind);
	sqlite3_bind_blob(st, 6, r->message, (int)r->message_len, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 7, r->state);
	sqlite3_bind_int64(st, 8, r->created_wall_ms);
	sqlite3_bind_int64(st, 9, r->updated_wall_ms);
	sqlite3_bind_int(st, 10, r->result);
	sqlite3_bind_int(st, 11, r->content_format);
	if(r->payload) sqlite3_bind_blob(st, 12, r->payload, (int)r->payload_len, SQLITE_TRANSIENT);
	else sqlite3_bind_null(st, 12);
	bind_text(st, 13, r->detail);
	step(s, st);
}

void store_delete_request(struct store *s, int64_t id)
{
	if(!s) return;
	begin(s);
	sqlite3_bind_int64(s->stmt[ST_DEL_REQ], 1, id);
	step(s, s->stmt[ST_DEL_REQ]);
}

int store_load_requests(struct store *s, void (*fn)(void *ctx, const struct stored_request *r),
		void *ctx, struct lwm2m_error *err)
{
	sqlite3_stmt *st = s->stmt[ST_LOAD_REQS];
	int rc;

	while((rc = sqlite3_step(st)) == SQLITE_ROW){
		struct stored_request r;
		memset(&r, 0, sizeof(r));
		r.id = sqlite3_column_int64(st, 0);
		r.key = col_text(st, 1);
		r.endpoint = col_text(st, 2);
		r.prefix = col_text(st, 3);
		r.kind = sqlite3_column_int(st, 4);
		r.message = sqlite3_column_blob(st, 5);
		r.message_len = (size_t)sqlite3_column_bytes(st, 5);
		r.state = sqlite3_column_int(st, 6);
		r.created_wall_ms = sqlite3_column_int64(st, 7);
		r.updated_wall_ms = sqlite3_column_int64(st, 8);
		r.result = sqlite3_column_int(st, 9);
		r.content_format = sqlite3_column_int(st, 10);
		r.payload = sqlite3_column_blob(st, 11);
		r.payload_len = (size_t)sqlite3_column_bytes(st, 11);
		r.detail = col_text(st, 12);
		if(r.key && r.endpoint && r.message) fn(ctx, &r);
	}
	sqlite3_reset(st);
	if(rc != SQLITE_DONE) return fail_db(s, err, "reading queued requests");
	return 0;
}

int64_t store_put_send(struct store *s, const char *endpoint, const char *prefix, int64_t received_wall_ms,
		uint16_t content_format, const uint8_t *payload, size_t len)
{
	sqlite3_stmt *st;

	if(!s) return -LWM2M_ENOTSUP;
	begin(s);
	st = s->stmt[ST_PUT_SEND];
	bind_text(st, 1, endpoint);
	bind_text(st, 2, prefix);
	sqlite3_bind_int64(st, 3, received_wall_ms);
	sqlite3_bind_int(st, 4, content_format);
	sqlite3_bind_blob(st, 5, len ? (const void *)payload : "", (int)len, SQLITE_TRANSIENT);
	if(!step(s, st)) return -LWM2M_EINVAL;
	return sqlite3_last_insert_rowid(s->db);
}

int store_list_sends(struct store *s, const char *endpoint, int64_t since, unsigned limit,
		void (*fn)(void *ctx, const struct stored_send *r), void *ctx)
{
	sqlite3_stmt *st = s->stmt[endpoint ? ST_LIST_SENDS_EP : ST_LIST_SENDS];
	int rc;

	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int(st, 2, (int)limit);
	if(endpoint) bind_text(st, 3, endpoint);
	while((rc = sqlite3_step(st)) == SQLITE_ROW){
		struct stored_send r;
		r.id = sqlite3_column_int64(st, 0);
		r.endpoint = col_text(st, 1);
		r.prefix = col_text(st, 2);
		r.received_wall_ms = sqlite3_column_int64(st, 3);
		r.content_format = (uint16_t)sqlite3_column_int(st, 4);
		r.payload = sqlite3_column_blob(st, 5);
		r.payload_len = (size_t)sqlite3_column_bytes(st, 5);
		if(r.endpoint) fn(ctx, &r);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : -LWM2M_EINVAL;
}

void store_prune_sends(struct store *s, int64_t before_wall_ms)
{
	if(!s) return;
	begin(s);
	sqlite3_bind_int64(s->stmt[ST_PRUNE_SENDS], 1, before_wall_ms);
	step(s, s->stmt[ST_PRUNE_SENDS]);
}

void store_set_u64(struct store *s, const char *name, uint64_t v)
{
	if(!s) return;
	begin(s);
	bind_text(s->stmt[ST_SET_META], 1, name);
	sqlite3_bind_int64(s->stmt[ST_SET_META], 2, (sqlite3_int64)v);
	step(s, s->stmt[ST_SET_META]);
}

uint64_t store_get_u64(struct store *s, const char *name, uint64_t def)
{
	sqlite3_stmt *st = s->stmt[ST_GET_META];
	uint64_t v = def;

	bind_text(st, 1, name);
	if(sqlite3_step(st) == SQLITE_ROW) v = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return v;
}

uint64_t store_commits(const struct store *s)
{
	return s ? s->commits : 0;
}

uint64_t store_errors(const struct store *s)
{
	return s ? s->errors : 0;
}
