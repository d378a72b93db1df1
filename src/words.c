/* words.c: splitting a command line into words as a POSIX shell does, expanding nothing. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The words being built: one growing buffer for the current word, one list of finished ones. */
typedef struct splitter {
	char **words;
	size_t n;
	size_t cap;
	char *word;
	size_t len;
	size_t word_cap;
	bool in_word; /* a word has started, even if it is still empty ('' is a word) */
} splitter;

static int put_char(splitter *s, char c)
{
	if (s->len + 1 >= s->word_cap) {
		size_t cap = s->word_cap ? 2 * s->word_cap : 32;
		char *grown = realloc(s->word, cap);
		if (!grown)
			return SC_ENOMEM;
		s->word = grown;
		s->word_cap = cap;
	}
	s->word[s->len++] = c;
	s->in_word = true;
	return 0;
}

static int end_word(splitter *s)
{
	if (!s->in_word)
		return 0;
	if (s->n + 2 > s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		char **grown = realloc(s->words, cap * sizeof *grown);
		if (!grown)
			return SC_ENOMEM;
		s->words = grown;
		s->cap = cap;
	}
	char *w = malloc(s->len + 1);
	if (!w)
		return SC_ENOMEM;
	memcpy(w, s->word, s->len);
	w[s->len] = '\0';
	s->words[s->n++] = w;
	s->words[s->n] = NULL;
	s->len = 0;
	s->in_word = false;
	return 0;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* Inside double quotes a backslash is special only before these (POSIX 2.2.3). */
static bool escapable_in_double(char c)
{
	return c == '$' || c == '`' || c == '"' || c == '\\' || c == '\n';
}

static int parse_error(char *err, size_t cap, const char *what, size_t pos)
{
	if (err && cap)
		snprintf(err, cap, "%s at position %zu", what, pos + 1);
	return SC_EPARSE;
}

/* The state machine over text: 0, SC_ENOMEM, or SC_EPARSE with err filled. */
static int split(splitter *s, const char *text, char *err, size_t cap)
{
	int rc = 0;
	for (size_t i = 0; text[i] && !rc; i++) {
		char c = text[i];
		if (blank(c)) {
			rc = end_word(s);
		} else if (c == '\\') {
			if (!text[i + 1])
				return parse_error(err, cap, "backslash at the end", i);
			if (text[++i] != '\n')
				rc = put_char(s, text[i]);
		} else if (c == '\'') {
			size_t open = i;
			s->in_word = true;
			for (i++; text[i] && text[i] != '\'' && !rc; i++)
				rc = put_char(s, text[i]);
			if (!rc && !text[i])
				return parse_error(err, cap, "unterminated single quote opened",
				                   open);
		} else if (c == '"') {
			size_t open = i;
			s->in_word = true;
			for (i++; text[i] && text[i] != '"' && !rc; i++) {
				if (text[i] == '\\' && text[i + 1] &&
				    escapable_in_double(text[i + 1])) {
					if (text[++i] == '\n')
						continue; /* a line continuation, even in quotes */
				}
				rc = put_char(s, text[i]);
			}
			if (!rc && !text[i])
				return parse_error(err, cap, "unterminated double quote opened",
				                   open);
		} else {
			rc = put_char(s, c);
		}
	}
	return rc ? rc : end_word(s);
}

int sc_split_words(const char *text, char ***words, size_t *n, char *err, size_t err_cap)
{
	if (!text || !words || !n)
		return SC_EINVAL;
	*words = NULL;
	*n = 0;
	if (err && err_cap)
		err[0] = '\0';
	splitter s = {0};
	int rc = split(&s, text, err, err_cap);
	/* Even no word at all is an empty list, so that the result is always an argv. */
	if (!rc && !s.words && !(s.words = calloc(1, sizeof *s.words)))
		rc = SC_ENOMEM;
	free(s.word);
	if (rc) {
		if (rc == SC_ENOMEM && err && err_cap)
			snprintf(err, err_cap, "%s", sc_strerror(rc));
		if (s.words)
			s.words[s.n] = NULL;
		sc_words_free(s.words);
		return rc;
	}
	*words = s.words;
	*n = s.n;
	return 0;
}

void sc_words_free(char **words)
{
	if (!words)
		return;
	for (char **w = words; *w; w++)
		free(*w);
	free(words);
}
