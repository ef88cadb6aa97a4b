/* Layer probe (tests/build/layers.sh): what a pure-C file may include. Must compile. */
#include "codec/precheck.h"
#include "codec/soap.h"
#include "codec/value.h"
#include "net/http.h"
#include "sandbox/server.h"
#include "schema/schema.h"
#include "schema/xsd.h"
#include "util/buffer.h"
#include "util/random.h"

int pl_layer_probe(void);
int pl_layer_probe(void)
{
    return PL_UUID_SIZE;
}
