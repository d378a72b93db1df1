/* print_args.c: prints each argument (argv[1..]) on its own line, byte for byte. */
#include <stdio.h>

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		fputs(argv[i], stdout);
		fputc('\n', stdout);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
