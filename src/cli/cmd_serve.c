/*
 * cmd_serve.c - `bbtbench serve`: a backend and its model behind an HTTP
 * server (src/serve/server.h, doc/protocol.md), for `--backend http`.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/log.h"
#include "core/util.h"
#include "plugin/options.h"
#include "plugin/registry.h"
#ifdef BBT_HAVE_SERVE
#include "serve/server.h"
#endif

static void serve_usage(FILE *f)
{
	fprintf(f,
	        "Usage: bbtbench serve --model FILE.gguf [OPTIONS]\n"
	        "Serve a model over HTTP (doc/protocol.md): tune against it from elsewhere with\n"
	        "  bbtbench --backend http -O url=http://HOST:PORT [-O token_file=F] ...\n\n"
	        "  -m, --model FILE         the model file (GGUF)\n"
	        "  -b, --backend NAME       the backend that runs it [native]\n"
	        "  -O KEY=VALUE             an option of that backend (repeatable)\n"
	        "  -l, --listen HOST:PORT   address to listen on; port 0: any free one\n"
	        "                           [127.0.0.1:8080]; other than loopback only with\n"
	        "                           --token-file\n"
	        "      --token-file FILE    bearer tokens, one per line: every request but\n"
	        "                           /health must carry one (401 otherwise)\n"
	        "  -j, --threads N          backend instances scoring in parallel [1]\n"
	        "      --queue N            requests that may wait for one; more get 503 [16]\n"
	        "      --max-body BYTES     largest request body (413 beyond) [67108864]\n"
	        "      --max-batch N        sequences per score request [4096]\n"
	        "      --max-variants N     prompt variants per score request [1024]\n"
	        "      --max-seq-len N      positions per sequence, prompt included [the model's]\n"
	        "      --max-prompt-len N   continuous prompt vectors [the model's positions - 1]\n"
	        "      --idem-cache N       responses kept for Idempotency-Key retries [1024]\n"
	        "      --timeout SECONDS    close connections idle this long [60]\n"
	        "      --quota calls=N|tokens=N  a quota for each client (each token; the\n"
	        "                           anonymous one without --token-file): score calls,\n"
	        "                           or positions scored; spent: 429 (repeatable) [none]\n"
	        "      --seed N             the run seed the backend is opened with [42]\n"
	        "      --ready-file FILE    write the server's URL there once it listens\n"
	        "      --plugin-dir DIR     look for plugins in DIR first (repeatable)\n"
	        "  -q, --quiet              warnings and errors only\n"
	        "  -v, --verbose            debug messages (every refused request)\n"
	        "  -h, --help               this help\n\n"
	        "SIGTERM or SIGINT: finish the requests in flight, then exit 0.\n"
	        "GET /metrics gives Prometheus counters; GET /health, ok.\n");
}

#ifndef BBT_HAVE_SERVE
int bbt_cmd_serve(int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		serve_usage(stdout);
		printf("\nThis build has no serve: %s.\n", BBT_SERVE_SKIPPED);
		return BBT_EXIT_OK;
	}
	bbt_log(BBT_LOG_ERROR, NULL, "serve: not built: %s (then run configure again)",
	        BBT_SERVE_SKIPPED);
	return BBT_EXIT_USAGE;
}
#else

enum {
	OPT_TOKEN_FILE = BBT_CLI_OPT_PLUGIN_DIR + 1,
	OPT_QUEUE,
	OPT_MAX_BODY,
	OPT_MAX_BATCH,
	OPT_MAX_VARIANTS,
	OPT_MAX_SEQ_LEN,
	OPT_MAX_PROMPT_LEN,
	OPT_IDEM_CACHE,
	OPT_TIMEOUT,
	OPT_SEED,
	OPT_READY_FILE,
	OPT_QUOTA,
};

/* --quota calls=N or tokens=N. */
static int quota_arg(const char *arg, struct bbt_serve_params *p)
{
	const char *eq = strchr(arg, '=');
	long v;
	size_t kl = eq ? (size_t)(eq - arg) : 0;
	unsigned long long *q = kl == 5 && strncmp(arg, "calls", 5) == 0    ? &p->quota_calls
	                        : kl == 6 && strncmp(arg, "tokens", 6) == 0 ? &p->quota_tokens
	                                                                    : NULL;
	if (q == NULL || bbt_parse_long(eq + 1, &v) < 0 || v < 1) {
		bbt_log(BBT_LOG_ERROR, NULL, "serve: --quota %s: expected calls=N or tokens=N, N >= 1",
		        arg);
		return -1;
	}
	*q = (unsigned long long)v;
	return 0;
}

/* A count option: a whole number in [lo, hi]. */
static int count_arg(const char *name, const char *arg, long lo, long hi, size_t *out)
{
	long v;
	if (bbt_parse_long(arg, &v) < 0 || v < lo || v > hi) {
		bbt_log(BBT_LOG_ERROR, NULL, "serve: --%s %s: expected a whole number from %ld to %ld",
		        name, arg, lo, hi);
		return -1;
	}
	*out = (size_t)v;
	return 0;
}

