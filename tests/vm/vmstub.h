/* vmstub.h - the daemon services agent/helper.c calls (log_event, log_msg,
 * list_get/list_put/list_db, state_mode, the handler tables), implemented for the guest test
 * programs only, plus what those programs use to look at the results. */
#ifndef HMK_VMSTUB_H
#define HMK_VMSTUB_H

#include "helper.h"
#include "list.h"
#include "log.h"
#include "state.h"

/* Open the list file db with key file key as the list in force. */
int vmstub_list_open(const char *db, const char *key);
void vmstub_list_close(void);

/* Copy of the n-th event received so far (0 = oldest); false if none. */
bool vmstub_event(size_t n, struct hmd_event *out);
size_t vmstub_event_count(void);
/* Wait up to ms for an event with this op and verdict whose path ends in
 * suffix (NULL: any); true when found. */
bool vmstub_wait_event(const char *op, enum hmd_verdict v, const char *suffix, int ms);
/* Was a log_msg containing s seen? */
bool vmstub_msg_seen(const char *s);
/* log_msg lines go to stderr too when set (default on). */
extern bool vmstub_verbose;

/* What state_mode() returns to helper.c (default enforce). */
extern enum hmd_mode vmstub_state_mode;
extern list_checker vmstub_list_checker; /* helper.c's reload check */

#endif
