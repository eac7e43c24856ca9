/* Observations and notifications of one device.
 *
 * When to notify:
 *  - the observed path has pmin, pmax, gt, lt or st in effect (Write-Attributes on it or a
 *    parent level): on a change (that passes gt/lt/st for numeric values), never sooner
 *    than pmin after the last value, and at least every pmax;
 *  - otherwise every --notify-period ms, or on every change when that period is 0.
 * Values are sampled once a second (the simulated sensors change at that rate). */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "binding/mqtt_codec.h"

#define CHECK_MS 1000u

static const uint32_t timing_attrs = LWM2M_ATTR_BIT(LWM2M_ATTR_PMIN) | LWM2M_ATTR_BIT(LWM2M_ATTR_PMAX)
	| LWM2M_ATTR_BIT(LWM2M_ATTR_GT) | LWM2M_ATTR_BIT(LWM2M_ATTR_LT) | LWM2M_ATTR_BIT(LWM2M_ATTR_ST);

static void obs_free(struct sim_obs *o)
{
	free(o->paths);
	nodes_free(&o->last);
	memset(o, 0, sizeof(*o));
}

static struct sim_obs *obs_find(struct sim_device *d, uint64_t token)
{
	for(size_t i = 0; i < d->n_obs; i++){
		if(d->obs[i].token == token) return &d->obs[i];
	}
	return NULL;
}

static void obs_remove(struct sim_device *d, size_t i)
{
	obs_free(&d->obs[i]);
	memmove(&d->obs[i], &d->obs[i + 1], (d->n_obs - i - 1) * sizeof(d->obs[0]));
	d->n_obs--;
}

void obs_clear(struct sim_device *d)
{
	for(size_t i = 0; i < d->n_obs; i++) obs_free(&d->obs[i]);
	free(d->obs);
	d->obs = NULL;
	d->n_obs = d->cap_obs = 0;
}

static bool obs_target_exists(const struct sim_device *d, const struct sim_obs *o)
{
	for(size_t i = 0; i < o->n_paths; i++){
		if(o->paths[i].len == 0 || tree_exists(&d->tree, &o->paths[i])) return true;
	}
	return false;
}

void obs_prune(struct sim_device *d)
{
	for(size_t i = d->n_obs; i-- > 0;){
		if(!obs_target_exists(d, &d->obs[i])) obs_remove(d, i);
	}
}

/* Attributes that shape the notifications of o (none for composites: MQTT has no way to
 * give them to an Observe-Composite). */
static void obs_attrs(const struct sim_device *d, const struct sim_obs *o, struct lwm2m_attrs *a)
{
	if(o->composite || o->n_paths != 1) memset(a, 0, sizeof(*a));
	else tree_effective_attrs(&d->tree, &o->paths[0], a);
}

static void obs_schedule(struct sim *s, struct sim_device *d, struct sim_obs *o)
{
	struct lwm2m_attrs a;
	uint64_t check = s->now_ms + CHECK_MS;

	obs_attrs(d, o, &a);
	if(a.set & timing_attrs){
		if((a.set & LWM2M_ATTR_BIT(LWM2M_ATTR_PMIN)) && o->last_ms + a.pmin * 1000u > check){
			check = o->last_ms + a.pmin * 1000u;
		}
		if((a.set & LWM2M_ATTR_BIT(LWM2M_ATTR_PMAX)) && o->last_ms + a.pmax * 1000u < check){
			check = o->last_ms + a.pmax * 1000u;
		}
		o->due_ms = check;
	}else if(s->cfg.notify_period_ms){
		o->due_ms = o->last_ms + s->cfg.notify_period_ms;
	}else{
		o->due_ms = check;
	}
}

void obs_reschedule(struct sim *s, struct sim_device *d)
{
	/* evaluate now: a write may have changed a value, new attributes a schedule */
	for(size_t i = 0; i < d->n_obs; i++) d->obs[i].due_ms = s->now_ms;
	net_sched(s, d);
}

