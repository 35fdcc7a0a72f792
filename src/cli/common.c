/*
 * common.c - what the commands share: exit codes, the unknown-option
 * message, and the options of every plugin-using command.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "core/log.h"
#include "core/suggest.h"
#include "core/util.h"

int bbt_exit_code(int status)
{
	switch (status) {
	case BBT_OK:
	case BBT_STOP:
		return BBT_EXIT_OK;
	case BBT_EINVAL:
	case BBT_ENOTFOUND:
	case BBT_EFORMAT:
	case BBT_EABI:
	case BBT_ENOTSUP:
		return BBT_EXIT_USAGE;
	default:
		return BBT_EXIT_FAILED;
	}
}

int bbt_exit_code_input(int status)
{
	return status == BBT_EIO ? BBT_EXIT_USAGE : bbt_exit_code(status);
}

void bbt_log_unknown_option(const char *command, const char *arg, const struct option *longopts)
{
	const char *names[128];
	size_t n = 0;
	while (n < sizeof names / sizeof names[0] && longopts[n].name != NULL) {
		names[n] = longopts[n].name;
		n++;
	}
	char typed[64] = "";
	if (strncmp(arg, "--", 2) == 0)   /* "--optimzer=cmaes": optimzer */
		snprintf(typed, sizeof typed, "%.*s", (int)strcspn(arg + 2, "="), arg + 2);
	const char *guess = typed[0] ? bbt_suggest(typed, names, n) : NULL;
	const char *prefix = command ? command : "", *colon = command ? ": " : "";
	const char *space = command ? " " : "";
	if (guess != NULL)
		bbt_log(BBT_LOG_ERROR, NULL,
		        "%s%sunknown option '%s'; did you mean '--%s'? (see bbtbench %s%s--help)",
		        prefix, colon, arg, guess, prefix, space);
	else
		bbt_log(BBT_LOG_ERROR, NULL, "%s%sunknown option '%s'; see bbtbench %s%s--help",
		        prefix, colon, arg, prefix, space);
}

int bbt_cli_option_error(const char *command, int opt, const char *arg,
                         const struct option *longopts)
{
	if (opt == ':') {
		const char *prefix = command ? command : "", *colon = command ? ": " : "";
		bbt_log(BBT_LOG_ERROR, NULL, "%s%s%s needs a value; see bbtbench %s%s--help", prefix,
		        colon, arg, prefix, command ? " " : "");
	} else {
		bbt_log_unknown_option(command, arg, longopts);
	}
	return BBT_EXIT_USAGE;
}

int bbt_cli_common_option(struct bbt_cli_common *c, int opt, const char *arg)
{
	switch (opt) {
	case BBT_CLI_OPT_PLUGIN_DIR:
		if (c->n_plugin_dirs == sizeof c->plugin_dirs / sizeof c->plugin_dirs[0]) {
			bbt_log(BBT_LOG_ERROR, NULL, "too many --plugin-dir options (at most 16)");
			return -1;
		}
		c->plugin_dirs[c->n_plugin_dirs++] = arg;
		return 1;
	case 'q':
		bbt_log_set_level(BBT_LOG_WARNING);
		return 1;
	case 'v':
		bbt_log_set_level(BBT_LOG_DEBUG);
		return 1;
	}
	return 0;
}

bbt_registry_t *bbt_cli_open_registry(const struct bbt_cli_common *c)
{
	bbt_registry_t *reg = bbt_registry_alloc();
	if (reg == NULL || bbt_registry_add_default_dirs(reg, c->plugin_dirs, c->n_plugin_dirs) < 0) {
		bbt_log(BBT_LOG_ERROR, NULL, "out of memory");
		bbt_registry_free(reg);
		return NULL;
	}
	return reg;
}
