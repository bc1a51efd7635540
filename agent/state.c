/* state.c - run-time state that the control socket reads or changes: the
 * mode (an atomic any thread reads on every decision), readiness, start
 * time, and the sandbox/helper descriptions. The mode is written only by
 * state_set_mode() (main thread: config at start, control socket later). */
#include <syslog.h>

#include "hmilockd.h"

struct hmd_state hmd_state;

int state_mode(void)
{
	return atomic_load_explicit(&hmd_state.mode, memory_order_relaxed);
}

/*
 * Switching mode needs no flush, and loses no event:
 *  - the verdict cache stores list outcomes (listed, not listed, hash
 *    mismatch, unresolved), and every answer - cache hit or fresh - applies
 *    the mode read at answer time (decide_verdict), so an unlisted file
 *    cached in audit mode is denied on its next exec after the switch to
 *    enforce;
 *  - ignore marks are placed only after allowing a *listed* file, and listed
 *    files are allowed in every mode, so no ignore mark encodes a verdict
 *    that a mode change could invalidate;
 *  - an event being decided while the mode changes is answered by the mode
 *    its worker read, once; nothing is dropped or answered twice.
 */
void state_set_mode(enum hmd_mode m)
{
	int old;

	if ((unsigned)m >= HMD_MODE__MAX)
		return;
	old = atomic_exchange(&hmd_state.mode, (int)m);
	if (old == (int)m)
		return;
	log_msg(LOG_NOTICE, "mode changed from %s to %s", config_mode_name(old),
	        config_mode_name(m));
	/* The kernel helper keeps its own copy (no-op when inactive). */
	if (helper_set_mode(m) < 0)
		log_msg(LOG_ERR, "kernel helper did not take mode %s", config_mode_name(m));
}
