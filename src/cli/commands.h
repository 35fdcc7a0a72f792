/*
 * commands.h - the subcommands of bbtbench. One table (main.c) of name,
 * function and summary drives dispatch and the --help listing; each
 * command parses its own options and returns the exit status:
 * 0 success, 1 the work failed, 2 usage or configuration error.
 */
#ifndef BBT_COMMANDS_H
#define BBT_COMMANDS_H

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
int bbt_cmd_grid(int argc, char **argv);     /* cmd_grid.c */
int bbt_cmd_table(int argc, char **argv);    /* cmd_table.c */
int bbt_cmd_plot(int argc, char **argv);     /* cmd_plot.c */
int bbt_cmd_convert(int argc, char **argv);  /* model/hf_convert.c */
int bbt_cmd_info(int argc, char **argv);     /* model/hf_convert.c */

struct option;

/* Log that getopt_long refused arg, an argument of command (NULL for run,
 * the default command), with the nearest of longopts' names: "grid:
 * unknown option '--jbos'; did you mean '--jobs'? see bbtbench grid --help". */
void bbt_log_unknown_option(const char *command, const char *arg, const struct option *longopts);

/* Exit status for a bbtbench status code. */
int bbt_exit_code(int status);
/* The same for loading a file the user named on the command line: one that
 * cannot be read is theirs to fix, a usage error (2), not a failed run. */
int bbt_exit_code_input(int status);

#endif /* BBT_COMMANDS_H */
