/* The core objects a LwM2M 1.2 server needs without any XML file, at the versions the
 * 1.2 enabler implies (Core TS Tbl E-1), plus the other version that 1.2 devices use for
 * /5 (1.1 and 1.2) and /25 (1.0 from the Core TS, 2.0 from the Gateway TS).
 * Names, types, operations, multiplicity and mandatory flags follow the OMA registry;
 * tests/unit/test_model.c checks them against the registry's XML files. */
#include "model.h"

#include <stdlib.h>
#include <string.h>

enum {
	MULTI = 0x10,      /* multi-instance resource */
	MAND = 0x20,       /* mandatory resource */
};

/* Operation shorthands. */
#define NO 0
#define R_ OBJ_OP_R
#define W_ OBJ_OP_W
#define RW (OBJ_OP_R | OBJ_OP_W)
#define E_ OBJ_OP_E

/* Type shorthands. */
#define T_NONE LWM2M_TYPE_NONE
#define T_STR LWM2M_TYPE_STRING
#define T_INT LWM2M_TYPE_INTEGER
#define T_UINT LWM2M_TYPE_UNSIGNED
#define T_FLT LWM2M_TYPE_FLOAT
#define T_BOOL LWM2M_TYPE_BOOLEAN
#define T_OPQ LWM2M_TYPE_OPAQUE
#define T_TIME LWM2M_TYPE_TIME
#define T_OLNK LWM2M_TYPE_OBJLNK
#define T_CLNK LWM2M_TYPE_CORELNK

struct builtin_res {
	uint16_t id;
	uint8_t type;
	uint8_t flags;           /* OBJ_OP_* | MULTI | MAND */
	const char *name;
	const char *range;
	const char *units;
};

