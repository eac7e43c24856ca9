/* LwM2M over MQTT for one simulated device: its own requests (Register, Update,
 * De-register) and the answers to the server's operations. Every message goes through
 * the project's MQTT codec; every payload through the format library. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "binding/mqtt_codec.h"
#include "objects/fmt_senml.h"

#define UPDATE_RETRY_MS 5000u

/* ---- helpers ---- */

static uint64_t next_token(struct sim_device *d)
{
	/* xorshift64*: own tokens are random 64-bit numbers so that they practically never
	 * equal a token the server picks (both share the topic, echoes included) */
	d->rng ^= d->rng >> 12;
	d->rng ^= d->rng << 25;
	d->rng ^= d->rng >> 27;
	return d->rng * 2685821657736338717ull;
}

static struct lwm2m_view view_of(const struct lwm2m_buf *b)
{
	struct lwm2m_view v = { b->data, b->len };

	return v;
}

/* The LwM2M result for a tree or format error. */
uint16_t proto_result_for(int rc)
{
	switch(-rc){
		case LWM2M_ENOENT: return 404;
		case LWM2M_ENOTSUP: return 405;
		case LWM2M_ENOMEM:
		case LWM2M_EFULL: return 500;
		default: return 400;
	}
}

/* HTTP mode: the answer goes back on the request's own connection (hnet.c). */
static int answer_store(struct sim_answer *a, uint16_t result, uint16_t ct,
		const struct lwm2m_buf *payload)
{
	a->done = true;
	a->result = result;
	a->has_payload = payload != NULL;
	a->ct = ct;
	buf_reset(&a->payload);
	return payload && payload->len ? buf_append(&a->payload, payload->data, payload->len) : 0;
}

static void log_answer(struct sim *s, struct sim_device *d, const struct lwm2m_op *req,
		uint16_t result)
{
	char uri[72] = "";

	if(!s->cfg.verbose) return;
	if(req->fields & LWM2M_F_URI){
		snprintf(uri, sizeof(uri), " %.*s", (int)(req->uri.len < 64 ? req->uri.len : 64),
				(const char *)req->uri.ptr);
	}
	if(s->answer){
		sim_log(s, d, "%s%s -> %u (HTTP %d)", op_kind_name(req->kind), uri, result,
				http_codec_status_for(req, result));
	}else{
		sim_log(s, d, "%s%s (token %" PRIu64 ") -> %u", op_kind_name(req->kind), uri, req->token,
				result);
	}
}

int proto_publish(struct sim *s, struct sim_device *d, enum lwm2m_iface iface, const uint8_t *p,
		size_t len)
{
	if(iface == LWM2M_IFACE_BS) return net_publish(s, d, d->bs_topic, p, len);
	if(!d->protected) return net_publish(s, d, d->topic, p, len);
	if(bs_seal(s, d, p, len) != 0) return -LWM2M_EINVAL;   /* said why */
	return net_publish(s, d, d->topic, s->sealed.data, s->sealed.len);
}

static int respond_on(struct sim *s, struct sim_device *d, enum lwm2m_iface iface,
		const struct lwm2m_op *req, uint16_t result, uint16_t ct, const struct lwm2m_buf *payload)
{
	struct lwm2m_error err;
	struct lwm2m_op r;
	int rc;

	if(s->answer){
		rc = answer_store(s->answer, result, ct, payload);
		if(rc) return rc;
		s->st.answered++;
		log_answer(s, d, req, result);
		return 0;
	}
	op_init(&r);
	r.is_response = true;
	r.kind = req->kind;
	r.token = req->token;
	r.result = result;
	r.fields = LWM2M_F_TOKEN | LWM2M_F_RESULT;
	if(payload){
		r.fields |= LWM2M_F_PAYLOAD | LWM2M_F_CT;
		r.payload = view_of(payload);
		r.content_format = ct;
	}
	buf_reset(&s->out);
	rc = mqtt_codec_encode(&r, iface, &s->out, &err);
	if(rc){
		sim_log(s, d, "cannot encode the answer to %s: %s", op_kind_name(req->kind), err.msg);
		return rc;
	}
	rc = proto_publish(s, d, iface, s->out.data, s->out.len);
	if(rc) return rc;
	s->st.answered++;
	log_answer(s, d, req, result);
	return rc;
}

