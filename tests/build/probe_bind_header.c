/* Layer probe (tests/build/layers.sh): a pure-C file including the binding layer. Must not
 * compile. */
#include "bind/errors.h"

int pl_layer_probe(void);
int pl_layer_probe(void)
{
    return 0;
}
