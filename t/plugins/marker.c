/* A module whose constructor leaves a file behind (the path in
 * BBT_TEST_MARKER): the loader tests drop it into a plugin folder to see
 * whether bbtbench runs code it did not need. No descriptor: it is not a
 * bbtbench plugin, just a file someone put there. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

__attribute__((constructor)) static void leave_marker(void)
{
	const char *path = getenv("BBT_TEST_MARKER");
	FILE *f = path != NULL ? fopen(path, "w") : NULL;
	if (f != NULL)
		fclose(f);
}