int bbt_cmd_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "backend", required_argument, NULL, 'b' },
		{ "listen", required_argument, NULL, 'l' },
		{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
		{ "threads", required_argument, NULL, 'j' },
		{ "queue", required_argument, NULL, OPT_QUEUE },
		{ "max-body", required_argument, NULL, OPT_MAX_BODY },
		{ "max-batch", required_argument, NULL, OPT_MAX_BATCH },
		{ "max-variants", required_argument, NULL, OPT_MAX_VARIANTS },
		{ "max-seq-len", required_argument, NULL, OPT_MAX_SEQ_LEN },
		{ "max-prompt-len", required_argument, NULL, OPT_MAX_PROMPT_LEN },
		{ "idem-cache", required_argument, NULL, OPT_IDEM_CACHE },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "ready-file", required_argument, NULL, OPT_READY_FILE },
		{ "quota", required_argument, NULL, OPT_QUOTA },
		BBT_CLI_COMMON_LONGOPTS,
		{ 0 },
	};
	struct bbt_serve_params p = bbt_serve_default_params();
	struct bbt_cli_common common = { 0 };
	bbt_kvlist_t given = { 0 };
	const char *model = NULL, *backend = "native";
	size_t n = 0, seed = 42;
	int opt, bad = 0;
	optind = 1;
	opterr = 0;
	while (!bad && (opt = getopt_long(argc, argv, ":m:b:l:j:O:qvh", longopts, NULL)) != -1) {
		int shared = bbt_cli_common_option(&common, opt, optarg);
		if (shared != 0) {
			bad = shared < 0;
			continue;
		}
		switch (opt) {
		case 'm': model = optarg; break;
		case 'b': backend = optarg; break;
		case 'l': p.listen = optarg; break;
		case OPT_TOKEN_FILE: p.token_file = optarg; break;
		case OPT_READY_FILE: p.ready_file = optarg; break;
		case OPT_QUOTA: bad = quota_arg(optarg, &p); break;
		case 'j': bad = count_arg("threads", optarg, 1, 256, &p.threads); break;
		case OPT_QUEUE: bad = count_arg("queue", optarg, 0, 1 << 16, &p.queue); break;
		case OPT_MAX_BODY:
			bad = count_arg("max-body", optarg, 1024, 1L << 34, &p.limits.max_body);
			break;
		case OPT_MAX_BATCH:
			bad = count_arg("max-batch", optarg, 1, 1 << 24, &p.limits.max_batch);
			break;
		case OPT_MAX_VARIANTS:
			bad = count_arg("max-variants", optarg, 1, 1 << 20, &p.limits.max_variants);
			break;
		case OPT_MAX_SEQ_LEN:
			bad = count_arg("max-seq-len", optarg, 1, 1 << 24, &p.limits.max_seq_len);
			break;
		case OPT_MAX_PROMPT_LEN:
			bad = count_arg("max-prompt-len", optarg, 1, 1 << 24, &p.limits.max_prompt_len);
			break;
		case OPT_IDEM_CACHE: bad = count_arg("idem-cache", optarg, 0, 1 << 24, &p.idem_entries); break;
		case OPT_TIMEOUT:
			bad = count_arg("timeout", optarg, 1, 86400, &n);
			p.timeout_s = (unsigned)n;
			break;
		case OPT_SEED: bad = count_arg("seed", optarg, 0, 2147483647L, &seed); break;
		case 'O': {
			const char *eq = strchr(optarg, '=');
			if (eq == NULL || eq == optarg) {
				bbt_log(BBT_LOG_ERROR, NULL, "serve: -O %s: expected KEY=VALUE", optarg);
				bad = 1;
				break;
			}
			char *key = bbt_strndup(optarg, (size_t)(eq - optarg));
			bad = key == NULL || bbt_kvlist_set(&given, key, eq + 1, "command line") < 0;
			free(key);
			break;
		}
		case 'h':
			serve_usage(stdout);
			bbt_kvlist_clear(&given);
			return BBT_EXIT_OK;
		default:   /* ':' a value missing, '?' an unknown option */
			bbt_cli_option_error("serve", opt, argv[optind - 1], longopts);
			bad = 1;
		}
	}
	if (!bad && optind < argc) {
		bbt_log(BBT_LOG_ERROR, NULL, "serve: unexpected argument '%s'; see bbtbench serve --help",
		        argv[optind]);
		bad = 1;
	}
	if (bad) {
		bbt_kvlist_clear(&given);
		return BBT_EXIT_USAGE;
	}

	char err[BBT_ERRLEN];
	int rc = BBT_OK;
	bbt_options_t *opts = NULL;
	bbt_registry_t *reg = bbt_cli_open_registry(&common);
	if (reg == NULL) {
		bbt_kvlist_clear(&given);
		return BBT_EXIT_FAILED;
	}
	bbt_registry_warn_problems(reg);
	const struct bbt_plugin_entry *e = bbt_registry_find(reg, BBT_PLUGIN_BACKEND, backend, err,
	                                                     sizeof err);
	if (e == NULL)
		rc = BBT_ENOTFOUND;
	else if (strcmp(e->desc->name, "http") == 0)
		rc = bbt_error(err, sizeof err, BBT_EINVAL,
		               "the http backend cannot be served (it is the client of a server)");
	if (rc == BBT_OK)
		rc = bbt_options_resolve(e->desc->options, e->desc->name, &given, &opts, err, sizeof err);
	if (rc == BBT_OK) {
		struct bbt_serve_backend b = { e->desc, opts, model, (uint64_t)seed };
		rc = bbt_serve_run(&p, &b, err, sizeof err);
	}
	if (rc < 0)
		bbt_log(BBT_LOG_ERROR, NULL, "serve: %s", err);
	bbt_options_free(opts);
	bbt_kvlist_clear(&given);
	bbt_registry_free(reg);
	return bbt_exit_code(rc);
}
#endif /* BBT_HAVE_SERVE */