struct builtin_obj {
	uint16_t id;
	bool multiple, mandatory;
	const char *name, *version, *lwm2m_version, *urn;
	const struct builtin_res *res;
	size_t res_count;
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* /0 LwM2M Security 1.2 */
static const struct builtin_res security_res[] = {
	{0, T_STR, NO | MAND, "LWM2M Server URI", "0..255", ""},
	{1, T_BOOL, NO | MAND, "Bootstrap-Server", "", ""},
	{2, T_INT, NO | MAND, "Security Mode", "0..4", ""},
	{3, T_OPQ, NO | MAND, "Public Key or Identity", "", ""},
	{4, T_OPQ, NO | MAND, "Server Public Key", "", ""},
	{5, T_OPQ, NO | MAND, "Secret Key", "", ""},
	{6, T_INT, NO, "SMS Security Mode", "0..255", ""},
	{7, T_OPQ, NO, "SMS Binding Key Parameters", "6", ""},
	{8, T_OPQ, NO, "SMS Binding Secret Key(s)", "16,32,48", ""},
	{9, T_STR, NO, "LwM2M Server SMS Number", "", ""},
	{10, T_INT, NO, "Short Server ID", "1..65534", ""},
	{11, T_INT, NO, "Client Hold Off Time", "", "s"},
	{12, T_INT, NO, "Bootstrap-Server Account Timeout", "", "s"},
	{13, T_UINT, NO, "Matching Type", "0..3", ""},
	{14, T_STR, NO, "SNI", "", ""},
	{15, T_UINT, NO, "Certificate Usage", "0..3", ""},
	{16, T_UINT, NO | MULTI, "DTLS/TLS Ciphersuite", "", ""},
	{17, T_OLNK, NO, "OSCORE Security Mode", "", ""},
	{18, T_UINT, NO | MULTI, "Groups To Use by Client", "0..65535", ""},
	{19, T_UINT, NO | MULTI, "Signature Algorithms Supported by Server", "0..65535", ""},
	{20, T_UINT, NO | MULTI, "Signature Algorithms To Use by Client", "0..65535", ""},
	{21, T_UINT, NO | MULTI, "Signature Algorithm Certs Supported by Server", "0..65535", ""},
	{22, T_UINT, NO, "TLS 1.3 Features To Use by Client", "0..65535", ""},
	{23, T_UINT, NO, "TLS Extensions Supported by Server", "0..65535", ""},
	{24, T_UINT, NO, "TLS Extensions To Use by Client", "0..65535", ""},
	{25, T_STR, NO | MULTI, "Secondary LwM2M Server URI", "0..255", ""},
	{26, T_OLNK, NO, "MQTT Server", "", ""},
	{27, T_OLNK, NO | MULTI, "LwM2M COSE Security", "", ""},
	{28, T_INT, NO, "RDS Destination Port", "0..15", ""},
	{29, T_INT, NO, "RDS Source Port", "0..15", ""},
	{30, T_STR, NO, "RDS Application ID", "", ""},
};

/* /1 LwM2M Server 1.2 */
static const struct builtin_res server_res[] = {
	{0, T_INT, R_ | MAND, "Short Server ID", "1..65534", ""},
	{1, T_INT, RW | MAND, "Lifetime", "", "s"},
	{2, T_INT, RW, "Default Minimum Period", "", "s"},
	{3, T_INT, RW, "Default Maximum Period", "", "s"},
	{4, T_NONE, E_, "Disable", "", ""},
	{5, T_INT, RW, "Disable Timeout", "", "s"},
	{6, T_BOOL, RW | MAND, "Notification Storing When Disabled or Offline", "", ""},
	{7, T_STR, RW | MAND, "Binding", "", ""},
	{8, T_NONE, E_ | MAND, "Registration Update Trigger", "", ""},
	{9, T_NONE, E_, "Bootstrap-Request Trigger", "", ""},
	{10, T_OLNK, RW, "APN Link", "", ""},
	{11, T_UINT, R_, "TLS-DTLS Alert Code", "0..255", ""},
	{12, T_TIME, R_, "Last Bootstrapped", "", ""},
	{13, T_UINT, R_, "Registration Priority Order", "", ""},
	{14, T_UINT, RW, "Initial Registration Delay Timer", "", "s"},
	{15, T_BOOL, R_, "Registration Failure Block", "", ""},
	{16, T_BOOL, R_, "Bootstrap on Registration Failure", "", ""},
	{17, T_UINT, RW, "Communication Retry Count", "", ""},
	{18, T_UINT, RW, "Communication Retry Timer", "", "s"},
	{19, T_UINT, RW, "Communication Sequence Delay Timer", "", "s"},
	{20, T_UINT, RW, "Communication Sequence Retry Count", "", ""},
	{21, T_BOOL, RW, "Trigger", "", ""},
	{22, T_STR, RW, "Preferred Transport",
		"The possible values are those listed in the LwM2M Core Specification", ""},
	{23, T_BOOL, RW, "Mute Send", "", ""},
	{24, T_OLNK, RW | MULTI, "Alternate APN Links", "", ""},
	{25, T_STR, RW | MULTI, "Supported Server Versions", "", ""},
	{26, T_INT, RW, "Default Notification Mode", "0..1", ""},
	{27, T_UINT, RW, "Profile ID Hash Algorithm", "0..255", ""},
};

/* /2 LwM2M Access Control 1.1 */
static const struct builtin_res acl_res[] = {
	{0, T_INT, R_ | MAND, "Object ID", "1..65534", ""},
	{1, T_INT, R_ | MAND, "Object Instance ID", "0..65535", ""},
	{2, T_INT, RW | MULTI, "ACL", "0..31", ""},
	{3, T_INT, RW | MAND, "Access Control Owner", "0..65535", ""},
};

/* /3 Device 1.2 */
static const struct builtin_res device_res[] = {
	{0, T_STR, R_, "Manufacturer", "", ""},
	{1, T_STR, R_, "Model Number", "", ""},
	{2, T_STR, R_, "Serial Number", "", ""},
	{3, T_STR, R_, "Firmware Version", "", ""},
	{4, T_NONE, E_ | MAND, "Reboot", "", ""},
	{5, T_NONE, E_, "Factory Reset", "", ""},
	{6, T_INT, R_ | MULTI, "Available Power Sources", "0..7", ""},
	{7, T_INT, R_ | MULTI, "Power Source Voltage", "", ""},
	{8, T_INT, R_ | MULTI, "Power Source Current", "", ""},
	{9, T_INT, R_, "Battery Level", "0..100", "/100"},
	{10, T_INT, R_, "Memory Free", "", ""},
	{11, T_INT, R_ | MULTI | MAND, "Error Code", "0..32", ""},
	{12, T_NONE, E_, "Reset Error Code", "", ""},
	{13, T_TIME, RW, "Current Time", "", ""},
	{14, T_STR, RW, "UTC Offset", "", ""},
	{15, T_STR, RW, "Timezone", "", ""},
	{16, T_STR, R_ | MAND, "Supported Binding and Modes", "", ""},
	{17, T_STR, R_, "Device Type", "", ""},
	{18, T_STR, R_, "Hardware Version", "", ""},
	{19, T_STR, R_, "Software Version", "", ""},
	{20, T_INT, R_, "Battery Status", "0..6", ""},
	{21, T_INT, R_, "Memory Total", "", ""},
	{22, T_OLNK, R_ | MULTI, "ExtDevInfo", "", ""},
};

/* /4 Connectivity Monitoring 1.3 */
static const struct builtin_res connmon_res[] = {
	{0, T_INT, R_ | MAND, "Network Bearer", "0..50", ""},
	{1, T_INT, R_ | MULTI | MAND, "Available Network Bearer", "0..50", ""},
	{2, T_INT, R_ | MAND, "Radio Signal Strength", "", "dBm"},
	{3, T_INT, R_, "Link Quality", "", ""},
	{4, T_STR, R_ | MULTI | MAND, "IP Addresses", "", ""},
	{5, T_STR, R_ | MULTI, "Router IP Addresses", "", ""},
	{6, T_INT, R_, "Link Utilization", "0..100", "/100"},
	{7, T_STR, R_ | MULTI, "APN", "", ""},
	{8, T_INT, R_, "Cell ID", "", ""},
	{9, T_INT, R_, "SMNC", "0..999", ""},
	{10, T_INT, R_, "SMCC", "0..999", ""},
	{11, T_INT, R_, "SignalSNR", "", "dB"},
	{12, T_INT, R_, "LAC", "", ""},
	{13, T_INT, R_, "Coverage Enhancement Level", "0..4", ""},
};

/* /5 Firmware Update 1.2; version 1.1 is the same without resource 14 (kept last). */
static const struct builtin_res firmware_res[] = {
	{0, T_OPQ, W_ | MAND, "Package", "", ""},
	{1, T_STR, RW | MAND, "Package URI", "0..255", ""},
	{2, T_NONE, E_ | MAND, "Update", "", ""},
	{3, T_INT, R_ | MAND, "State", "0..3", ""},
	{5, T_INT, R_ | MAND, "Update Result", "0..11", ""},
	{6, T_STR, R_, "PkgName", "0..255", ""},
	{7, T_STR, R_, "PkgVersion", "0..255", ""},
	{8, T_INT, R_ | MULTI, "Firmware Update Protocol Support", "0..5", ""},
	{9, T_INT, R_ | MAND, "Firmware Update Delivery Method", "0..2", ""},
	{10, T_NONE, E_, "Cancel", "", ""},
	{11, T_INT, RW, "Severity", "0..2", ""},
	{12, T_TIME, R_, "Last State Change Time", "", ""},
	{13, T_UINT, RW, "Maximum Defer Period", "", "s"},
	{14, T_BOOL, RW, "Automatic Upgrade at Download", "", ""},
};

/* /6 Location 1.0 */
static const struct builtin_res location_res[] = {
	{0, T_FLT, R_ | MAND, "Latitude", "", "lat"},
	{1, T_FLT, R_ | MAND, "Longitude", "", "lon"},
	{2, T_FLT, R_, "Altitude", "", "m"},
	{3, T_FLT, R_, "Radius", "", "m"},
	{4, T_OPQ, R_, "Velocity", "", ""},
	{5, T_TIME, R_ | MAND, "Timestamp", "", ""},
	{6, T_FLT, R_, "Speed", "", "m/s"},
};

/* /7 Connectivity Statistics 1.0 */
static const struct builtin_res connstat_res[] = {
	{0, T_INT, R_, "SMS Tx Counter", "", ""},
	{1, T_INT, R_, "SMS Rx Counter", "", ""},
	{2, T_INT, R_, "Tx Data", "", ""},
	{3, T_INT, R_, "Rx Data", "", ""},
	{4, T_INT, R_, "Max Message Size", "", "B"},
	{5, T_INT, R_, "Average Message Size", "", "B"},
	{6, T_NONE, E_ | MAND, "Start", "", ""},
	{7, T_NONE, E_ | MAND, "Stop", "", ""},
	{8, T_INT, RW, "Collection Period", "", "s"},
};

/* /21 LwM2M OSCORE 2.0 */
static const struct builtin_res oscore_res[] = {
	{0, T_OPQ, NO | MAND, "OSCORE Master Secret", "", ""},
	{1, T_OPQ, NO | MAND, "OSCORE Sender ID", "", ""},
	{2, T_OPQ, NO | MAND, "OSCORE Recipient ID", "", ""},
	{3, T_INT, NO, "OSCORE AEAD Algorithm", "", ""},
	{4, T_INT, NO, "OSCORE HMAC Algorithm", "", ""},
	{5, T_OPQ, NO, "OSCORE Master Salt", "", ""},
	{6, T_OPQ, NO, "OSCORE ID Context", "", ""},
};

/* /23 LwM2M COSE 1.0 */
static const struct builtin_res cose_res[] = {
	{0, T_STR, NO | MAND, "KID", "", ""},
	{1, T_INT, NO | MAND, "AEAD Algorithm", "", ""},
	{2, T_STR, NO | MAND, "Key", "", ""},
};

/* /24 MQTT Server 1.0 */
static const struct builtin_res mqtt_res[] = {
	{0, T_BOOL, RW, "Will Retain", "", ""},
	{1, T_STR, RW, "Will Topic", "", ""},
	{2, T_STR, RW, "Will Message", "", ""},
	{3, T_BOOL, RW, "Clean Session", "", ""},
	{4, T_UINT, RW, "Will QoS", "0..3", ""},
	{5, T_UINT, RW, "Keep Alive", "0..65535", ""},
	{6, T_STR, RW | MAND, "Client Identifier", "", ""},
	{7, T_STR, RW, "User Name", "", ""},
	{8, T_OPQ, RW, "Password", "", ""},
};

/* /25 LwM2M Gateway 1.0 (Core TS E.12) */
static const struct builtin_res gateway1_res[] = {
	{0, T_STR, R_ | MAND, "Device ID", "", ""},
	{1, T_STR, RW | MAND, "Prefix", "", ""},
	{2, T_OLNK, R_, "Routing Table Entry", "", ""},
};

/* /25 LwM2M Gateway 2.0 (Gateway TS 1.1) */
static const struct builtin_res gateway2_res[] = {
	{0, T_STR, R_ | MAND, "Device ID", "", ""},
	{1, T_STR, R_ | MAND, "Prefix", "", ""},
	{3, T_CLNK, R_ | MAND, "IoT Device Objects", "", ""},
};

/* /26 LwM2M Gateway Routing 1.0 */
static const struct builtin_res routing_res[] = {
	{0, T_UINT, R_ | MAND, "LwM2M Object ID", "", ""},
	{1, T_CLNK, R_ | MAND, "Mapping Info", "", ""},
};

#define OBJ(id, multi, mand, name, ver, lwver, urn, res) \
	{id, multi, mand, name, ver, lwver, urn, res, COUNT(res)}

static const struct builtin_obj builtin_objects[] = {
	OBJ(0, true, true, "LWM2M Security", "1.2", "1.1", "urn:oma:lwm2m:oma:0:1.2", security_res),
	OBJ(1, true, true, "LwM2M Server", "1.2", "1.2", "urn:oma:lwm2m:oma:1:1.2", server_res),
	OBJ(2, true, false, "LwM2M Access Control", "1.1", "1.0", "urn:oma:lwm2m:oma:2:1.1", acl_res),
	OBJ(3, false, true, "Device", "1.2", "1.1", "urn:oma:lwm2m:oma:3:1.2", device_res),
	OBJ(4, false, false, "Connectivity Monitoring", "1.3", "1.1", "urn:oma:lwm2m:oma:4:1.3",
		connmon_res),
	{5, false, false, "Firmware Update", "1.1", "1.1", "urn:oma:lwm2m:oma:5:1.1",
		firmware_res, COUNT(firmware_res) - 1},
	OBJ(5, false, false, "Firmware Update", "1.2", "1.1", "urn:oma:lwm2m:oma:5:1.2", firmware_res),
	OBJ(6, false, false, "Location", "1.0", "1.0", "urn:oma:lwm2m:oma:6", location_res),
	OBJ(7, false, false, "Connectivity Statistics", "1.0", "1.0", "urn:oma:lwm2m:oma:7",
		connstat_res),
	OBJ(21, true, false, "LWM2M OSCORE", "2.0", "1.1", "urn:oma:lwm2m:oma:21:2.0", oscore_res),
	OBJ(23, true, false, "LwM2M COSE", "1.0", "1.2", "urn:oma:lwm2m:oma:23", cose_res),
	OBJ(24, true, false, "MQTT Server", "1.0", "1.2", "urn:oma:lwm2m:oma:24", mqtt_res),
	OBJ(25, true, false, "LwM2M Gateway", "1.0", "1.2", "urn:oma:lwm2m:oma:25", gateway1_res),
	OBJ(25, true, false, "LwM2M Gateway", "2.0", "1.1", "urn:oma:lwm2m:oma:25:2.0", gateway2_res),
	OBJ(26, true, false, "LwM2M Gateway Routing", "1.0", "1.2", "urn:oma:lwm2m:oma:26",
		routing_res),
};

static int copy_resource(struct obj_resource_def *dst, const struct builtin_res *src)
{
	dst->id = src->id;
	dst->type = (enum lwm2m_type)src->type;
	dst->operations = src->flags & (OBJ_OP_R | OBJ_OP_W | OBJ_OP_E);
	dst->multiple = (src->flags & MULTI) != 0;
	dst->mandatory = (src->flags & MAND) != 0;
	dst->name = strdup(src->name);
	dst->range_enum = strdup(src->range);
	dst->units = strdup(src->units);
	if(!dst->name || !dst->range_enum || !dst->units) return -LWM2M_ENOMEM;
	return 0;
}

static struct obj_def *copy_object(const struct builtin_obj *src)
{
	struct obj_def *def = calloc(1, sizeof(*def));

