/* A loadable module that is not a bbtbench plugin: no descriptor symbol. */
#include "config.h"

int not_a_plugin(void);

int not_a_plugin(void)
{
	return 42;
}