int proto_respond(struct sim *s, struct sim_device *d, const struct lwm2m_op *req, uint16_t result,
		uint16_t ct, const struct lwm2m_buf *payload)
{
	return respond_on(s, d, LWM2M_IFACE_RD, req, result, ct, payload);
}

int proto_respond_bs(struct sim *s, struct sim_device *d, const struct lwm2m_op *req, uint16_t result,
		uint16_t ct, const struct lwm2m_buf *payload)
{
	return respond_on(s, d, LWM2M_IFACE_BS, req, result, ct, payload);
}

static void respond_error(struct sim *s, struct sim_device *d, const struct lwm2m_op *req, int rc,
		const char *what)
{
	uint16_t result = proto_result_for(rc);

	if(s->cfg.verbose && what) sim_log(s, d, "%s: %s", op_kind_name(req->kind), what);
	proto_respond(s, d, req, result, 0, NULL);
}

int proto_send_request(struct sim *s, struct sim_device *d, enum lwm2m_iface iface, struct lwm2m_op *op)
{
	struct lwm2m_error err;
	int rc;

	op->token = next_token(d);
	op->fields |= LWM2M_F_TOKEN;
	if(s->http){
		rc = hnet_request(s, d, op);   /* says why */
		if(rc) return rc;
	}else{
		buf_reset(&s->out);
		rc = mqtt_codec_encode(op, iface, &s->out, &err);
		if(rc){
			sim_log(s, d, "cannot encode %s: %s", op_kind_name(op->kind), err.msg);
			return rc;
		}
		rc = proto_publish(s, d, iface, s->out.data, s->out.len);
		if(rc) return rc;
	}
	d->has_pending = true;
	d->pending_kind = op->kind;
	d->pending_token = op->token;
	d->pending_deadline = s->now_ms + (uint64_t)s->cfg.timeout_s * 1000u;
	net_sched(s, d);
	return 0;
}

/* ---- the device's own requests ---- */

/* The binding of a Register or Update. MQTT carries queue mode inside b ("MQ"); HTTP as the
 * Q flag beside the letters (b=H&Q), letters being the binding without its Q. */
static void set_binding(const struct sim *s, const struct sim_device *d, struct lwm2m_op *op,
		char *letters, size_t size)
{
	const char *b = tree_binding(&d->tree);
	size_t n = 0;

	if(!s->http){
		op->fields |= LWM2M_F_BINDING;
		op->binding = op_view_str(b);
		return;
	}
	for(; *b && n + 1 < size; b++){
		if(*b == 'Q') op->fields |= LWM2M_F_QUEUE;
		else letters[n++] = *b;
	}
	letters[n] = '\0';
	if(n == 0) return;
	op->fields |= LWM2M_F_BINDING;
	op->binding = op_view_str(letters);
}

int proto_register(struct sim *s, struct sim_device *d)
{
	struct lwm2m_buf links;
	struct lwm2m_op op;
	char letters[16];
	int rc;

	buf_init(&links, 0);
	rc = tree_object_list(&d->tree, &links);
	if(rc){
		buf_free(&links);
		return rc;
	}
	obs_clear(d);   /* a new registration ends every observation */
	op_init(&op);
	op.kind = LWM2M_OP_REGISTER;
	op.fields = LWM2M_F_LIFETIME | LWM2M_F_VERSION | LWM2M_F_PAYLOAD;
	op.lifetime = tree_lifetime(&d->tree);
	op.version = op_view_str(s->cfg.version);
	set_binding(s, d, &op, letters, sizeof(letters));
	op.payload = view_of(&links);
	if(s->http){
		/* the topic names the device on MQTT; on HTTP the query does */
		op.fields |= LWM2M_F_EP | LWM2M_F_CT;
		op.ep = op_view_str(d->ep);
		op.content_format = LWM2M_CF_LINK;
		d->has_reg_id = false;
	}
	rc = proto_send_request(s, d, LWM2M_IFACE_RD, &op);
	buf_free(&links);
	if(rc) return rc;
	d->reg = REG_PENDING;
	d->update_wanted = d->update_lifetime = d->update_binding = d->update_objects = false;
	d->update_at = 0;
	sim_log(s, d, "Register sent (lifetime %" PRIu64 " s)", op.lifetime);
	return 0;
}

