/* ctlc.c - the CLI's control-socket client (include/hmilock_ctl.h): owns the
 * one connection fd of the CLI process, its sequence numbers, the message
 * buffers and the admin password sent with authenticated requests. */
#include <errno.h>
#include <stdarg.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "hmilock.h"
#include "hmilock_ctl.h"

static struct {
	int fd;
	const char *path;
	uint32_t seq;
	unsigned char in[HMC_MAX_MSG];
	struct hmc_msg req, rep;
	char pw[HMC_PASSWORD_LEN];
	bool have_pw;
	const char *pwfile;
	char *errbuf; /* quiet: errors go here, not to stderr */
	size_t errlen;
} ctlc = {.fd = -1};

static void ctlc_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void ctlc_err(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ctlc.errbuf)
		snprintf(ctlc.errbuf, ctlc.errlen, "%s", msg);
	else
		util_err("%s", msg);
}

void ctlc_quiet(char *errbuf, size_t len)
{
	ctlc.errbuf = len ? errbuf : NULL;
	ctlc.errlen = len;
}

struct hmc_msg *ctlc_req(void)
{
	return &ctlc.req;
}

const struct hmc_msg *ctlc_rep(void)
{
	return &ctlc.rep;
}

void ctlc_password_file(const char *file)
{
	ctlc.pwfile = file;
}

