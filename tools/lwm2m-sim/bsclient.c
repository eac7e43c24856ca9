/* The device side of the LwM2M Bootstrap interface over MQTT (--bootstrap, Transport TS 8.3):
 * a Bootstrap-Request on [prefix/]lwm2m/bs/{ep} (HTTP mode: POST /bs?ep={ep}, the
 * operations then coming to the device's own HTTP server, hnet.c), then the Bootstrap-Server's Discover, Read,
 * Delete and Write applied to the tree one at a time, and Bootstrap-Finish; or, with
 * --bootstrap-pack, one Bootstrap-Pack-Request whose answer carries everything. The device
 * then registers with the server account it was given, and when that account's Security
 * instance links a /23 key (resource 27), every message on its rd topic travels as a COSE
 * Encrypt0 under that key, in both directions (Transport TS 8.6; spec digest 1.8). */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/random.h>

#include "sim.h"

static bool bootstrapping(const struct sim_device *d)
{
	return d->bs == BS_REQUESTED || d->bs == BS_RUNNING;
}

bool bs_in_progress(const struct sim_device *d)
{
	return bootstrapping(d);
}

/* Give up on this attempt: net_retry starts another later, or gives up on the device. */
static void bs_failed(struct sim *s, struct sim_device *d, const char *why)
{
	d->bs = BS_NONE;
	d->bs_deadline = 0;
	net_retry(s, d, why);
}

int bs_begin(struct sim *s, struct sim_device *d)
{
	bool pack = s->cfg.bootstrap_pack;
	struct lwm2m_buf acc;
	struct lwm2m_op op;
	int rc;

	/* every attempt starts from the factory configuration: nothing of a failed one is kept */
	tree_free(&d->tree);
	rc = tree_init(&d->tree, &s->model, d->number, sim_wall_s(), s->cfg.lifetime, s->cfg.binding,
			s->bs_uri);
	if(rc) return rc;
	d->protected = false;
	cose_key_wipe(&d->cose);
	buf_init(&acc, 0);
	op_init(&op);
	op.kind = pack ? LWM2M_OP_BOOTSTRAP_PACK_REQUEST : LWM2M_OP_BOOTSTRAP_REQUEST;
	if(s->cfg.has_pct){
		op.fields |= LWM2M_F_PCT;
		op.pct = s->cfg.pct;
	}
	if(s->http){
		/* the topic names the device on MQTT; on HTTP the query does */
		op.fields |= LWM2M_F_EP;
		op.ep = op_view_str(d->ep);
	}
	/* the Bootstrap-Server account instances the device keeps (Core TS 6.1.7.7) */
	if(pack) rc = tree_bs_account_links(&d->tree, &acc);
	if(!rc && acc.len){
		op.fields |= LWM2M_F_PAYLOAD;
		op.payload.ptr = acc.data;
		op.payload.len = acc.len;
	}
	if(!rc) rc = proto_send_request(s, d, LWM2M_IFACE_BS, &op);
	buf_free(&acc);
	if(rc) return rc;
	d->bs = BS_REQUESTED;
	d->bs_deadline = s->now_ms + (uint64_t)s->cfg.timeout_s * 1000u;
	sim_log(s, d, "%s sent", op_kind_name(op.kind));
	return 0;
}

/* Make what was received the device's configuration: the account it registers with, and
 * the COSE key of that account when it has one (MQTT only: the HTTP binding protects
 * nothing with COSE, a linked key is kept but unused). */
static int commit(struct sim *s, struct sim_device *d, struct lwm2m_error *err)
{
	struct tree_account acc;
	int rc = tree_bs_commit(&d->tree, &acc, err);
	bool cose = !rc && acc.has_cose && !s->http;

	if(cose) rc = tree_cose_key(&d->tree, acc.cose_inst, &d->cose, err);
	if(rc) return rc;
	d->protected = cose;
	return 0;
}

static void bootstrapped(struct sim *s, struct sim_device *d)
{
	d->bs = BS_DONE;
	d->bs_deadline = 0;
	if(!d->bootstrapped_once){
		d->bootstrapped_once = true;
		s->st.bootstrapped++;
	}
	sim_log(s, d, "bootstrapped: server account /1/%u%s", d->tree.server_inst,
			d->protected ? ", COSE-protected" : "");
	if(d->stopping){
		net_close(s, d);
	}else if(proto_register(s, d) != 0){
		net_retry(s, d, "cannot send Register");
	}
}

