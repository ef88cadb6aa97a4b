/* performlua: the command line lives in runtime/cli/ (cli.c: options and running scripts,
 * repl.c: the interactive loop). */
#include "cli/cli.h"

int main(int argc, char **argv)
{
    return pl_cli_main(argc, argv);
}
