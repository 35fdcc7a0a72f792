/*
 * runconfig.h - the settings of one run, from defaults, an INI file and the
 * command line (in that order; the later wins).
 *
 * One table (runconfig.c) lists every run setting with its type, default,
 * range and help; it drives the defaults, the INI [run] section, the
 * command-line options (--NAME VALUE), the --help text, config.ini and
 * result.json, so a setting is declared in one place.
 *
 * INI layout:
 *
 *     [run]                 run settings, same names as the long options
 *     task = sst2
 *     budget = 8000
 *     [optimizer]           options of whichever optimizer runs
 *     [optimizer.cmaes]     options that apply only when cmaes runs
 *     [backend]             options of the backend
 *     [backend.synthetic]
 *
 * INI syntax (bbt_ini_scan_file, also for grid files): UTF-8, an optional
 * byte-order mark, LF or CRLF lines of any length; ';' or '#' starts a
 * comment, at the start of a line or after a value; [SECTION] names are
 * caseless; KEY = VALUE, the value trimmed, quoted ('...' or "...") to keep
 * a ';' or '#'. Every key is inside a section, and a key is set once per
 * section name.
 *
 * Plugin options on the command line: -O optimizer.KEY=V, -O backend.KEY=V,
 * or -O KEY=V for a key exactly one of the two selected plugins declares.
 */
#ifndef BBT_RUNCONFIG_H
#define BBT_RUNCONFIG_H

#include <stddef.h>
#include <stdio.h>
#include <bbtbench/plugin.h>
#include <jansson.h>
#include "plugin/options.h"

struct bbt_config {
	/* [run] settings (see the table in runconfig.c for meaning and defaults) */
	char *optimizer;
	char *backend;
	char *model;
	char *task;
	char *data_dir;
	char *split_source;    /* auto | full | kshot */
	char *out;             /* results root folder */
	char *experiment;      /* sub-folder of out; "" = the task's name */
	char *loss;            /* ce | hinge | perf */
	char *projection;      /* normal | uniform */
	char *method;          /* tune | manual | calibrated | icl */
	char *calibrate;       /* no | yes: also report the tuned prompt calibrated */
	char *grad_check;      /* no | yes: log the ZO estimate against the true gradient */
	char *init_prompt;     /* a run folder whose saved prompt starts this run; "" none */
	char *prompt_layers;   /* 1 | all: a prompt per layer (BBTv2) */
	char *schedule;        /* layerwise: the order deep prompts' layers are tuned in */
	long dim;
	long prompt_len;
	long search_space;     /* K candidates per position of a discrete prompt */
	long budget;
	long popsize;
	long k_shot;
	long eval_every;       /* 0: derived, see bbt_config_eval_every */
	long seed;
	long data_seed;        /* -1: the run seed */
	long icl_shots;        /* in-context demonstrations per class */
	double sigma;
	double alpha;

	/* Plugin options as given; resolved against the plugins' tables by
	 * bbt_config_plugin_options. */
	bbt_kvlist_t ini_plugin_opts;  /* "optimizer.k", "optimizer.NAME.k", "backend..." */
	bbt_kvlist_t cli_plugin_opts;  /* same, plus bare "k" */

	/* Where each [run] setting came from, for messages ("default",
	 * "command line", "FILE:LINE"); parallel to the table. */
	char **origin;
};

/* Defaults (data_dir from $BBTBENCH_DATA when set). 0 or BBT_ENOMEM. */
int bbt_config_init(struct bbt_config *cfg);
void bbt_config_release(struct bbt_config *cfg);

/* Set one [run] setting from text ("dim", "500"); key may use '-' or '_'.
 * BBT_ENOTFOUND for an unknown key, BBT_EINVAL for a bad value; the
 * message names the origin. */
int bbt_config_set(struct bbt_config *cfg, const char *key, const char *value,
                   const char *origin, char *err, size_t errlen);

/* Where setting `key` came from ("default", "command line", "FILE:LINE");
 * NULL for a key that is not a run setting. */
const char *bbt_config_origin(const struct bbt_config *cfg, const char *key);

/* When setting `key` came from a file, prefix err with its FILE:LINE, so
 * that a name found nowhere (a task, a plugin) points at the line to fix. */
void bbt_config_error_origin(const struct bbt_config *cfg, const char *key, char *err,
                             size_t errlen);

/* Record a plugin option from the command line ("-O key=value" text). */
int bbt_config_add_cli_option(struct bbt_config *cfg, const char *assignment,
                              char *err, size_t errlen);

/* One line of an INI file that says something: a [section] header (key and
 * value NULL) or a KEY = VALUE inside a section. */
struct bbt_ini_line {
	const char *section;   /* the current section's name, lowercased */
	const char *key;       /* as written, trimmed */
	const char *value;     /* trimmed, unquoted, comment dropped */
	size_t line;           /* 1-based */
};

/* Called for each such line in file order; a status other than BBT_OK
 * stops the scan and is returned by it. */
typedef int bbt_ini_line_fn(const struct bbt_ini_line *l, void *ctx, char *err, size_t errlen);

/* Read the INI file at path and call each() per line. Errors name FILE:LINE:
 * not UTF-8, a malformed line, a key outside any section (BBT_EFORMAT). */
int bbt_ini_scan_file(const char *path, bbt_ini_line_fn *each, void *ctx, char *err,
                      size_t errlen);

/* Read an INI file into cfg. Errors name the file and line. */
int bbt_config_load_ini(struct bbt_config *cfg, const char *path, char *err, size_t errlen);
/* The same, leaving the sections named in skip (space-separated; NULL:
 * none) to the caller: a grid file's [grid] and [report] sections are read
 * by grid.c and report.c. */
int bbt_config_load_ini_except(struct bbt_config *cfg, const char *path, const char *skip,
                               char *err, size_t errlen);

/* The options given for the selected plugin of `kind` named `name`,
 * in precedence order, with prefixes stripped, into `out` (cleared first).
 * `other_spec` is the other plugin's table: a bare -O key that neither
 * plugin declares, or both do, is an error. */
int bbt_config_plugin_options(const struct bbt_config *cfg, enum bbt_plugin_kind kind,
                              const char *name, const struct bbt_option_spec *spec,
                              const struct bbt_option_spec *other_spec, bbt_kvlist_t *out,
                              char *err, size_t errlen);

/* The [run] settings as INI lines ("key = value\n"), and as a JSON object. */
int bbt_config_write_run_section(const struct bbt_config *cfg, FILE *f);
json_t *bbt_config_to_json(const struct bbt_config *cfg);

/* The effective --eval-every: as set, or for 0 the default that follows
 * from --budget and --popsize (runconfig.c). config.ini, result.json's
 * settings and the run id record this value, so a run that leaves it at 0
 * has the id of one that sets it to what it came to. */
long bbt_config_eval_every(const struct bbt_config *cfg);

/* The effective data seed (data_seed, or seed when -1). */
long bbt_config_data_seed(const struct bbt_config *cfg);

/* The long options of [run], for getopt_long and --help. */
size_t bbt_config_key_count(void);
const char *bbt_config_key_name(size_t i);
const char *bbt_config_key_help(size_t i);
const char *bbt_config_key_default(size_t i);
const char *bbt_config_key_metavar(size_t i);
/* A yes/no setting: on the command line `--NAME` alone means yes. */
int bbt_config_key_is_flag(size_t i);

#endif /* BBT_RUNCONFIG_H */
