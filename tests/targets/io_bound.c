/* io_bound.c: `io_bound DIR N` writes N blocks of 4 KiB to a scratch file in DIR, each followed by
 * fsync(2): the process waits for the disk after every block (not for a timer: sleeping is not
 * I/O), so it is I/O-bound by construction, with storage writes and a blocking wait per block. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char *end;
	long n = argc == 3 ? strtol(argv[2], &end, 10) : -1;
	if (argc != 3 || n < 0 || *end) {
		fputs("usage: io_bound DIR N\n", stderr);
		return 2;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/io_bound.%ld", argv[1], (long)getpid());
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		perror("io_bound: open");
		return 1;
	}
	char block[4096];
	memset(block, 0x5a, sizeof block);
	int rc = 0;
	for (long i = 0; i < n && rc == 0; i++) {
		if (write(fd, block, sizeof block) != (ssize_t)sizeof block || fsync(fd) != 0) {
			perror("io_bound: write");
			rc = 1;
		}
	}
	close(fd);
	unlink(path);
	return rc;
}
