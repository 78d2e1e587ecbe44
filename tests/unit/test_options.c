/* The options: the one bounded number parser, and a stage's table (a number with
 * bounds, a word, a flag) through opt_parse(). */
#include <getopt.h>
#include <string.h>

#include "check.h"
#include "options.h"

static const struct {
	const char *text;
	long min, max;
	bool ok;
	long want;
} numbers[] = {
	{ "0", 0, 10, true, 0 },	{ "10", 0, 10, true, 10 },	{ "11", 0, 10, false, 0 },
	{ "-1", 0, 10, false, 0 },	{ "-1", -5, 5, true, -1 },	{ "", 0, 10, false, 0 },
	{ "7x", 0, 10, false, 0 },	{ " 7", 0, 10, true, 7 },	{ "7 ", 0, 10, false, 0 },
	{ "0x10", 0, 100, false, 0 },	{ "99999999999999999999", 0, 10, false, 0 },
	{ "abc", 0, 10, false, 0 },
};

static int count, word, flag;
static const char *const words[] = { "poll", "inotify", NULL };
static const struct stage_option table[] = {
	{ .name = "count", .value = &count, .min = 1, .max = 9, .usage = "" },
	{ .name = "word", .value = &word, .words = words, .usage = "" },
	{ .name = "flag", .value = &flag, .flag = true, .usage = "" },
	{ 0 }
};

static const struct {
	const char *name;
	const char *argv[4];
	enum opt_result want;
	int count, word, flag;
} lines[] = {
	{ "a number in bounds", { "--count=3" }, OPT_SERVE, 3, 0, 0 },
	{ "a number past its bound", { "--count", "10" }, OPT_USAGE, 0, 0, 0 },
	{ "a word, as its index", { "--word=inotify" }, OPT_SERVE, 0, 1, 0 },
	{ "a word not in the list", { "--word=epoll" }, OPT_USAGE, 0, 0, 0 },
	{ "a flag", { "--flag" }, OPT_SERVE, 0, 0, 1 },
	{ "a flag given a value", { "--flag=1" }, OPT_USAGE, 0, 0, 0 },
	{ "all three", { "--flag", "--count=9", "--word=poll" }, OPT_SERVE, 9, 0, 1 },
};

void test_options(void)
{
	for (size_t i = 0; i < sizeof numbers / sizeof *numbers; i++) {
		long got = -42;
		bool ok = opt_number(numbers[i].text, numbers[i].min, numbers[i].max, &got);
		check(ok == numbers[i].ok && (!ok || got == numbers[i].want), "opt_number", numbers[i].text,
		      "ok %d, got %ld", ok, got);
	}
	for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
		char *argv[6] = { "server" }, err[OPT_ERR_MAX] = "";
		int argc = 1;
		struct server srv = { .stage = "test" };
		for (int j = 0; j < 4 && lines[i].argv[j]; j++)
			argv[argc++] = (char *)lines[i].argv[j];
		count = word = flag = 0;
		optind = 1;	/* getopt_long() starts again at argv[1] */
		enum opt_result res = opt_parse(&srv, argc, argv, table, NULL, err);
		check(res == lines[i].want && (res != OPT_SERVE || (count == lines[i].count &&
		      word == lines[i].word && flag == lines[i].flag)), "opt_parse", lines[i].name,
		      "result %d, count %d, word %d, flag %d, err '%s'", (int)res, count, word, flag, err);
	}
}
