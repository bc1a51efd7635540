/* written.h - which of hmilock's own files hmilockd wrote anew (owned by written.c). */
#ifndef HMD_WRITTEN_H
#define HMD_WRITTEN_H

#include <stdbool.h>

/* hmilockd itself wrote the file of this kind (HMK_PF_* of
 * kmod/hmilock_abi.h) anew: the next protection pass takes the new inode
 * even while the box is locked (helper.c). Any thread. */
void written_note(int kind);
bool written_pending(void);
unsigned written_take(void); /* the kinds noted (bit 1 << kind), cleared */

#endif