	if(!def) return NULL;
	def->id = src->id;
	def->multiple = src->multiple;
	def->mandatory = src->mandatory;
	def->builtin = true;
	def->name = strdup(src->name);
	def->version = strdup(src->version);
	def->lwm2m_version = strdup(src->lwm2m_version);
	def->urn = strdup(src->urn);
	def->res = calloc(src->res_count, sizeof(*def->res));
	if(!def->name || !def->version || !def->lwm2m_version || !def->urn || !def->res){
		obj_def_free(def);
		return NULL;
	}
	/* The tables are written in id order, so the copy is sorted already. */
	for(size_t i = 0; i < src->res_count; i++){
		def->res_count = i + 1;
		if(copy_resource(&def->res[i], &src->res[i]) != 0){
			obj_def_free(def);
			return NULL;
		}
	}
	return def;
}

int obj_builtin_load(struct obj_registry *reg)
{
	for(size_t i = 0; i < COUNT(builtin_objects); i++){
		struct obj_def *def = copy_object(&builtin_objects[i]);
		int rc;

		if(!def) return -LWM2M_ENOMEM;
		rc = obj_registry_add(reg, def, NULL);
		if(rc != 0){
			obj_def_free(def);
			return rc;
		}
	}
	return 0;
}

size_t obj_builtin_count(void)
{
	return COUNT(builtin_objects);
}
