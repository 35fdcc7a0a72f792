/*
 * t/config.c - run settings: defaults, INI files, command-line precedence,
 * plugin option routing and bad INI input.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/runconfig.h"
#include "tap.h"
#include "core/util.h"

static char dir[] = "/tmp/bbt-config-XXXXXX";

static char *write_ini(const char *name, const char *text)
{
	char *path = bbt_path_join(dir, name);
	bbt_file_write_atomic(path, text, strlen(text), NULL, 0);
	return path;
}

static const struct bbt_option_spec opt_spec[] = {
	{ "q", BBT_OPT_INT, "10", NULL, 0, 0, "" }, { "lr", BBT_OPT_DOUBLE, "0.1", NULL, 0, 0, "" }, { 0 },
};
static const struct bbt_option_spec be_spec[] = {
	{ "hidden", BBT_OPT_INT, "64", NULL, 0, 0, "" }, { "lr", BBT_OPT_DOUBLE, "1", NULL, 0, 0, "" }, { 0 },
};

int main(void)
{
	plan(54);
	if (mkdtemp(dir) == NULL)
		skip_all("cannot make a temporary folder");
	unsetenv("BBTBENCH_DATA");
	char err[BBT_ERRLEN];
	struct bbt_config cfg;

	is_int(bbt_config_init(&cfg), BBT_OK, "defaults");
	is_int(cfg.dim, 500, "dim defaults to BBT's d = 500");
	is_int(cfg.prompt_len, 50, "P defaults to 50");
	is_int(cfg.popsize, 20, "population 20");
	is_int(cfg.budget, 8000, "budget 8000");
	is_string(cfg.loss, "ce", "cross-entropy");
	is_int(bbt_config_data_seed(&cfg), 42, "data seed follows the run seed");

	char *ini = write_ini("a.ini",
	                      "; a comment\n[run]\ndim = 100\nbudget = 400\nloss = hinge\n"
	                      "prompt_len = 10\n\n[optimizer]\nq = 5\n[optimizer.cmaes]\nq = 7\n"
	                      "[backend]\nhidden = 32\n");
	is_int(bbt_config_load_ini(&cfg, ini, err, sizeof err), BBT_OK, "INI loads");
	is_int(cfg.dim, 100, "INI sets dim");
	is_int(cfg.prompt_len, 10, "underscore spelling accepted");
	/* command line after the INI file wins */
	is_int(bbt_config_set(&cfg, "dim", "200", "command line", err, sizeof err), BBT_OK, "cli set");
	is_int(cfg.dim, 200, "command line wins over INI");
	is_int(cfg.budget, 400, "INI value kept where the command line is silent");
	is_string(cfg.loss, "hinge", "choice from INI");

	bbt_kvlist_t out = { 0 };
	is_int(bbt_config_plugin_options(&cfg, BBT_PLUGIN_OPTIMIZER, "zo", opt_spec, be_spec, &out,
	                                 err, sizeof err), BBT_OK, "optimizer options");
	is_string(bbt_kvlist_get(&out, "q")->value, "5", "[optimizer] applies to any optimizer");
	bbt_config_plugin_options(&cfg, BBT_PLUGIN_OPTIMIZER, "cmaes", opt_spec, be_spec, &out, err,
	                          sizeof err);
	is_string(bbt_kvlist_get(&out, "q")->value, "7", "[optimizer.cmaes] beats [optimizer] for cmaes");
	bbt_config_add_cli_option(&cfg, "optimizer.q=9", err, sizeof err);
	bbt_config_plugin_options(&cfg, BBT_PLUGIN_OPTIMIZER, "cmaes", opt_spec, be_spec, &out, err,
	                          sizeof err);
	is_string(bbt_kvlist_get(&out, "q")->value, "9", "-O optimizer.q beats the INI file");
	bbt_config_plugin_options(&cfg, BBT_PLUGIN_BACKEND, "synthetic", be_spec, opt_spec, &out,
	                          err, sizeof err);
	is_string(bbt_kvlist_get(&out, "hidden")->value, "32", "[backend] routed to the backend");
	is_int(bbt_kvlist_get(&out, "q") == NULL, 1, "optimizer keys not given to the backend");

	bbt_config_add_cli_option(&cfg, "lr=0.5", err, sizeof err);
	is_int(bbt_config_plugin_options(&cfg, BBT_PLUGIN_BACKEND, "synthetic", be_spec, opt_spec,
	                                 &out, err, sizeof err), BBT_EINVAL,
	       "a bare -O key both plugins declare is ambiguous");
	like(err, "write -O optimizer.lr=... or -O backend.lr=...", "and the message says how to fix it");
	is_int(bbt_config_add_cli_option(&cfg, "novalue", err, sizeof err), BBT_EINVAL, "-O without = refused");
	is_int(bbt_config_add_cli_option(&cfg, "model.x=1", err, sizeof err), BBT_EINVAL, "-O with a bad prefix refused");
	bbt_kvlist_clear(&out);
	bbt_config_release(&cfg);
	free(ini);

	/* Bad INI files: one clear line naming file and line. */
	struct { const char *text, *want, *what; } bad[] = {
		{ "[run]\ndim = 100\nbudgte = 5\n", "bad.ini:3: [run] has no setting 'budgte'", "unknown [run] key" },
		{ "[run]\ndim = many\n", "bad.ini:2: dim 'many': expected an integer", "bad number" },
		{ "[run]\nloss = l2\n", "bad.ini:2: loss 'l2': expected one of ce|hinge|perf", "bad choice" },
		{ "[run]\n[plots]\nx = 1\n", "bad.ini:2: unknown section [plots]", "unknown section" },
		{ "[run]\ndim 100\n", "bad.ini:2: 'dim 100': expected [SECTION] or KEY = VALUE",
		  "syntax error" },
		{ "[run]\n= 100\n", "bad.ini:2: '= 100': expected [SECTION] or KEY = VALUE",
		  "a value without a key" },
		{ "[run]\ntask = caf\xe9\n", "bad.ini:2: not UTF-8 text", "non-UTF-8" },
		{ "; budget\nbudget = 5\n[run]\n", "bad.ini:2: 'budget' is outside any section",
		  "a key before the first [section]" },
		{ "[run]\nbudget = 5\n\nbudget = 7\n",
		  "bad.ini:4: 'budget' is set twice in [run] (first on line 2)", "a duplicate key" },
		{ "[run]\nk-shot = 4\n[run]\nK_SHOT = 8\n",
		  "bad.ini:4: 'K_SHOT' is set twice in [run] (first on line 2)",
		  "one setting in two spellings, in a repeated section" },
		{ "[optimizer.cmaes]\nq = 1\n[Optimizer.CMAES]\nq = 2\n",
		  "bad.ini:4: 'q' is set twice in [optimizer.cmaes] (first on line 2)",
		  "a duplicate plugin option" },
		{ "[]\nbudget = 5\n", "bad.ini:1: a section needs a name", "an empty section" },
		{ "[run\nbudget = 5\n", "bad.ini:1: '[run': expected ']'", "an unclosed section" },
		{ "[run] budget = 5\n", "bad.ini:1: '[run] budget = 5': expected ']' at the end",
		  "text after a section header" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *path = write_ini("bad.ini", bad[i].text);
		bbt_config_init(&cfg);
		err[0] = '\0';
		int rc = bbt_config_load_ini(&cfg, path, err, sizeof err);
		ok(rc < 0 && strstr(err, bad[i].want) != NULL, "%s: %s", bad[i].what, err);
		bbt_config_release(&cfg);
		unlink(path);
		free(path);
	}

	/* What iniparser choked on or misread: a byte-order mark, a line longer
	 * than its 1024-byte buffer, quotes around a value. */
	bbt_config_init(&cfg);
	err[0] = '\0';
	ini = write_ini("bom.ini", "\xef\xbb\xbf[run]\r\nbudget = 5\r\ntask = toy\r\n");
	ok(bbt_config_load_ini(&cfg, ini, err, sizeof err) == BBT_OK && cfg.budget == 5 &&
	   strcmp(cfg.task, "toy") == 0,
	   "a UTF-8 byte-order mark is skipped, CRLF lines read (%s)", err);
	free(ini);
	char longtext[5000], longdir[1501];
	memset(longdir, 'd', sizeof longdir - 1);
	longdir[sizeof longdir - 1] = '\0';
	snprintf(longtext, sizeof longtext, "[run]\n; %03000d\ndata-dir = %s\nbudget = 6\n", 0,
	         longdir);
	ini = write_ini("long.ini", longtext);
	ok(bbt_config_load_ini(&cfg, ini, err, sizeof err) == BBT_OK &&
	   strcmp(cfg.data_dir, longdir) == 0 && cfg.budget == 6,
	   "lines longer than 1024 bytes are read whole (%s)", err);
	char want[BBT_ERRLEN];
	snprintf(want, sizeof want, "%s:4", ini);
	is_string(bbt_config_origin(&cfg, "budget"), want, "the origin of a setting names its line");
	free(ini);
	ini = write_ini("q.ini", "[RUN]\ntask = \"a;b\"  ; a comment\nloss = hinge # a comment\n"
	                         "model = 'x#y'\n");
	ok(bbt_config_load_ini(&cfg, ini, err, sizeof err) == BBT_OK &&
	   strcmp(cfg.task, "a;b") == 0 && strcmp(cfg.loss, "hinge") == 0 &&
	   strcmp(cfg.model, "x#y") == 0,
	   "quoted values keep ';' and '#'; comments after a value are dropped (%s)", err);
	is_string(bbt_config_origin(&cfg, "dim"), "default", "a setting nobody gave: default");
	snprintf(err, sizeof err, "task \"a;b\" not found");
	bbt_config_error_origin(&cfg, "task", err, sizeof err);
	snprintf(want, sizeof want, "%s:2: task \"a;b\" not found", ini);
	is_string(err, want, "a name from a file that leads nowhere: the message names FILE:LINE");
	free(ini);
	bbt_config_set(&cfg, "task", "b", "command line", NULL, 0);
	snprintf(err, sizeof err, "task \"b\" not found");
	bbt_config_error_origin(&cfg, "task", err, sizeof err);
	is_string(err, "task \"b\" not found", "from the command line: the message as it was");

	/* Names that become folders under --out: plain words only. */
	const char *bad_names[] = { "/", "..", "../..", ".", ".hidden", "a/b", "a b", "tab\there" };
	for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
		int rc = bbt_config_set(&cfg, "experiment", bad_names[i], "command line", err,
		                        sizeof err);
		ok(rc == BBT_EINVAL && strstr(err, "expected a plain word") != NULL,
		   "experiment '%s' refused: %s", bad_names[i], err);
	}
	ok(bbt_config_set(&cfg, "experiment", "abl-1.v2_X", "command line", err, sizeof err) ==
	           BBT_OK &&
	       bbt_config_set(&cfg, "experiment", "", "command line", err, sizeof err) == BBT_OK,
	   "a plain word, or empty (the task's name), is accepted");
	bbt_config_release(&cfg);

	rmdir(dir);
	return done_testing();
}
