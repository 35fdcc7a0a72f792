/*
 * t/suggest.c - "did you mean": the nearest name up to case and '-'/'_',
 * within one edit for short names and two for longer ones.
 */
#include "config.h"

#include <stddef.h>

#include "core/suggest.h"
#include "tap.h"

static const char *const plugins[] = { "adam", "cmaes", "random", "sepcmaes", "zo-adam",
                                       "zo-sgd" };
static const char *const tasks[] = { "agnews", "dbpedia", "mrpc", "rte", "snli", "sst2", "toy",
                                     "yelp" };
static const char *const options[] = { "optimizer", "backend", "budget", "plugin-dir" };

#define N(a) (sizeof a / sizeof a[0])

static void is_suggestion(const char *typed, const char *const *names, size_t n,
                          const char *want)
{
	is_string(bbt_suggest(typed, names, n), want, "%s -> %s", typed, want ? want : "nothing");
}

int main(void)
{
	plan(14);
	is_suggestion("cmaess", plugins, N(plugins), "cmaes");
	is_suggestion("CMAES", plugins, N(plugins), "cmaes");
	is_suggestion("zo_adam", plugins, N(plugins), "zo-adam");
	is_suggestion("cmeas", plugins, N(plugins), "cmaes");
	is_suggestion("sst-2", tasks, N(tasks), "sst2");
	is_suggestion("SST2", tasks, N(tasks), "sst2");
	is_suggestion("optimzer", options, N(options), "optimizer");
	is_suggestion("plugin_dir", options, N(options), "plugin-dir");
	is_suggestion("cmaes", plugins, N(plugins), NULL);
	is_suggestion("rtx", tasks, N(tasks), "rte");
	is_suggestion("foo", tasks, N(tasks), NULL);
	is_suggestion("nelder-mead", plugins, N(plugins), NULL);
	ok(bbt_name_equiv("Zo_Adam", "zo-adam"), "names equal up to case and -/_");
	ok(!bbt_name_equiv("zo-adam", "zo-ada"), "but not up to a letter");
	return done_testing();
}
