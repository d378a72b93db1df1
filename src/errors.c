/* errors.c: the one table of error sentences behind sc_strerror(). */
#include "shotclock.h"

/* Indexed by -code, so the table and the enum in shotclock.h read in the same order. */
static const char *const error_sentences[] = {
    [-SC_OK] = "success",
    [-SC_ENOMEM] = "out of memory",
    [-SC_EINVAL] = "invalid argument",
    [-SC_EIO] = "reading or writing a file failed",
    [-SC_EPARSE] = "text could not be parsed",
    [-SC_ENOTFOUND] = "a command, file or field does not exist",
    [-SC_ESPAWN] = "a process could not be started",
    [-SC_EUNAVAILABLE] = "the figure cannot be measured on this system",
    [-SC_ECOMMAND] = "the profiled command failed (non-zero exit, signal or timeout)",
    [-SC_ENOEXEC] = "the command exists but cannot be executed (permissions or format)",
};

const char *sc_strerror(int err)
{
	/* Codes are 0 or negative; comparing before negating keeps INT_MIN from overflowing. */
	if (err > 0 || err < -(int)(sizeof error_sentences / sizeof error_sentences[0] - 1))
		return "unknown error";
	return error_sentences[-err];
}
