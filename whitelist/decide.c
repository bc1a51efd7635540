/* decide.c - the decision itself, as a pure function of what the reader and
 * the worker found: no state, no I/O, no locks. Any thread may call it;
 * hmilockd's exec gate and `hmilock check` both do, and
 * tests/unit/test_decide.c pins it down with a table. */
#include <string.h>

#include "decide.h"

/* What the list says about the file, before the mode is applied. */
enum hmd_reason decide_reason(const struct decide_in *in)
{
	if (in->queue_full)
		return HMD_R_QUEUE_FULL;
	if (in->error)
		return HMD_R_ERROR;
	if (!in->regular)
		return HMD_R_NOT_REGULAR;
	if (in->too_large)
		return HMD_R_TOO_LARGE;
	if (in->match == HMD_MATCH_HASH) {
		/* Any file whose content is on the list, wherever it lives,
		 * deleted or not. A listed path with other content is
		 * reported as a mismatch, which says more than "not listed". */
		if (in->hash_listed)
			return HMD_R_LISTED;
		if (in->resolved && in->path_listed)
			return HMD_R_HASH_MISMATCH;
		return HMD_R_NOT_LISTED;
	}
	/* match = path+hash: the path must be known and carry this hash, and
	 * be this very file where hmilockd looks: the path is read back from
	 * the event's fd, i.e. as the subject's mount namespace sees it, and a
	 * user's copy bind-mounted over a listed path must not pass for it. */
	if (!in->resolved)
		return HMD_R_UNRESOLVED;
	if (!in->path_listed || in->path_elsewhere)
		return in->layer_listed ? HMD_R_LISTED : HMD_R_NOT_LISTED;
	return in->path_hash_eq ? HMD_R_LISTED : HMD_R_HASH_MISMATCH;
}

static bool decide_is_error(enum hmd_reason r)
{
	return r == HMD_R_ERROR || r == HMD_R_QUEUE_FULL;
}

void decide_verdict(enum hmd_mode mode, enum hmd_on_error on_error, enum hmd_reason reason,
                    struct decide_out *out)
{
	bool refuse;

	out->reason = reason;
	out->cache = false;
	out->ignore = false;
	out->approve = false;
	if (reason == HMD_R_LISTED) {
		/* Listed files run in every mode; allows are counted, not logged. */
		out->verdict = HMD_V_ALLOW;
		out->log = false;
		/* The kernel helper checks the same exec right after our
		 * allow: a listed file it does not know yet (a copy under
		 * match = hash, a file changed back) is approved there first. */
		out->approve = true;
		return;
	}
	/* Every refusal, would-be refusal and internal error is logged. */
	out->log = true;
	refuse = decide_is_error(reason) ? on_error == HMD_ON_ERROR_DENY : true;
	if (!refuse)
		out->verdict = HMD_V_ALLOW;
	else if (mode == HMD_MODE_ENFORCE)
		out->verdict = HMD_V_DENY;
	else if (mode == HMD_MODE_AUDIT)
		out->verdict = HMD_V_WOULD_DENY;
	else
		/* Maintenance: unlisted programs run and are logged; issue 5
		 * records them for approval. */
		out->verdict = HMD_V_ALLOW;
}

/* A trusted update (update.c) runs what it just installed: a refusal of a
 * file that the open session wrote, exec'd from inside its cgroup, becomes
 * an allow (still logged, with the reason). Errors stay errors, and only a
 * regular file can have been written by the session. */
static void decide_update_override(const struct decide_in *in, struct decide_out *out)
{
	if (out->verdict != HMD_V_DENY || decide_is_error(out->reason) || !in->regular ||
	    !in->updater_wrote)
		return;
	out->verdict = HMD_V_ALLOW;
	out->log = true;
}

void decide(const struct decide_in *in, struct decide_out *out)
{
	enum hmd_reason r = decide_reason(in);

	decide_verdict(in->mode, in->on_error, r, out);
	decide_update_override(in, out);
	/* Remember outcomes that depend only on the inode's content (and,
	 * for a multiply linked inode under path+hash, on the path, which
	 * the cache key then carries). Errors are never remembered. */
	out->cache = r == HMD_R_LISTED || r == HMD_R_NOT_LISTED || r == HMD_R_HASH_MISMATCH ||
	             r == HMD_R_UNRESOLVED || r == HMD_R_TOO_LARGE;
	/* An ignore mark is per inode, blind to the path: under path+hash a
	 * second link at an unlisted path would slip through it - unless
	 * every link is a listed path with this very hash and no one but root
	 * can make another (links_listed; the reasoning is at
	 * exec_links_listed in agent/exec.c). */
	out->ignore = r == HMD_R_LISTED &&
	              !(in->multi_link && in->match == HMD_MATCH_PATH_HASH && !in->links_listed);
}

void decide_lookup(const struct wl_db *db, const char *path, const uint8_t sha[WL_SHA256_LEN],
                   struct decide_in *in)
{
	struct wl_rec rec;

	if (in->resolved && wl_db_find_path(db, path, &rec) == 0) {
		in->path_listed = true;
		in->path_hash_eq = !memcmp(rec.sha256, sha, WL_SHA256_LEN);
	}
	if (in->match == HMD_MATCH_HASH && wl_db_find_hash(db, sha, &rec) == 0)
		in->hash_listed = true;
}