static void apply_pack(struct sim *s, struct sim_device *d, const struct lwm2m_op *op)
{
	char why[LWM2M_ERROR_MSG_MAX + 48];
	struct lwm2m_nodes nodes;
	struct lwm2m_error err;
	int rc;

	if(!(op->fields & LWM2M_F_PAYLOAD) || !(op->fields & LWM2M_F_CT)){
		bs_failed(s, d, "Bootstrap-Pack without content");
		return;
	}
	nodes_init(&nodes);
	rc = fmt_decode(op->content_format, op->payload.ptr, op->payload.len, NULL, &s->model.typer, NULL,
			&nodes, &err);
	if(rc){
		snprintf(why, sizeof(why), "Bootstrap-Pack undecodable: %s", err.msg);
	}else if((rc = tree_bs_pack(&d->tree, &nodes, sim_wall_s())) != 0){
		snprintf(why, sizeof(why), "Bootstrap-Pack refused: %s", lwm2m_strerror(-rc));
	}else if((rc = commit(s, d, &err)) != 0){
		snprintf(why, sizeof(why), "Bootstrap-Pack inconsistent: %s", err.msg);
	}
	nodes_free(&nodes);
	if(rc) bs_failed(s, d, why);
	else bootstrapped(s, d);
}

void bs_on_result(struct sim *s, struct sim_device *d, enum lwm2m_op_kind kind, const struct lwm2m_op *op)
{
	char why[64];

	if(!bootstrapping(d)) return;
	if(kind == LWM2M_OP_BOOTSTRAP_REQUEST && op->result == 204){
		d->bs = BS_RUNNING;
		sim_log(s, d, "%s", "Bootstrap-Request accepted");
		if(d->stopping) net_close(s, d);
		return;
	}
	if(kind == LWM2M_OP_BOOTSTRAP_PACK_REQUEST && op->result == 205){
		apply_pack(s, d, op);
		return;
	}
	snprintf(why, sizeof(why), "%s answered %u", op_kind_name(kind), op->result);
	bs_failed(s, d, why);
}

/* ---- the Bootstrap-Server's operations ---- */

/* The request's path; without a uri, the root when the operation allows it. */
static bool op_path(const struct lwm2m_op *op, bool root_default, struct lwm2m_path *p)
{
	memset(p, 0, sizeof(*p));
	if(!(op->fields & LWM2M_F_URI)) return root_default;
	return path_parse((const char *)op->uri.ptr, op->uri.len, p, NULL) == 0;
}

static void respond_error(struct sim *s, struct sim_device *d, const struct lwm2m_op *op, int rc,
		const char *what)
{
	sim_log(s, d, "%s: %s", op_kind_name(op->kind), what);
	proto_respond_bs(s, d, op, proto_result_for(rc), 0, NULL);
}

static void do_discover(struct sim *s, struct sim_device *d, const struct lwm2m_op *op,
		const struct lwm2m_path *p)
{
	struct lwm2m_buf links;
	int rc;

	buf_init(&links, 0);
	rc = tree_bs_discover(&d->tree, p, s->cfg.version, &links);
	if(rc) respond_error(s, d, op, rc, lwm2m_strerror(-rc));
	else proto_respond_bs(s, d, op, 205, LWM2M_CF_LINK, &links);
	buf_free(&links);
}

/* The format of a Bootstrap-Read answer: pct when it is one a Read may use, else SenML CBOR. */
static uint16_t read_format(const struct lwm2m_op *op)
{
	if(op->fields & LWM2M_F_PCT){
		switch(op->pct){
			case LWM2M_CF_TLV:
			case LWM2M_CF_SENML_JSON:
			case LWM2M_CF_SENML_CBOR:
			case LWM2M_CF_LWM2M_CBOR:
				return op->pct;
			default:
				break;
		}
	}
	return LWM2M_CF_SENML_CBOR;
}

static void do_read(struct sim *s, struct sim_device *d, const struct lwm2m_op *op,
		const struct lwm2m_path *p)
{
	uint16_t cf = read_format(op);
	struct lwm2m_nodes nodes;
	struct lwm2m_buf payload;
	struct lwm2m_error err;
	int rc;

	nodes_init(&nodes);
	buf_init(&payload, 0);
	rc = tree_bs_read(&d->tree, p, &nodes);
	if(!rc) rc = fmt_encode(cf, &nodes, p, &s->model.typer, NULL, &payload, &err);
	if(rc) respond_error(s, d, op, rc, lwm2m_strerror(-rc));
	else proto_respond_bs(s, d, op, 205, cf, &payload);
	nodes_free(&nodes);
	buf_free(&payload);
}

static void do_delete(struct sim *s, struct sim_device *d, const struct lwm2m_op *op,
		const struct lwm2m_path *p)
{
	int rc = tree_bs_delete(&d->tree, p);

	if(rc) respond_error(s, d, op, rc, "not deletable");
	else proto_respond_bs(s, d, op, 202, 0, NULL);
}