static int send_update(struct sim *s, struct sim_device *d)
{
	struct lwm2m_buf links;
	struct lwm2m_op op;
	char letters[16];
	int rc = 0;

	buf_init(&links, 0);
	op_init(&op);
	op.kind = LWM2M_OP_UPDATE;
	if(d->update_lifetime){
		op.fields |= LWM2M_F_LIFETIME;
		op.lifetime = tree_lifetime(&d->tree);
	}
	if(d->update_binding) set_binding(s, d, &op, letters, sizeof(letters));
	if(d->update_objects){
		rc = tree_object_list(&d->tree, &links);
		op.fields |= LWM2M_F_PAYLOAD;
		op.payload = view_of(&links);
		if(s->http){
			op.fields |= LWM2M_F_CT;
			op.content_format = LWM2M_CF_LINK;
		}
	}
	if(!rc) rc = proto_send_request(s, d, LWM2M_IFACE_RD, &op);
	buf_free(&links);
	if(rc){
		/* keep what it should carry and try again a little later */
		d->update_wanted = false;
		d->update_at = s->now_ms + UPDATE_RETRY_MS;
		return rc;
	}
	sim_log(s, d, "Update sent%s%s%s", d->update_lifetime ? " (lifetime)" : "",
			d->update_binding ? " (binding)" : "", d->update_objects ? " (objects)" : "");
	d->update_wanted = d->update_lifetime = d->update_binding = d->update_objects = false;
	d->update_at = 0;
	return 0;
}

void proto_request_update(struct sim *s, struct sim_device *d)
{
	d->update_wanted = true;
	if(d->reg == REG_DONE && !d->has_pending && !d->stopping) send_update(s, d);
}

int proto_deregister(struct sim *s, struct sim_device *d)
{
	struct lwm2m_op op;
	int rc;

	op_init(&op);
	op.kind = LWM2M_OP_DEREGISTER;
	rc = proto_send_request(s, d, LWM2M_IFACE_RD, &op);
	if(rc) return rc;
	d->reg = REG_DEREG_PENDING;
	obs_clear(d);
	sim_log(s, d, "%s", "De-register sent");
	return 0;
}

int proto_start(struct sim *s, struct sim_device *d)
{
	if(s->cfg.bootstrap && d->bs != BS_DONE) return bs_begin(s, d);
	return proto_register(s, d);
}

void proto_on_disconnect(struct sim *s, struct sim_device *d)
{
	(void)s;
	bs_on_disconnect(d);
	d->has_pending = false;
	if(d->reg != REG_DEREGISTERED) d->reg = REG_NONE;
	d->update_at = 0;
	obs_clear(d);
}

static void schedule_update(struct sim *s, struct sim_device *d)
{
	uint64_t lt_ms = (uint64_t)tree_lifetime(&d->tree) * 1000u;

	/* at two thirds of the lifetime, as the registration must be renewed before it ends */
	d->update_at = s->now_ms + (lt_ms * 2u / 3u > 1000u ? lt_ms * 2u / 3u : 1000u);
}

/* The device is done with the server: leave as asked. */
static void finish_stopping(struct sim *s, struct sim_device *d)
{
	if(d->reg == REG_DONE && s->cfg.deregister_at_exit && proto_deregister(s, d) == 0) return;
	net_close(s, d);
}

/* Start a new registration on the open connection (the server lost ours, or we rebooted). */
static void reregister(struct sim *s, struct sim_device *d, const char *why)
{
	sim_log(s, d, "%s: registering again", why);
	if(d->stopping){
		finish_stopping(s, d);
	}else if(proto_register(s, d) != 0){
		d->reg = REG_NONE;
		net_retry(s, d, "cannot send Register");
	}
}

static void on_registered(struct sim *s, struct sim_device *d)
{
	d->reg = REG_DONE;
	d->attempts = 0;
	if(!d->registered_once){
		d->registered_once = true;
		s->st.registered++;
	}
	sim_log(s, d, "%s", "registered");
	schedule_update(s, d);
	if(s->http && s->cfg.send_period_ms) d->send_at = s->now_ms + s->cfg.send_period_ms;
}

