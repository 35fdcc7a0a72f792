/*
 * t/template.c - templates, verbalizers, special tokens, prompt and mask
 * positions, truncation.
 */
#include "config.h"

#include <string.h>

#include "tap.h"
#include "data/template.h"
#include "core/util.h"

/* A word-level tokenizer: each whitespace-separated word gets an id from
 * 10 upwards in order of first sight; a leading space is recorded by
 * giving the word "_word" its own id, as byte-level BPE would. */
struct vocab {
	char words[64][32];
	int n;
};

static int32_t word_id(struct vocab *v, const char *w, size_t len)
{
	for (int i = 0; i < v->n; i++)
		if (strlen(v->words[i]) == len && strncmp(v->words[i], w, len) == 0)
			return 10 + i;
	snprintf(v->words[v->n], sizeof v->words[0], "%.*s", (int)len, w);
	return 10 + v->n++;
}

static int fake_tokenize(void *state, const char *text, int32_t *ids, size_t cap, size_t *n,
                         char *err, size_t errlen)
{
	struct vocab *v = state;
	size_t count = 0;
	const char *p = text;
	while (*p) {
		const char *start = p;
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		const char *w = p;
		while (*p && *p != ' ')
			p++;
		char buf[40];
		/* the first word keeps its leading space as "_" */
		snprintf(buf, sizeof buf, "%s%.*s", (start != w && start == text) ? "_" : "",
		         (int)(p - w), w);
		int32_t id = word_id(v, buf, strlen(buf));
		if (count < cap)
			ids[count] = id;
		count++;
	}
	*n = count;
	return 0;
}

static const struct bbt_backend_ops fake_ops = { .tokenize = fake_tokenize };

static const char *word_of(struct vocab *v, int32_t id)
{
	return id >= 10 && id - 10 < v->n ? v->words[id - 10] : "?";
}

/* The sequence as text, "[1] a b [3] . [2]", for readable assertions. */
static void render(struct vocab *v, const bbt_encoded_t *e, size_t i, char *out, size_t cap)
{
	out[0] = '\0';
	for (size_t k = e->offset[i]; k < e->offset[i + 1]; k++) {
		char w[48];
		int32_t id = e->ids[k];
		if (id < 10)
			snprintf(w, sizeof w, "[%d]", id);
		else
			snprintf(w, sizeof w, "%s", word_of(v, id));
		strncat(out, w, cap - strlen(out) - 2);
		if (k + 1 < e->offset[i + 1])
			strncat(out, " ", cap - strlen(out) - 1);
	}
}

