/*
 * commands.h - the subcommands of bbtbench, one file each (cmd_NAME.c),
 * and what they share (common.c). One table (main.c) of name, function
 * and summary drives dispatch and the --help listing; each command parses
 * its own options and returns the exit status: 0 success, 1 the work
 * failed, 2 usage or configuration error.
 */
#ifndef BBT_COMMANDS_H
#define BBT_COMMANDS_H

#include <stddef.h>
#include "plugin/registry.h"

enum {
	BBT_EXIT_OK = 0,
	BBT_EXIT_FAILED = 1,
	BBT_EXIT_USAGE = 2,
};

struct bbt_command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

int bbt_cmd_run(int argc, char **argv);
int bbt_cmd_list(int argc, char **argv);
int bbt_cmd_tasks(int argc, char **argv);
int bbt_cmd_grid(int argc, char **argv);
int bbt_cmd_table(int argc, char **argv);
int bbt_cmd_plot(int argc, char **argv);
int bbt_cmd_report(int argc, char **argv);
int bbt_cmd_convert(int argc, char **argv);
int bbt_cmd_info(int argc, char **argv);
int bbt_cmd_serve(int argc, char **argv);
int bbt_cmd_eval(int argc, char **argv);
int bbt_cmd_predict(int argc, char **argv);

struct option;

/* Log that getopt_long refused arg, an argument of command (NULL for run,
 * the default command), with the nearest of longopts' names: "grid:
 * unknown option '--jbos'; did you mean '--jobs'? see bbtbench grid --help". */
void bbt_log_unknown_option(const char *command, const char *arg, const struct option *longopts);

/* What getopt_long's ':' (arg lacks its value) or '?' (arg is unknown)
 * means, logged as bbt_log_unknown_option does; returns BBT_EXIT_USAGE. */
int bbt_cli_option_error(const char *command, int opt, const char *arg,
                         const struct option *longopts);

/* Exit status for a bbtbench status code. */
int bbt_exit_code(int status);
/* The same for loading a file the user named on the command line: one that
 * cannot be read is theirs to fix, a usage error (2), not a failed run. */
int bbt_exit_code_input(int status);

/* The options every plugin-using command (run, list) takes: --plugin-dir,
 * -q and -v. A command's own getopt values start above
 * BBT_CLI_OPT_PLUGIN_DIR. */
enum { BBT_CLI_OPT_PLUGIN_DIR = 1000 };

struct bbt_cli_common {
	const char *plugin_dirs[16];   /* --plugin-dir values, in order (borrowed from argv) */
	size_t n_plugin_dirs;
};

/* The shared options' entries, last in a command's getopt_long table
 * (before its terminator), so every command spells them the same. */
#define BBT_CLI_COMMON_LONGOPTS                                               \
	{ "plugin-dir", required_argument, NULL, BBT_CLI_OPT_PLUGIN_DIR },    \
	{ "quiet", no_argument, NULL, 'q' },                                  \
	{ "verbose", no_argument, NULL, 'v' },                                \
	{ "help", no_argument, NULL, 'h' }

/* Take getopt's opt if it is a shared option: 1 taken, 0 not shared,
 * -1 a usage error (logged). */
int bbt_cli_common_option(struct bbt_cli_common *c, int opt, const char *arg);
/* The plugin loader over the search path; nothing is opened yet. NULL on
 * out of memory (logged). */
bbt_registry_t *bbt_cli_open_registry(const struct bbt_cli_common *c);

#endif /* BBT_COMMANDS_H */