static void on_result(struct sim *s, struct sim_device *d, const struct lwm2m_op *op)
{
	enum lwm2m_op_kind kind = d->pending_kind;

	/* an answer to no pending request of ours: our own echo, or late */
	if(!d->has_pending || op->token != d->pending_token) return;
	d->has_pending = false;
	switch(kind){
		case LWM2M_OP_REGISTER:
			if(op->result == 201){
				on_registered(s, d);
			}else{
				char why[48];
				snprintf(why, sizeof(why), "Register answered %u", op->result);
				d->reg = REG_NONE;
				net_retry(s, d, why);
			}
			break;
		case LWM2M_OP_UPDATE:
			if(op->result == 204){
				s->st.updates++;
				sim_log(s, d, "%s", "updated");
				schedule_update(s, d);
			}else if(op->result == 404){
				reregister(s, d, "Update answered 404");
			}else{
				/* try again later with everything an Update can carry */
				sim_log(s, d, "Update answered %u: retrying", op->result);
				d->update_lifetime = d->update_binding = d->update_objects = true;
				d->update_at = s->now_ms + UPDATE_RETRY_MS;
			}
			break;
		case LWM2M_OP_BOOTSTRAP_REQUEST:
		case LWM2M_OP_BOOTSTRAP_PACK_REQUEST:
			bs_on_result(s, d, kind, op);
			break;
		case LWM2M_OP_DEREGISTER:
			d->reg = REG_DEREGISTERED;
			if(op->result == 202){
				s->st.deregistered++;
				sim_log(s, d, "%s", "de-registered");
			}else{
				sim_log(s, d, "De-register answered %u", op->result);
			}
			net_close(s, d);
			break;
		default:
			break;
	}
	/* stopping waited for this exchange to end */
	if(d->stopping && d->reg == REG_DONE && !d->has_pending) finish_stopping(s, d);
	net_sched(s, d);
}

void proto_on_result(struct sim *s, struct sim_device *d, const struct lwm2m_op *op)
{
	on_result(s, d, op);
}

/* ---- reading ---- */

static bool composite_format(uint16_t cf)
{
	return cf == LWM2M_CF_SENML_CBOR || cf == LWM2M_CF_SENML_JSON || cf == LWM2M_CF_LWM2M_CBOR;
}

int proto_encode_nodes(struct sim *s, const struct lwm2m_nodes *nodes,
		const struct lwm2m_path *paths, size_t n_paths, bool composite, uint16_t *ct,
		struct lwm2m_buf *out)
{
	/* the configured format first; the others only when a format is not implemented
	 * (or cannot carry this content, as plain text cannot carry an instance) */
	uint16_t order[6];
	size_t n = 0;
	int rc = -LWM2M_ENOTSUP;

	if(!composite || composite_format(s->cfg.format)) order[n++] = s->cfg.format;
	order[n++] = LWM2M_CF_SENML_CBOR;
	order[n++] = LWM2M_CF_LWM2M_CBOR;
	order[n++] = LWM2M_CF_SENML_JSON;
	if(!composite) order[n++] = LWM2M_CF_TLV;
	for(size_t i = 0; i < n; i++){
		struct lwm2m_error err;
		const struct lwm2m_path *req = composite || n_paths != 1 ? NULL : &paths[0];

		rc = fmt_encode(order[i], nodes, req, &s->model.typer, NULL, out, &err);
		if(rc == 0){
			*ct = order[i];
			return 0;
		}
		if(rc != -LWM2M_ENOTSUP && order[i] != LWM2M_CF_TEXT) return rc;
	}
	return rc;
}

/* Remove nodes with the same path as their predecessor (overlapping composite paths). */
static void nodes_dedupe(struct lwm2m_nodes *n)
{
	size_t w = 0;

	for(size_t k = 0; k < n->count; k++){
		if(w > 0 && path_compare(&n->items[w - 1].path, &n->items[k].path) == 0){
			value_free(&n->items[k].value);
			free(n->items[k].prefix);
			continue;
		}
		n->items[w++] = n->items[k];
	}
	n->count = w;
}

static int read_one(struct sim_device *d, const struct lwm2m_path *p, struct lwm2m_nodes *out)
{
	if(p->len > 0) return tree_read(&d->tree, p, out);
	return tree_read_all(&d->tree, out);   /* the root, only in composites: every object */
}

