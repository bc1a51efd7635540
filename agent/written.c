/* written.c - the kinds of hmilock's own files (HMK_PF_*) that hmilockd has
 * written anew since the helper's last protection pass: the state file
 * (state.c), the journal (journal.c), the list and its previous generation
 * (window.c). helper.c takes them: while the box is locked a new inode at
 * such a path is trusted only when it is hmilockd's own. Owns one atomic
 * bit set; knows none of its writers or its reader. */
#include <stdatomic.h>

#include "written.h"

static atomic_uint written_kinds;

void written_note(int kind)
{
	atomic_fetch_or(&written_kinds, 1u << kind);
}

bool written_pending(void)
{
	return atomic_load(&written_kinds) != 0;
}

unsigned written_take(void)
{
	return atomic_exchange(&written_kinds, 0);
}