static void do_write(struct sim *s, struct sim_device *d, const struct lwm2m_op *op,
		const struct lwm2m_path *p)
{
	struct lwm2m_nodes nodes;
	struct lwm2m_error err;
	int rc;

	if(!(op->fields & LWM2M_F_PAYLOAD) || !(op->fields & LWM2M_F_CT)){
		respond_error(s, d, op, -LWM2M_EINVAL, "no content");
		return;
	}
	nodes_init(&nodes);
	rc = fmt_decode(op->content_format, op->payload.ptr, op->payload.len, p, &s->model.typer, NULL,
			&nodes, &err);
	if(rc){
		sim_log(s, d, "%s: %s", op_kind_name(op->kind), err.msg);
		proto_respond_bs(s, d, op, rc == -LWM2M_ENOTSUP ? 415 : 400, 0, NULL);
	}else if((rc = tree_bs_write(&d->tree, p, &nodes, sim_wall_s())) != 0){
		respond_error(s, d, op, rc, lwm2m_strerror(-rc));
	}else{
		proto_respond_bs(s, d, op, 204, 0, NULL);
	}
	nodes_free(&nodes);
}

static void do_finish(struct sim *s, struct sim_device *d, const struct lwm2m_op *op)
{
	char why[LWM2M_ERROR_MSG_MAX + 48];
	struct lwm2m_error err;

	if(commit(s, d, &err) != 0){
		/* 4.06: the configuration cannot be used; the server may still fix it, we retry */
		proto_respond_bs(s, d, op, 406, 0, NULL);
		snprintf(why, sizeof(why), "Bootstrap-Finish: inconsistent configuration: %s", err.msg);
		bs_failed(s, d, why);
		return;
	}
	proto_respond_bs(s, d, op, 204, 0, NULL);
	bootstrapped(s, d);
}

void bs_handle_request(struct sim *s, struct sim_device *d, const struct lwm2m_op *op)
{
	bool root_default = op->kind == LWM2M_OP_BOOTSTRAP_DISCOVER;
	struct lwm2m_path p;

	if(!bootstrapping(d)){
		respond_error(s, d, op, -LWM2M_EINVAL, "the device is not bootstrapping");
		return;
	}
	if(op->kind == LWM2M_OP_BOOTSTRAP_FINISH){
		do_finish(s, d, op);
		return;
	}
	if(!op_path(op, root_default, &p)){
		respond_error(s, d, op, -LWM2M_EINVAL, "no valid uri");
		return;
	}
	switch(op->kind){
		case LWM2M_OP_BOOTSTRAP_DISCOVER: do_discover(s, d, op, &p); break;
		case LWM2M_OP_BOOTSTRAP_READ: do_read(s, d, op, &p); break;
		case LWM2M_OP_BOOTSTRAP_DELETE: do_delete(s, d, op, &p); break;
		case LWM2M_OP_BOOTSTRAP_WRITE: do_write(s, d, op, &p); break;
		default: respond_error(s, d, op, -LWM2M_EINVAL, "not a Bootstrap-Server operation"); break;
	}
}

/* ---- timers, connection ---- */

uint64_t bs_next_due(const struct sim_device *d)
{
	return bootstrapping(d) ? d->bs_deadline : 0;
}

void bs_timers(struct sim *s, struct sim_device *d)
{
	if(!bootstrapping(d) || !d->bs_deadline || s->now_ms < d->bs_deadline) return;
	if(d->has_pending && (d->pending_kind == LWM2M_OP_BOOTSTRAP_REQUEST
				|| d->pending_kind == LWM2M_OP_BOOTSTRAP_PACK_REQUEST)){
		d->has_pending = false;
	}
	bs_failed(s, d, "no Bootstrap-Finish within --timeout");
}

void bs_on_disconnect(struct sim_device *d)
{
	if(!bootstrapping(d)) return;
	d->bs = BS_NONE;
	d->bs_deadline = 0;
}

/* ---- COSE ---- */

int bs_seal(struct sim *s, struct sim_device *d, const uint8_t *p, size_t len)
{
	struct lwm2m_error err;
	struct cose_iv iv;
	int rc;

	memset(&iv, 0, sizeof(iv));
	iv.kind = COSE_IV_FULL;
	/* one /23 key protects both directions: a random 13-byte IV per message never repeats in
	 * practice (the specification gives no nonce rule) */
	if(getrandom(iv.full, sizeof(iv.full), 0) != (ssize_t)sizeof(iv.full)){
		sim_log(s, d, "no random IV: %s", strerror(errno));
		return -LWM2M_EINVAL;
	}
	buf_reset(&s->sealed);
	rc = cose_mqtt_protect(&d->cose, &iv, NULL, 0, p, len, &s->sealed, &err);
	if(rc) sim_log(s, d, "cannot protect a message: %s", err.msg);
	return rc;
}

bool bs_open(struct sim *s, struct sim_device *d, const uint8_t *p, size_t len, struct lwm2m_buf *plain)
{
	struct lwm2m_error err;

	if(!cose_looks_protected(p, len)){
		s->st.malformed++;
		sim_log(s, d, "%s", "unprotected message dropped: the server account requires COSE");
		return false;
	}
	if(cose_mqtt_unprotect(&d->cose, NULL, 0, p, len, plain, NULL, &err) != 0){
		s->st.malformed++;
		sim_log(s, d, "COSE: %s: message dropped", err.msg);
		return false;
	}
	return true;
}