int proto_read_paths(struct sim_device *d, const struct lwm2m_path *paths, size_t n_paths,
		bool composite, struct lwm2m_nodes *out)
{
	bool any = false;

	tree_refresh(&d->tree, sim_wall_s());
	for(size_t i = 0; i < n_paths; i++){
		int rc;

		if(!composite && paths[i].len == 0) return -LWM2M_EINVAL;
		rc = read_one(d, &paths[i], out);
		if(rc == -LWM2M_ENOENT && composite) continue;   /* a missing path is left out */
		if(rc) return rc;
		any = true;
	}
	if(!any) return -LWM2M_ENOENT;
	if(composite){
		nodes_sort(out);
		nodes_dedupe(out);
	}
	return 0;
}

/* ---- server operations ---- */

static int request_path(const struct lwm2m_op *op, struct lwm2m_path *p)
{
	if(!(op->fields & LWM2M_F_URI)) return -LWM2M_EINVAL;
	return path_parse((const char *)op->uri.ptr, op->uri.len, p, NULL);
}

static int request_paths(const struct lwm2m_op *op, struct lwm2m_path **paths, size_t *n,
		struct lwm2m_error *err)
{
	if(!(op->fields & LWM2M_F_PATHS)) return lwm2m_fail(err, LWM2M_EINVAL, -1, "no paths");
	return senml_etch_paths_decode(LWM2M_CF_SENML_ETCH_CBOR, op->paths.ptr, op->paths.len,
			paths, n, err);
}

/* Read answer in the one format the request asked for (HTTP Accept). */
static int encode_as(struct sim *s, uint16_t cf, const struct lwm2m_nodes *nodes,
		const struct lwm2m_path *paths, size_t n_paths, struct lwm2m_buf *out)
{
	struct lwm2m_error err;

	return fmt_encode(cf, nodes, n_paths == 1 ? &paths[0] : NULL, &s->model.typer, NULL, out, &err);
}

static void do_read(struct sim *s, struct sim_device *d, const struct lwm2m_op *op,
		const struct lwm2m_path *paths, size_t n_paths, bool composite)
{
	/* an HTTP Read names its format (Accept); MQTT answers in the configured one */
	bool asked = s->answer && (op->fields & LWM2M_F_CT);
	struct lwm2m_nodes nodes;
	struct lwm2m_buf payload;
	uint16_t ct = asked ? op->content_format : 0;
	int rc;

	nodes_init(&nodes);
	buf_init(&payload, 0);
	rc = proto_read_paths(d, paths, n_paths, composite, &nodes);
	if(rc){
		respond_error(s, d, op, rc, "cannot read");
	}else if(asked){
		rc = encode_as(s, ct, &nodes, paths, n_paths, &payload);
		/* the content cannot be had in the format asked for: 4.06 Not Acceptable */
		if(rc) proto_respond(s, d, op, rc == -LWM2M_ENOMEM ? 500 : 406, 0, NULL);
		else proto_respond(s, d, op, 205, ct, &payload);
	}else{
		rc = proto_encode_nodes(s, &nodes, paths, n_paths, composite, &ct, &payload);
		if(rc) respond_error(s, d, op, rc, "cannot read");
		else proto_respond(s, d, op, 205, ct, &payload);
	}
	nodes_free(&nodes);
	buf_free(&payload);
}

static void do_discover(struct sim *s, struct sim_device *d, const struct lwm2m_op *op,
		const struct lwm2m_path *p)
{
	struct lwm2m_buf payload;
	int rc;

	buf_init(&payload, 0);
	rc = tree_discover(&d->tree, p, (op->fields & LWM2M_F_DEPTH) ? op->depth : -1, &payload);
	if(rc) respond_error(s, d, op, rc, "cannot discover");
	else proto_respond(s, d, op, 205, LWM2M_CF_LINK, &payload);
	buf_free(&payload);
}

/* Tell the server what a write, create or delete changed in the registration. */
static void apply_changes(struct sim *s, struct sim_device *d, const struct tree_changes *ch)
{
	if(!ch->lifetime && !ch->binding && !ch->objects) return;
	d->update_lifetime |= ch->lifetime;
	d->update_binding |= ch->binding;
	d->update_objects |= ch->objects;
	proto_request_update(s, d);
}

/* Decode a request payload; -LWM2M_ENOTSUP for a format the library cannot decode. */
static int decode_payload(struct sim *s, const struct lwm2m_op *op, const struct lwm2m_path *req,
		struct lwm2m_nodes *nodes, struct lwm2m_error *err)
{
	return fmt_decode(op->content_format, op->payload.ptr, op->payload.len, req,
			&s->model.typer, NULL, nodes, err);
}

