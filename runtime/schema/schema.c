/* Placeholder until the generated model lands. */
#include "schema/schema.h"