uint64_t obs_next_due(const struct sim_device *d)
{
	uint64_t due = 0;

	for(size_t i = 0; i < d->n_obs; i++){
		if(!due || d->obs[i].due_ms < due) due = d->obs[i].due_ms;
	}
	return due;
}

/* ---- change detection ---- */

static bool numeric(const struct lwm2m_value *v, double *out)
{
	switch(v->type){
		case LWM2M_TYPE_INTEGER: *out = (double)v->v.i; return true;
		case LWM2M_TYPE_UNSIGNED: *out = (double)v->v.u; return true;
		case LWM2M_TYPE_FLOAT: *out = v->v.f; return true;
		default: return false;
	}
}

static bool crossed(double before, double after, double limit)
{
	return (before <= limit) != (after <= limit);
}

/* Whether one value moved enough to be notified under the attributes. */
static bool value_moved(const struct lwm2m_value *before, const struct lwm2m_value *after,
		const struct lwm2m_attrs *a)
{
	const uint32_t thresholds = LWM2M_ATTR_BIT(LWM2M_ATTR_GT) | LWM2M_ATTR_BIT(LWM2M_ATTR_LT)
		| LWM2M_ATTR_BIT(LWM2M_ATTR_ST);
	double x, y;

	if(value_equal(before, after)) return false;
	if(!(a->set & thresholds) || !numeric(before, &x) || !numeric(after, &y)) return true;
	if((a->set & LWM2M_ATTR_BIT(LWM2M_ATTR_GT)) && crossed(x, y, a->gt)) return true;
	if((a->set & LWM2M_ATTR_BIT(LWM2M_ATTR_LT)) && crossed(x, y, a->lt)) return true;
	if((a->set & LWM2M_ATTR_BIT(LWM2M_ATTR_ST)) && fabs(y - x) >= a->st) return true;
	return false;
}

static bool nodes_moved(const struct lwm2m_nodes *before, const struct lwm2m_nodes *after,
		const struct lwm2m_attrs *a)
{
	if(before->count != after->count) return true;
	for(size_t i = 0; i < after->count; i++){
		const struct lwm2m_node *x = &before->items[i], *y = &after->items[i];

		if(path_compare(&x->path, &y->path) != 0 || x->kind != y->kind) return true;
		if(x->kind == LWM2M_NODE_VALUE && value_moved(&x->value, &y->value, a)) return true;
	}
	return false;
}

/* Whether o must notify now with the values `now`. */
static bool obs_should_send(struct sim *s, struct sim_device *d, const struct sim_obs *o,
		const struct lwm2m_nodes *now)
{
	uint64_t elapsed = s->now_ms - o->last_ms;
	struct lwm2m_attrs a;

	obs_attrs(d, o, &a);
	if(a.set & timing_attrs){
		if((a.set & LWM2M_ATTR_BIT(LWM2M_ATTR_PMIN)) && elapsed < a.pmin * 1000u) return false;
		if((a.set & LWM2M_ATTR_BIT(LWM2M_ATTR_PMAX)) && elapsed >= a.pmax * 1000u) return true;
		return nodes_moved(&o->last, now, &a);
	}
	if(s->cfg.notify_period_ms) return elapsed >= s->cfg.notify_period_ms;
	return nodes_moved(&o->last, now, &a);
}

/* ---- messages ---- */

static int send_notify(struct sim *s, struct sim_device *d, struct sim_obs *o,
		const struct lwm2m_nodes *nodes)
{
	struct lwm2m_buf payload;
	struct lwm2m_error err;
	struct lwm2m_op op;
	uint16_t ct = 0;
	int rc;

	buf_init(&payload, 0);
	rc = proto_encode_nodes(s, nodes, o->paths, o->n_paths, o->composite, &ct, &payload);
	if(rc){
		buf_free(&payload);
		return rc;
	}
	op_init(&op);
	op.kind = LWM2M_OP_NOTIFY;
	op.token = o->token;
	op.fields = LWM2M_F_TOKEN | LWM2M_F_CT | LWM2M_F_PAYLOAD;
	op.content_format = ct;
	op.payload.ptr = payload.data;
	op.payload.len = payload.len;
	buf_reset(&s->out);
	rc = mqtt_codec_encode(&op, LWM2M_IFACE_RD, &s->out, &err);
	buf_free(&payload);
	if(rc) return rc;
	rc = proto_publish(s, d, LWM2M_IFACE_RD, s->out.data, s->out.len);
	if(rc) return rc;
	s->st.notifications++;
	sim_log(s, d, "Notify (token %" PRIu64 ")", o->token);
	return 0;
}