static void do_write(struct sim *s, struct sim_device *d, const struct lwm2m_op *op,
		const struct lwm2m_path *p)
{
	bool composite = op->kind == LWM2M_OP_WRITE_COMPOSITE;
	struct tree_changes ch;
	struct lwm2m_nodes nodes;
	struct lwm2m_error err;
	int rc;

	memset(&ch, 0, sizeof(ch));
	nodes_init(&nodes);
	rc = decode_payload(s, op, composite ? NULL : p, &nodes, &err);
	if(rc){
		sim_log(s, d, "%s: %s", op_kind_name(op->kind), err.msg);
		proto_respond(s, d, op, rc == -LWM2M_ENOTSUP ? 415 : 400, 0, NULL);
		nodes_free(&nodes);
		return;
	}
	if(composite) rc = tree_write_composite(&d->tree, &nodes, &ch);
	else rc = tree_write(&d->tree, p, &nodes, op->kind == LWM2M_OP_WRITE, &ch);
	nodes_free(&nodes);
	if(rc){
		respond_error(s, d, op, rc, "refused");
		return;
	}
	proto_respond(s, d, op, 204, 0, NULL);
	apply_changes(s, d, &ch);
	obs_reschedule(s, d);
}

static void do_write_attrs(struct sim *s, struct sim_device *d, const struct lwm2m_op *op,
		const struct lwm2m_path *p)
{
	struct lwm2m_attrs none;
	struct lwm2m_error err;
	int rc;

	memset(&none, 0, sizeof(none));
	rc = tree_write_attrs(&d->tree, p, (op->fields & LWM2M_F_ATTRS) ? &op->attrs : &none, &err);
	if(rc){
		respond_error(s, d, op, rc, err.msg);
		return;
	}
	proto_respond(s, d, op, 204, 0, NULL);
	obs_reschedule(s, d);
}

static void do_execute(struct sim *s, struct sim_device *d, const struct lwm2m_op *op,
		const struct lwm2m_path *p)
{
	enum tree_action act;
	int rc = tree_execute(&d->tree, p, &act);

	if(rc){
		respond_error(s, d, op, rc, "not executable");
		return;
	}
	proto_respond(s, d, op, 204, 0, NULL);
	if(act == TREE_ACT_UPDATE){
		proto_request_update(s, d);
	}else if(act == TREE_ACT_REBOOT && !d->stopping){
		/* a rebooted device comes back with a fresh registration */
		reregister(s, d, "reboot");
	}
}

static void do_create(struct sim *s, struct sim_device *d, const struct lwm2m_op *op,
		const struct lwm2m_path *p)
{
	struct tree_changes ch;
	struct lwm2m_nodes nodes;
	struct lwm2m_error err;
	uint16_t id = 0;
	int rc;

	memset(&ch, 0, sizeof(ch));
	nodes_init(&nodes);
	if(p->len != 1){
		respond_error(s, d, op, -LWM2M_EINVAL, "Create needs an object path");
		return;
	}
	rc = decode_payload(s, op, p, &nodes, &err);
	if(rc){
		sim_log(s, d, "Create: %s", err.msg);
		proto_respond(s, d, op, rc == -LWM2M_ENOTSUP ? 415 : 400, 0, NULL);
		nodes_free(&nodes);
		return;
	}
	rc = tree_create(&d->tree, p, &nodes, sim_wall_s(), &id, &ch);
	nodes_free(&nodes);
	if(rc){
		respond_error(s, d, op, rc, rc == -LWM2M_EEXIST ? "instance exists" : "refused");
		return;
	}
	sim_log(s, d, "created /%u/%u", p->ids[0], id);
	if(s->answer){
		/* HTTP: the new instance goes in Location (the codec reads it there) */
		snprintf(s->answer->location, sizeof(s->answer->location), "/%u/%u", p->ids[0], id);
	}
	proto_respond(s, d, op, 201, 0, NULL);
	apply_changes(s, d, &ch);
}

static void do_delete(struct sim *s, struct sim_device *d, const struct lwm2m_op *op,
		const struct lwm2m_path *p)
{
	struct tree_changes ch;
	int rc;

	memset(&ch, 0, sizeof(ch));
	rc = tree_delete(&d->tree, p, &ch);
	if(rc){
		respond_error(s, d, op, rc, "refused");
		return;
	}
	obs_prune(d);
	proto_respond(s, d, op, 202, 0, NULL);
	apply_changes(s, d, &ch);
}