int ctlc_connect(const struct cli *cli, unsigned timeout_s)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = timeout_s};
	int e;

	ctlc.path = cli->socket;
	if (strlen(ctlc.path) >= sizeof(sa.sun_path)) {
		ctlc_err("socket path too long: %s", ctlc.path);
		return EXIT_USAGE;
	}
	memcpy(sa.sun_path, ctlc.path, strlen(ctlc.path) + 1);
	ctlc.fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (ctlc.fd < 0) {
		ctlc_err("socket: %s", strerror(errno));
		return EXIT_INTERNAL;
	}
	setsockopt(ctlc.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(ctlc.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(ctlc.fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = errno;
		ctlc_err("cannot reach hmilockd at %s: %s%s", ctlc.path, strerror(e),
		         e == ENOENT || e == ECONNREFUSED ? " (is hmilockd running?)"
		         : e == EACCES ? " (the control socket is root-only; the events socket "
		                         "is for the members of its group)"
		                       : "");
		close(ctlc.fd);
		ctlc.fd = -1;
		return EXIT_INTERNAL;
	}
	ctlc.seq = (uint32_t)getpid() << 8;
	return EXIT_OK;
}

void ctlc_close(void)
{
	if (ctlc.fd >= 0)
		close(ctlc.fd);
	ctlc.fd = -1;
	explicit_bzero(ctlc.pw, sizeof(ctlc.pw));
	ctlc.have_pw = false;
}

/* Receive one reply into ctlc.in. The daemon may have refused the
 * connection and closed it (root-only, too many clients): its refusal is
 * still queued, behind an ECONNRESET when our request was left unread. */
static ssize_t ctlc_recv(bool sent)
{
	ssize_t n;
	int i;

	for (i = 0; i < 3; i++) {
		do
			n = recv(ctlc.fd, ctlc.in, sizeof(ctlc.in),
			         MSG_TRUNC | (sent ? 0 : MSG_DONTWAIT));
		while (n < 0 && errno == EINTR);
		if (n >= 0 || errno != ECONNRESET)
			break;
	}
	return n;
}

int ctlc_call(uint16_t type)
{
	const char *why;
	bool sent;
	ssize_t n;
	int e = 0;

	hmc_hdr_init(&ctlc.req.h, type, HMC_REQUEST, ++ctlc.seq);
	sent =
	    send(ctlc.fd, &ctlc.req, ctlc.req.h.length, MSG_NOSIGNAL) == (ssize_t)ctlc.req.h.length;
	if (!sent)
		e = errno;
	n = ctlc_recv(sent);
	if (n <= 0 && !sent) {
		ctlc_err("sending to hmilockd at %s: %s", ctlc.path, strerror(e ? e : EIO));
		return EXIT_INTERNAL;
	}
	if (n <= 0) {
		ctlc_err("no reply from hmilockd at %s: %s", ctlc.path,
		         n == 0            ? "connection closed"
		         : errno == EAGAIN ? "timed out"
		                           : strerror(errno));
		return EXIT_INTERNAL;
	}
	if (hmc_parse(ctlc.in, (size_t)n, HMC_REPLY, &ctlc.rep, &why) < 0) {
		ctlc_err("malformed reply from hmilockd at %s: %s (hmilock speaks protocol "
		         "version %d)",
		         ctlc.path, why, HMC_VERSION);
		return EXIT_INTERNAL;
	}
	if (ctlc.rep.h.seq != ctlc.seq &&
	    !(ctlc.rep.h.type == HMC_REP_RESULT && ctlc.rep.h.seq == 0)) {
		ctlc_err("reply from hmilockd out of sequence (%u, expected %u)", ctlc.rep.h.seq,
		         ctlc.seq);
		return EXIT_INTERNAL;
	}
	return EXIT_OK;
}

int ctlc_call_auth(uint16_t type, struct hmd_ctl_auth *auth)
{
	int rc, attempt;

	if (!ctlc.have_pw && (ctlc.pwfile || getenv("HMILOCK_PASSWORD"))) {
		rc = util_get_password(ctlc.pwfile, "admin password: ", ctlc.pw, sizeof(ctlc.pw));
		if (rc)
			return rc;
		ctlc.have_pw = true;
	}
	for (attempt = 0;; attempt++) {
		memcpy(auth->password, ctlc.pw, sizeof(ctlc.pw));
		rc = ctlc_call(type);
		explicit_bzero(auth, sizeof(*auth));
		if (rc || ctlc.have_pw || attempt || ctlc.rep.h.type != HMC_REP_RESULT ||
		    ctlc.rep.u.result.error != -ENOKEY)
			return rc;
		rc = util_get_password(NULL, "admin password: ", ctlc.pw, sizeof(ctlc.pw));
		if (rc)
			return rc;
		ctlc.have_pw = true;
	}
}

/* A RESULT error where another reply was expected (or any error). */
static int ctlc_refused(bool json)
{
	const struct hmc_result *r = &ctlc.rep.u.result;
	json_object *o;

	if (json) {
		o = json_object_new_object();
		json_object_object_add(o, "ok", json_object_new_boolean(0));
		json_object_object_add(o, "error", json_object_new_string(strerror(-r->error)));
		json_object_object_add(o, "message", json_object_new_string(r->msg));
		printf("%s\n", json_object_to_json_string_ext(o, LIST_JSON_FLAGS));
		json_object_put(o);
	}
	util_err("hmilockd: %s", r->msg[0] ? r->msg : strerror(-r->error));
	return EXIT_NEGATIVE;
}

int ctlc_expect(uint16_t want, bool json)
{
	if (ctlc.rep.h.type == HMC_REP_RESULT &&
	    (ctlc.rep.u.result.error || want != HMC_REP_RESULT))
		return ctlc_refused(json);
	if (ctlc.rep.h.type != want) {
		util_err("unexpected reply type %#x from hmilockd", ctlc.rep.h.type);
		return EXIT_INTERNAL;
	}
	return EXIT_OK;
}

int ctlc_request(uint16_t type, uint16_t want, bool json)
{
	int rc = ctlc_call(type);

	return rc ? rc : ctlc_expect(want, json);
}

int ctlc_print_result(bool json, const char *extra_key, const char *extra)
{
	json_object *o;

	if (!json) {
		printf("%s\n", ctlc.rep.u.result.msg);
		return EXIT_OK;
	}
	o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	if (extra_key)
		json_object_object_add(o, extra_key, json_object_new_string(extra));
	json_object_object_add(o, "message", json_object_new_string(ctlc.rep.u.result.msg));
	printf("%s\n", json_object_to_json_string_ext(o, LIST_JSON_FLAGS));
	json_object_put(o);
	return EXIT_OK;
}