void obs_start(struct sim *s, struct sim_device *d, const struct lwm2m_op *req,
		const struct lwm2m_path *paths, size_t n_paths, bool composite)
{
	struct lwm2m_nodes nodes;
	struct lwm2m_buf payload;
	struct sim_obs *o;
	uint16_t ct = 0;
	int rc;

	nodes_init(&nodes);
	buf_init(&payload, 0);
	rc = proto_read_paths(d, paths, n_paths, composite, &nodes);
	if(!rc) rc = proto_encode_nodes(s, &nodes, paths, n_paths, composite, &ct, &payload);
	o = obs_find(d, req->token);
	if(!rc && !o && d->n_obs == d->cap_obs){
		size_t cap = d->cap_obs ? d->cap_obs * 2 : 2;
		struct sim_obs *grown = realloc(d->obs, cap * sizeof(*grown));
		if(grown){
			d->obs = grown;
			d->cap_obs = cap;
		}else{
			rc = -LWM2M_ENOMEM;
		}
	}
	if(rc){
		proto_respond(s, d, req, proto_result_for(rc), 0, NULL);
		goto out;
	}
	if(o) obs_free(o);
	else o = &d->obs[d->n_obs++];
	memset(o, 0, sizeof(*o));
	o->paths = malloc(n_paths * sizeof(*paths));
	if(!o->paths){
		o->n_paths = 0;
		obs_remove(d, (size_t)(o - d->obs));
		proto_respond(s, d, req, 500, 0, NULL);
		goto out;
	}
	memcpy(o->paths, paths, n_paths * sizeof(*paths));
	o->n_paths = n_paths;
	o->token = req->token;
	o->composite = composite;
	o->last_ms = s->now_ms;
	o->last = nodes;          /* taken over */
	nodes_init(&nodes);
	obs_schedule(s, d, o);
	proto_respond(s, d, req, 205, ct, &payload);
	net_sched(s, d);
out:
	nodes_free(&nodes);
	buf_free(&payload);
}

void obs_cancel(struct sim *s, struct sim_device *d, const struct lwm2m_op *req)
{
	struct sim_obs *o = obs_find(d, req->token);

	if(!o){
		proto_respond(s, d, req, 404, 0, NULL);
		return;
	}
	obs_remove(d, (size_t)(o - d->obs));
	proto_respond(s, d, req, 205, 0, NULL);
	net_sched(s, d);
}

void obs_run(struct sim *s, struct sim_device *d)
{
	for(size_t i = 0; i < d->n_obs;){
		struct sim_obs *o = &d->obs[i];
		struct lwm2m_nodes now;
		int rc;

		if(o->due_ms > s->now_ms){
			i++;
			continue;
		}
		nodes_init(&now);
		rc = proto_read_paths(d, o->paths, o->n_paths, o->composite, &now);
		if(rc){
			/* the target went away (or cannot be read): the observation ends */
			sim_log(s, d, "observation %" PRIu64 " ends: %s", o->token, lwm2m_strerror(-rc));
			nodes_free(&now);
			obs_remove(d, i);
			continue;
		}
		if(obs_should_send(s, d, o, &now) && send_notify(s, d, o, &now) == 0){
			if(i >= d->n_obs){
				/* the connection went away while publishing, and the observations with it */
				nodes_free(&now);
				return;
			}
			o = &d->obs[i];
			nodes_free(&o->last);
			o->last = now;
			o->last_ms = s->now_ms;
		}else{
			nodes_free(&now);
		}
		if(i < d->n_obs) obs_schedule(s, d, &d->obs[i]);
		i++;
	}
}