/* Operations addressed by a path list (Read-Composite, Observe-Composite). */
static void do_composite(struct sim *s, struct sim_device *d, const struct lwm2m_op *op)
{
	struct lwm2m_path *paths = NULL;
	struct lwm2m_error err;
	size_t n = 0;

	if(request_paths(op, &paths, &n, &err) != 0 || n == 0){
		sim_log(s, d, "%s: bad path list: %s", op_kind_name(op->kind), n ? err.msg : "empty");
		proto_respond(s, d, op, 400, 0, NULL);
		free(paths);
		return;
	}
	if(op->kind == LWM2M_OP_READ_COMPOSITE) do_read(s, d, op, paths, n, true);
	else obs_start(s, d, op, paths, n, true);
	free(paths);
}

void proto_handle_request(struct sim *s, struct sim_device *d, const struct lwm2m_op *op)
{
	struct lwm2m_path p;

	switch(op->kind){
		case LWM2M_OP_READ_COMPOSITE:
		case LWM2M_OP_OBSERVE_COMPOSITE:
			do_composite(s, d, op);
			return;
		case LWM2M_OP_WRITE_COMPOSITE:
			do_write(s, d, op, NULL);
			return;
		case LWM2M_OP_CANCEL_OBSERVE:
			obs_cancel(s, d, op);
			return;
		default:
			break;
	}
	if(request_path(op, &p) != 0){
		respond_error(s, d, op, -LWM2M_EINVAL, "bad path");
		return;
	}
	switch(op->kind){
		case LWM2M_OP_READ: do_read(s, d, op, &p, 1, false); break;
		case LWM2M_OP_DISCOVER: do_discover(s, d, op, &p); break;
		case LWM2M_OP_WRITE:
		case LWM2M_OP_WRITE_PARTIAL: do_write(s, d, op, &p); break;
		case LWM2M_OP_WRITE_ATTRIBUTES: do_write_attrs(s, d, op, &p); break;
		case LWM2M_OP_EXECUTE: do_execute(s, d, op, &p); break;
		case LWM2M_OP_CREATE: do_create(s, d, op, &p); break;
		case LWM2M_OP_DELETE: do_delete(s, d, op, &p); break;
		case LWM2M_OP_OBSERVE: obs_start(s, d, op, &p, 1, false); break;
		default: respond_error(s, d, op, -LWM2M_EINVAL, "not a device management operation"); break;
	}
}

static void on_decoded_message(struct sim *s, struct sim_device *d, enum lwm2m_iface iface,
		const uint8_t *p, size_t len)
{
	struct lwm2m_error err;
	struct lwm2m_op op;
	int rc;

	op_init(&op);
	rc = mqtt_codec_decode(p, len, iface, NULL, &op, &err);
	if(rc){
		s->st.malformed++;
		sim_log(s, d, "undecodable message: %s", err.msg);
		/* a request we can answer: it has a token and is not one of our own kinds */
		if(!op.is_response && (op.fields & LWM2M_F_TOKEN)
				&& !(op.kind != LWM2M_OP_NONE && op_kind_from_device(op.kind))){
			respond_on(s, d, iface, &op, 400, 0, NULL);
		}
		return;
	}
	if(op.is_response){
		on_result(s, d, &op);
		return;
	}
	/* Register, Update, Notify, Bootstrap-Request ... are our own messages coming back on
	 * the shared topic */
	if(op_kind_from_device(op.kind)) return;
	if(iface == LWM2M_IFACE_BS) bs_handle_request(s, d, &op);
	else proto_handle_request(s, d, &op);
	net_sched(s, d);
}

void proto_on_message(struct sim *s, struct sim_device *d, enum lwm2m_iface iface, const uint8_t *p,
		size_t len)
{
	struct lwm2m_buf plain;

	if(iface == LWM2M_IFACE_BS || !d->protected){
		on_decoded_message(s, d, iface, p, len);
		return;
	}
	buf_init(&plain, 0);
	if(bs_open(s, d, p, len, &plain)) on_decoded_message(s, d, iface, plain.data, plain.len);
	buf_free(&plain);
}

/* ---- timers ---- */