int main(void)
{
	plan(33);
	char err[BBT_ERRLEN];
	struct vocab v = { .n = 0 };
	struct bbt_tokenizer tok = { &fake_ops, &v };

	char *fields1[] = { "sentence" };
	char *words1[] = { "bad", "great" };
	bbt_task_t task = { .name = "t", .path = "t.yaml", .n_fields = 1, .fields = fields1,
	                    .template_text = "{sentence} . It was {mask} .", .n_labels = 2,
	                    .label_words = words1 };
	bbt_template_t *tmpl = NULL;
	is_int(bbt_template_parse(&task, &tmpl, err, sizeof err), BBT_OK, "template parses");

	char *f0[] = { "a fine film " }, *f1[] = { "one two three four five six" };
	struct bbt_example ex[2] = { { f0, 1, 1 }, { f1, 0, 2 } };
	bbt_dataset_t ds = { .path = "mem", .n_fields = 1, .n = 2, .ex = ex };
	struct bbt_encode_params p = { .max_len = 64, .prompt_len = 5, .causal = 0,
	                               .bos_id = 1, .eos_id = 2, .mask_id = 3 };
	bbt_encoded_t *e = NULL;
	is_int(bbt_template_encode(tmpl, &tok, &p, &ds, &e, err, sizeof err), BBT_OK, "encodes");
	char s[256];
	render(&v, e, 0, s, sizeof s);
	is_string(s, "[1] a fine film _. It was [3] _. [2]", "masked LM sequence: specials, "
	          "trailing space of the field dropped, literal keeps its space");
	is_int((long long)e->prompt_pos[0], 1, "prompt goes after the first special token");
	is_int((long long)e->predict_pos[0], 7, "prediction at the mask");
	is_int(e->ids[e->offset[0] + e->predict_pos[0]], 3, "the id there is the mask id");
	is_int(e->labels[0], 1, "label carried");
	is_int((long long)e->n_truncated, 0, "nothing truncated");
	is_int((long long)e->max_seq_len, 13, "longest sequence length");
	bbt_encoded_free(e);

	/* Truncation: 64 positions minus a 53-token prompt leave 11; the
	 * second example needs 13 and loses two tokens from its end. */
	p.prompt_len = 53;
	is_int(bbt_template_encode(tmpl, &tok, &p, &ds, &e, err, sizeof err), BBT_OK,
	       "encodes with a long prompt");
	render(&v, e, 1, s, sizeof s);
	is_string(s, "[1] one two three four _. It was [3] _. [2]", "longest field cut at its end");
	is_int((long long)e->n_truncated, 1, "one example truncated");
	is_int((long long)e->tokens_dropped, 2, "two tokens dropped");
	is_int((long long)e->n_seq, 2, "no example dropped");
	bbt_encoded_free(e);

	p.prompt_len = 60;
	is_int(bbt_template_encode(tmpl, &tok, &p, &ds, &e, err, sizeof err), BBT_EINVAL,
	       "template alone too long is an error");
	like(err, "t.yaml: example 1: the template alone needs", "and says so");

	/* Causal: stop at the mask, predict at the last token, prompt first. */
	p = (struct bbt_encode_params){ .max_len = 64, .prompt_len = 5, .causal = 1,
	                                .bos_id = -1, .eos_id = -1, .mask_id = -1 };
	is_int(bbt_template_encode(tmpl, &tok, &p, &ds, &e, err, sizeof err), BBT_OK,
	       "causal encodes");
	render(&v, e, 0, s, sizeof s);
	is_string(s, "a fine film _. It was", "causal sequence ends before the mask");
	is_int((long long)e->prompt_pos[0], 0, "causal prompt at the start without BOS");
	is_int((long long)e->predict_pos[0], 5, "causal prediction at the last token");
	bbt_encoded_free(e);

	/* Two fields: the space before {sentence2} belongs to the field. */
	char *fields2[] = { "sentence1", "sentence2" };
	char *words2[] = { "Yes", "No" };
	bbt_task_t pair = { .name = "p", .path = "p.yaml", .n_fields = 2, .fields = fields2,
	                    .template_text = "{sentence1} ? {mask} , {sentence2}", .n_labels = 2,
	                    .label_words = words2 };
	bbt_template_t *t2 = NULL;
	is_int(bbt_template_parse(&pair, &t2, err, sizeof err), BBT_OK, "pair template parses");
	char *pf[] = { "it rains", "wet" };
	struct bbt_example pe = { pf, 0, 1 };
	bbt_dataset_t pds = { .path = "mem", .n_fields = 2, .n = 1, .ex = &pe };
	p = (struct bbt_encode_params){ .max_len = 64, .prompt_len = 0, .bos_id = 1, .eos_id = 2,
	                                .mask_id = 3 };
	bbt_template_encode(t2, &tok, &p, &pds, &e, err, sizeof err);
	render(&v, e, 0, s, sizeof s);
	is_string(s, "[1] it rains _? [3] _, _wet [2]", "second field tokenized with its space");
	bbt_encoded_free(e);

	int32_t ids[2];
	is_int(bbt_template_label_ids(&pair, &tok, ids, err, sizeof err), BBT_OK, "label ids");
	is_string(word_of(&v, ids[0]), "_Yes", "label word tokenized with a leading space");
	char *multi[] = { "very good", "bad" };
	pair.label_words = multi;
	is_int(bbt_template_label_ids(&pair, &tok, ids, err, sizeof err), BBT_EINVAL,
	       "multi-token label word refused");
	like(err, "p.yaml: label word \"very good\" is not one token", "naming the word");

	/* In-context learning: a demonstration with the label word at the mask,
	 * put before the query as a prefix after [CLS]. */
	int32_t *demo = NULL;
	size_t nd = 0, capd = 0;
	int32_t great = word_id(&v, "_great", 6);
	is_int(bbt_template_demonstration(tmpl, &tok, &ex[0], great, &demo, &nd, &capd, err,
	                                  sizeof err), BBT_OK, "demonstration renders");
	is_int((long long)nd, 8, "demonstration: items with the label word, no specials");
	p = (struct bbt_encode_params){ .max_len = 64, .prompt_len = 0, .bos_id = 1, .eos_id = 2,
	                                .mask_id = 3, .prefix = demo, .n_prefix = nd };
	bbt_template_encode(tmpl, &tok, &p, &ds, &e, err, sizeof err);
	render(&v, e, 0, s, sizeof s);
	is_string(s, "[1] a fine film _. It was _great _. a fine film _. It was [3] _. [2]",
	          "demonstration before the query");
	is_int((long long)e->predict_pos[0], 15, "prediction still at the query's mask");
	bbt_encoded_free(e);
	free(demo);

	/* Bad templates. */
	bbt_task_t bad = task;
	bad.template_text = "{sentence} . It was .";
	bbt_template_t *t3 = NULL;
	is_int(bbt_template_parse(&bad, &t3, err, sizeof err), BBT_EFORMAT, "no {mask} refused");
	bad.template_text = "{sentence} {mask} {mask}";
	is_int(bbt_template_parse(&bad, &t3, err, sizeof err), BBT_EFORMAT, "two masks refused");
	bad.template_text = "{sentnce} {mask}";
	bbt_template_parse(&bad, &t3, err, sizeof err);
	like(err, "field {sentnce} is not one of the task's fields", "unknown field named");

	bbt_template_free(t2);
	bbt_template_free(tmpl);
	return done_testing();
}