static uint64_t earliest(uint64_t a, uint64_t b)
{
	if(!a) return b;
	if(!b) return a;
	return a < b ? a : b;
}

uint64_t proto_next_due(const struct sim *s, const struct sim_device *d)
{
	uint64_t due = 0;

	if(d->has_pending) due = d->pending_deadline;
	if(d->reg == REG_DONE && !d->has_pending && !d->stopping){
		due = earliest(due, d->update_at);
		if(d->update_wanted) due = earliest(due, s->now_ms);
	}
	if(d->reg == REG_DONE) due = earliest(due, obs_next_due(d));
	if(d->reg == REG_DONE && !d->stopping && s->http) due = earliest(due, d->send_at);
	return earliest(due, bs_next_due(d));
}

static void on_timeout(struct sim *s, struct sim_device *d)
{
	enum lwm2m_op_kind kind = d->pending_kind;

	d->has_pending = false;
	switch(kind){
		case LWM2M_OP_REGISTER:
			d->reg = REG_NONE;
			net_retry(s, d, "no answer to Register");
			break;
		case LWM2M_OP_UPDATE:
			reregister(s, d, "no answer to Update");
			break;
		case LWM2M_OP_BOOTSTRAP_REQUEST:
		case LWM2M_OP_BOOTSTRAP_PACK_REQUEST:
			d->bs = BS_NONE;
			net_retry(s, d, kind == LWM2M_OP_BOOTSTRAP_REQUEST ? "no answer to Bootstrap-Request"
					: "no answer to Bootstrap-Pack-Request");
			break;
		case LWM2M_OP_DEREGISTER:
			sim_log(s, d, "%s", "no answer to De-register");
			d->reg = REG_DEREGISTERED;
			net_close(s, d);
			break;
		default:
			break;
	}
}

void proto_request_failed(struct sim *s, struct sim_device *d, uint64_t token, const char *why)
{
	if(!d->has_pending || d->pending_token != token) return;   /* given up on already */
	sim_log(s, d, "%s: %s", op_kind_name(d->pending_kind), why);
	on_timeout(s, d);
	net_sched(s, d);
}

/* HTTP mode: Send the temperature and the device's clock (T 7.1.5: POST /dp). */
static void send_data(struct sim *s, struct sim_device *d)
{
	static const struct lwm2m_path paths[] = {
		{ 3, { TREE_OBJ_TEMP, 0, 5700, 0 } },   /* Sensor Value */
		{ 3, { TREE_OBJ_DEVICE, 0, 13, 0 } },   /* Current Time */
	};
	struct lwm2m_nodes nodes;
	struct lwm2m_buf payload;
	struct lwm2m_op op;
	uint16_t ct = 0;
	int rc;

	nodes_init(&nodes);
	buf_init(&payload, 0);
	rc = proto_read_paths(d, paths, 2, true, &nodes);
	/* as composite content: SenML CBOR/JSON or LwM2M CBOR, the formats Send allows */
	if(!rc) rc = proto_encode_nodes(s, &nodes, paths, 2, true, &ct, &payload);
	if(!rc){
		op_init(&op);
		op.kind = LWM2M_OP_SEND;
		op.fields = LWM2M_F_EP | LWM2M_F_PAYLOAD | LWM2M_F_CT;
		op.ep = op_view_str(d->ep);
		op.payload = view_of(&payload);
		op.content_format = ct;
		rc = hnet_request(s, d, &op);
	}
	if(rc){
		s->st.send_errors++;
		sim_log(s, d, "cannot Send: %s", lwm2m_strerror(-rc));
	}else{
		sim_log(s, d, "Send sent (%zu bytes)", payload.len);
	}
	nodes_free(&nodes);
	buf_free(&payload);
}

void proto_timers(struct sim *s, struct sim_device *d)
{
	if(d->has_pending && s->now_ms >= d->pending_deadline) on_timeout(s, d);
	bs_timers(s, d);
	if(d->reg == REG_DONE && !d->has_pending && !d->stopping
			&& (d->update_wanted || (d->update_at && s->now_ms >= d->update_at))){
		send_update(s, d);
	}
	if(d->reg == REG_DONE) obs_run(s, d);
	if(s->http && d->reg == REG_DONE && !d->stopping && d->send_at && s->now_ms >= d->send_at){
		d->send_at = s->now_ms + s->cfg.send_period_ms;
		send_data(s, d);
	}
}
